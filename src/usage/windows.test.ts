import { describe, expect, it } from 'vitest';
import { daysSoFar, dayKey, monthKey, nextDay, nextMonth, startOfDay, startOfMonth } from './windows.js';

describe('UTC windows', () => {
  it.each([
    {
      name: 'mid-month',
      at: '2026-11-05T13:45:00Z',
      month: '2026-11',
      day: '2026-11-05',
      next: '2026-11-06',
      nextM: '2026-12-01',
      days: 5,
    },
    {
      name: 'last millisecond of a year',
      at: '2026-12-31T23:59:59.999Z',
      month: '2026-12',
      day: '2026-12-31',
      next: '2027-01-01',
      nextM: '2027-01-01',
      days: 31,
    },
    {
      name: 'first instant of a month',
      at: '2026-03-01T00:00:00Z',
      month: '2026-03',
      day: '2026-03-01',
      next: '2026-03-02',
      nextM: '2026-04-01',
      days: 1,
    },
    {
      name: 'leap day',
      at: '2028-02-29T10:00:00Z',
      month: '2028-02',
      day: '2028-02-29',
      next: '2028-03-01',
      nextM: '2028-03-01',
      days: 29,
    },
  ])('$name', ({ at, month, day, next, nextM, days }) => {
    const d = new Date(at);
    expect(monthKey(d)).toBe(month);
    expect(dayKey(d)).toBe(day);
    expect(startOfDay(d).toISOString()).toBe(`${day}T00:00:00.000Z`);
    expect(nextDay(d).toISOString()).toBe(`${next}T00:00:00.000Z`);
    expect(startOfMonth(d).toISOString()).toBe(`${month}-01T00:00:00.000Z`);
    expect(nextMonth(d).toISOString()).toBe(`${nextM}T00:00:00.000Z`);
    expect(daysSoFar(d)).toBe(days);
  });
});
