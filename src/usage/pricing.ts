/**
 * Cost from the operator's price table (USD per 1,000 input and output tokens). Amounts are kept
 * as whole micro-dollars so sums over many models and tenants do not drift the way binary
 * floating point does, and shown as decimal strings with {@link COST_DECIMALS} places.
 */

/** Decimal places of every costUSD string (micro-dollars: four Haiku input tokens show). */
export const COST_DECIMALS = 6;
const SCALE = 10 ** COST_DECIMALS;

/** A model's prices, as configured. */
export interface ModelPrice {
  inputPricePer1k: number;
  outputPricePer1k: number;
}

/** Cost of the given tokens in micro-dollars (rounded half up). */
export function costMicros(inputTokens: number, outputTokens: number, price: ModelPrice): number {
  // Per-token prices are tiny; multiply before dividing so a price like 0.00025 stays exact enough.
  const dollars = (inputTokens * price.inputPricePer1k + outputTokens * price.outputPricePer1k) / 1000;
  return Math.round(dollars * SCALE);
}

/** Micro-dollars as a fixed-decimal string, e.g. 1234567 -> `1.234567`. */
export function formatMicros(micros: number): string {
  const sign = micros < 0 ? '-' : '';
  const abs = Math.abs(Math.round(micros));
  const whole = Math.floor(abs / SCALE);
  const frac = String(abs % SCALE).padStart(COST_DECIMALS, '0');
  return `${sign}${whole}.${frac}`;
}

/** Parses a costUSD string back to micro-dollars; anything unparseable counts as 0. */
export function parseMicros(cost: string | undefined): number {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(cost ?? '');
  if (!m) return 0;
  const frac = (m[3] ?? '').padEnd(COST_DECIMALS, '0').slice(0, COST_DECIMALS);
  const v = Number(m[2]) * SCALE + Number(frac);
  return m[1] === '-' ? -v : v;
}

/** Cost of the given tokens as a costUSD string. */
export function costUSD(inputTokens: number, outputTokens: number, price: ModelPrice): string {
  return formatMicros(costMicros(inputTokens, outputTokens, price));
}
