/** AWS clients for tests, pointed at the emulators with dummy credentials. */
import { RateBudgets } from '../../src/adapters/aws/budgets.js';
import { type AwsClients, createAwsClients } from '../../src/adapters/aws/clients.js';
import { systemClock } from '../../src/runtime/clock.js';
import type { Moto } from './moto.js';

/**
 * Clients as the operator builds them, reaching `moto`, and through `more` (e.g. ministack's and
 * the fakes' `env`, or a TestCluster's `awsEnv`) the services routed elsewhere.
 */
export function clientsFor(moto: Moto, ...more: { env: Record<string, string> }[]): AwsClients {
  for (const env of [moto.env, ...more.map((m) => m.env)]) for (const [k, v] of Object.entries(env)) process.env[k] = v;
  return createAwsClients({ region: 'us-east-1', s3ForcePathStyle: true, maxAttempts: 3, budgets: new RateBudgets(systemClock) });
}
