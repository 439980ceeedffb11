/**
 * Runs the workers of an operator on the leader only: started when leadership is won, halted at
 * once when it is lost (another instance may already be acting), and on a graceful stop drained,
 * the lease released and everything closed, in that order.
 */
import type { LeaderElector } from './leader.js';

/** What leadership starts and stops. */
export interface Workers {
  /** Starts the controllers and their background loops. */
  start(): void;
  /** Stops at once: no new pass starts and in-flight passes see their signal aborted. */
  halt(): void;
  /** Finishes in-flight passes and stops. */
  stop(): Promise<void>;
  /** Closes what outlives the workers (informers, endpoints). */
  close(): Promise<void>;
}

/** How leadership is reported (the leader gauge). */
export type LeadingGauge = (leading: boolean) => void;

/** A running operator's stop handles. */
export interface Leadership {
  /** Resolves with an exit code when the operator stops by itself (1: lost leadership). */
  stopped: Promise<number>;
  /** Graceful stop: drain, release the lease, close. */
  stop(): Promise<void>;
}

/** Runs `workers` while `elector` leads, or at once without an elector (leader election off). */
export function runWhileLeading(elector: LeaderElector | undefined, workers: Workers, leading: LeadingGauge): Leadership {
  let resolveStopped: (code: number) => void = () => undefined;
  const stopped = new Promise<number>((r) => {
    resolveStopped = r;
  });
  if (elector) {
    elector.run({
      onStartedLeading: () => {
        leading(true);
        workers.start();
      },
      onStoppedLeading: () => {
        leading(false);
        workers.halt();
        resolveStopped(1);
      },
    });
  } else {
    workers.start();
  }
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await workers.stop();
      await elector?.shutdown();
      leading(false);
      await workers.close();
      resolveStopped(0);
    })();
    return stopping;
  };
  return { stopped, stop };
}
