import { describe, expect, it } from 'vitest';
import { UsageBook, currentGatewayTokens, currentTokens } from './book.js';

const reading = { month: '2026-11', day: '2026-11-05', monthInput: 300, monthOutput: 30, dayInput: 100, dayOutput: 10 };
const readAt = new Date('2026-11-05T23:00:00Z');

describe('UsageBook', () => {
  it('reports a change only when the numbers move', () => {
    const book = new UsageBook();
    expect(book.set('a', reading, readAt)).toBe(true);
    expect(book.set('a', { ...reading, monthInput: 300.4 }, new Date())).toBe(false);
    expect(book.set('a', { ...reading, dayInput: 101 }, new Date())).toBe(true);
    book.retain(new Set());
    expect(book.get('a')).toBeUndefined();
  });
});

describe("UsageBook: the gateway's counters", () => {
  const g = (dayTokens: number, readAt: string) => ({
    month: '2026-11',
    day: '2026-11-05',
    dayTokens,
    monthTokens: dayTokens,
    readAt: new Date(readAt),
  });
  it('reports a change when the numbers move, ignores an older reading, and forgets with the profile', () => {
    const book = new UsageBook();
    expect(book.setGateway('a', g(10, '2026-11-05T10:00:00Z'))).toBe(true);
    expect(book.setGateway('a', g(10, '2026-11-05T10:00:10Z'))).toBe(false);
    expect(book.setGateway('a', g(5, '2026-11-05T09:59:00Z'))).toBe(false);
    expect(book.getGateway('a')?.dayTokens).toBe(10);
    expect(book.setGateway('a', g(12, '2026-11-05T10:00:20Z'))).toBe(true);
    book.retain(new Set());
    expect(book.getGateway('a')).toBeUndefined();
  });

  it('a CloudWatch reading whose gateway counters at read moved is a change, and keeps them', () => {
    const book = new UsageBook();
    book.set('a', reading, readAt, g(100, '2026-11-05T23:00:01Z'));
    expect(book.set('a', reading, readAt, g(100, '2026-11-05T23:05:01Z'))).toBe(false);
    expect(book.set('a', reading, readAt, g(150, '2026-11-05T23:10:01Z'))).toBe(true);
    expect(book.get('a')?.gatewayAtRead?.dayTokens).toBe(150);
  });

  it('counts nothing of an earlier day or month', () => {
    expect(currentGatewayTokens(g(10, '2026-11-05T23:59:00Z'), new Date('2026-11-06T00:00:01Z'))).toMatchObject({
      dayTokens: 0,
      monthTokens: 10,
    });
    expect(currentGatewayTokens(g(10, '2026-11-05T23:59:00Z'), new Date('2026-12-01T00:00:01Z'))).toMatchObject({
      dayTokens: 0,
      monthTokens: 0,
    });
  });
});

describe('currentTokens', () => {
  const stored = { ...reading, readAt };
  it.each([
    { name: 'same day: all of it', at: '2026-11-05T23:30:00Z', day: 110, month: 330 },
    { name: 'next UTC day before the next poll: the day starts at zero', at: '2026-11-06T00:00:01Z', day: 0, month: 330 },
    { name: 'next month: everything starts at zero', at: '2026-12-01T00:00:00Z', day: 0, month: 0 },
  ])('$name', ({ at, day, month }) => {
    const t = currentTokens(stored, new Date(at));
    expect(t.dayInput + t.dayOutput).toBe(day);
    expect(t.monthInput + t.monthOutput).toBe(month);
  });

  it('nothing read yet is zero with no read time', () => {
    expect(currentTokens(undefined, readAt)).toEqual({
      month: '2026-11',
      day: '2026-11-05',
      monthInput: 0,
      monthOutput: 0,
      dayInput: 0,
      dayOutput: 0,
    });
  });
});
