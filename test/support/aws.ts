/** AWS clients for tests, pointed at an emulator with dummy credentials. */
import { RateBudgets } from '../../src/adapters/aws/budgets.js';
import { type AwsClients, createAwsClients } from '../../src/adapters/aws/clients.js';
import { systemClock } from '../../src/runtime/clock.js';
import type { Moto } from './moto.js';

/** Clients as the operator builds them, reaching `moto`. */
export function clientsFor(moto: Moto): AwsClients {
  for (const [k, v] of Object.entries(moto.env)) process.env[k] = v;
  return createAwsClients({ region: 'us-east-1', s3ForcePathStyle: true, maxAttempts: 3, budgets: new RateBudgets(systemClock) });
}
