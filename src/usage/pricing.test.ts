import { describe, expect, it } from 'vitest';
import { costMicros, costUSD, formatMicros, parseMicros } from './pricing.js';

const sonnet = { inputPricePer1k: 0.003, outputPricePer1k: 0.015 };
const haiku = { inputPricePer1k: 0.00025, outputPricePer1k: 0.00125 };

describe('pricing', () => {
  it.each([
    { name: 'nothing used costs nothing', input: 0, output: 0, price: sonnet, cost: '0.000000' },
    { name: '1,000 input and 1,000 output tokens of Sonnet', input: 1000, output: 1000, price: sonnet, cost: '0.018000' },
    { name: 'a million Sonnet tokens each way', input: 1_000_000, output: 1_000_000, price: sonnet, cost: '18.000000' },
    { name: 'a single Haiku input token rounds to nothing', input: 1, output: 0, price: haiku, cost: '0.000000' },
    { name: 'four Haiku input tokens round to a micro-dollar', input: 4, output: 0, price: haiku, cost: '0.000001' },
    { name: 'a billion Haiku tokens', input: 1_000_000_000, output: 0, price: haiku, cost: '250.000000' },
  ])('$name', ({ input, output, price, cost }) => {
    expect(costUSD(input, output, price)).toBe(cost);
  });

  it('sums exactly in micro-dollars where floats would drift', () => {
    const parts = Array.from({ length: 10 }, () => costMicros(100, 0, { inputPricePer1k: 0.001, outputPricePer1k: 0 }));
    expect(formatMicros(parts.reduce((a, b) => a + b, 0))).toBe('0.001000');
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(formatMicros(parseMicros('0.100000') + parseMicros('0.200000'))).toBe('0.300000');
  });

  it('parses what it formats, and short or odd strings', () => {
    expect(parseMicros(formatMicros(123_456_789))).toBe(123_456_789);
    expect(parseMicros('1.5')).toBe(1_500_000);
    expect(parseMicros('7')).toBe(7_000_000);
    expect(parseMicros('garbage')).toBe(0);
    expect(parseMicros(undefined)).toBe(0);
  });
});
