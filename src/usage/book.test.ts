import { describe, expect, it } from 'vitest';
import { UsageBook, currentTokens } from './book.js';

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
