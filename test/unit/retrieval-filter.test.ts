import { describe, expect, it } from 'vitest';
import { AwsError } from '../support/fakes/http.js';
import { matchesFilter, type RetrievalFilter, validateFilter } from '../support/fakes/retrieval-filter.js';

const doc = { tenantId: 'acme', year: 2024, dept: 'finance', tags: ['a', 'b'], title: 'Quarterly report' };
const attr = (op: string, key: string, value: unknown): RetrievalFilter => ({ [op]: { key, value } });

describe('retrieval filter evaluation', () => {
  const cases: [string, RetrievalFilter, boolean][] = [
    ['equals matches the same value', attr('equals', 'tenantId', 'acme'), true],
    ['equals refuses another value', attr('equals', 'tenantId', 'globex'), false],
    ['equals refuses an absent key', attr('equals', 'missing', 'acme'), false],
    ['equals does not coerce types', attr('equals', 'year', '2024'), false],
    ['notEquals matches another value', attr('notEquals', 'tenantId', 'globex'), true],
    ['notEquals refuses the same value', attr('notEquals', 'tenantId', 'acme'), false],
    ['notEquals matches an absent key (documented)', attr('notEquals', 'missing', 'x'), true],
    ['greaterThan is strict', attr('greaterThan', 'year', 2024), false],
    ['greaterThanOrEquals includes the bound', attr('greaterThanOrEquals', 'year', 2024), true],
    ['lessThan is strict', attr('lessThan', 'year', 2024), false],
    ['lessThanOrEquals includes the bound', attr('lessThanOrEquals', 'year', 2024), true],
    ['comparisons need a number attribute', attr('greaterThan', 'dept', 1), false],
    ['in matches a member', attr('in', 'dept', ['legal', 'finance']), true],
    ['in refuses a non-member', attr('in', 'dept', ['legal']), false],
    ['notIn refuses a member', attr('notIn', 'dept', ['finance']), false],
    ['notIn matches an absent key', attr('notIn', 'missing', ['x']), true],
    ['startsWith matches a prefix', attr('startsWith', 'title', 'Quarter'), true],
    ['startsWith refuses a non-prefix', attr('startsWith', 'title', 'report'), false],
    ['stringContains matches a substring', attr('stringContains', 'title', 'report'), true],
    ['stringContains looks into string lists', attr('stringContains', 'tags', 'b'), true],
    ['listContains matches a list member', attr('listContains', 'tags', 'a'), true],
    ['listContains refuses a scalar attribute', attr('listContains', 'dept', 'finance'), false],
    ['andAll needs every filter', { andAll: [attr('equals', 'tenantId', 'acme'), attr('equals', 'dept', 'legal')] }, false],
    ['orAll needs one filter', { orAll: [attr('equals', 'tenantId', 'globex'), attr('equals', 'dept', 'finance')] }, true],
    [
      'nested: andAll of an equals and an orAll',
      { andAll: [attr('equals', 'tenantId', 'acme'), { orAll: [attr('in', 'dept', ['x']), attr('greaterThan', 'year', 2000)] }] },
      true,
    ],
  ];
  it.each(cases)('%s', (_why, f, want) => {
    validateFilter(f);
    expect(matchesFilter(f, doc)).toBe(want);
  });
});

describe('retrieval filter validation refuses what Bedrock refuses', () => {
  const bad: [string, unknown][] = [
    ['two operators in one filter (a union)', { equals: { key: 'a', value: 1 }, notEquals: { key: 'b', value: 2 } }],
    ['no operator', {}],
    ['an unknown operator', { like: { key: 'a', value: 'b' } }],
    ['andAll of one filter', { andAll: [attr('equals', 'a', 1)] }],
    ['orAll that is not a list', { orAll: attr('equals', 'a', 1) }],
    ['an empty key', attr('equals', '', 1)],
    ['a key over 100 characters', attr('equals', 'k'.repeat(101), 1)],
    ['a missing value', { equals: { key: 'a' } }],
    ['in with a scalar', attr('in', 'a', 'x')],
    ['startsWith with a number', attr('startsWith', 'a', 1)],
    ['greaterThan with a string', attr('greaterThan', 'a', '1')],
    ['a nested bad filter', { andAll: [attr('equals', 'a', 1), { orAll: [] }] }],
    ['not an object', 'tenantId=acme'],
  ];
  it.each(bad)('%s', (_why, f) => {
    expect(() => validateFilter(f)).toThrow(AwsError);
    try {
      validateFilter(f);
    } catch (e) {
      expect((e as AwsError).type).toBe('ValidationException');
    }
  });
});
