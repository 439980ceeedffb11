/** Composition root: parse config once, build the operator, handle signals. */
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { ConfigError, parseConfig } from './config.js';
import { startOperator } from './operator.js';

async function main(): Promise<number> {
  let config;
  try {
    config = parseConfig(process.argv.slice(2), process.env, (p) => readFileSync(p, 'utf8'));
  } catch (e) {
    // ConfigError: a bad setting; TypeError with a code: a flag util.parseArgs does not know.
    if (e instanceof ConfigError || (e instanceof TypeError && 'code' in e)) {
      process.stderr.write(`tenant-rag-operator: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const logger = pino({ level: config.logLevel, base: { identity: config.identity } });
  logger.info({ clusterName: config.clusterName, region: config.region, leaderElection: config.leaderElection.enabled }, 'starting');
  const operator = await startOperator(config, logger);
  const graceMs = config.shutdownGraceSeconds * 1000;
  // Whatever stops the operator, a hung call must not keep the process alive past the grace period.
  const armGrace = (): void => {
    setTimeout(() => {
      logger.error('shutdown grace period over; exiting');
      process.exit(1);
    }, graceMs).unref();
  };
  const onSignal = (signal: string): void => {
    logger.info({ signal }, 'shutting down: finishing in-flight passes');
    armGrace();
    void operator.stop();
  };
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  process.once('SIGINT', () => onSignal('SIGINT'));
  const code = await operator.stopped;
  if (code !== 0) {
    logger.error('lost leadership; stopping so a fresh instance can campaign again');
    armGrace();
    await operator.stop();
  }
  logger.info({ code }, 'stopped');
  return code;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`tenant-rag-operator: fatal: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  },
);
