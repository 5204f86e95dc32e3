import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { coerceQuery } from '../../src/api/coerce.ts';
import { parseQuery } from '../../src/api/query.ts';

describe('parseQuery reads query strings as the Seam SDK serializer writes them', () => {
  const cases: [string, string, unknown][] = [
    ['plain keys', 'a=1&b=x', { a: '1', b: 'x' }],
    ['repeated keys become arrays', 'ids=a&ids=b&ids=c', { ids: ['a', 'b', 'c'] }],
    ['_strict is dropped', 'a=1&_strict=true', { a: '1' }],
    [
      'dotted keys become nested objects',
      'custom_metadata_has.foo=bar&custom_metadata_has.n=1',
      { custom_metadata_has: { foo: 'bar', n: '1' } },
    ],
    ['empty values stay empty strings', 'ids=', { ids: '' }],
    ['percent-encoding is decoded', 'search=50%25%20off', { search: '50% off' }],
    ['prototype keys are ignored', '__proto__.x=1&constructor.y=2&a.__proto__=3', {}],
    ['empty path segments are ignored', '.a=1&a..b=2', {}],
  ];
  for (const [name, raw, expected] of cases) {
    it(name, () => assert.deepEqual(parseQuery(raw), expected));
  }
  it('does not pollute Object.prototype', () => {
    parseQuery('__proto__.polluted=yes');
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });
});

describe('coerceQuery turns query strings into the types the route schema wants', () => {
  const schema = z.strictObject({
    flag: z.boolean().optional(),
    limit: z.number().int().default(5),
    ids: z.array(z.string()).optional(),
    cursor: z.string().nullable().optional(),
    nested: z.object({ on: z.boolean() }).optional(),
    either: z.union([z.number(), z.string()]).optional(),
  });
  const cases: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['booleans', { flag: 'true' }, { flag: true }],
    ['false', { flag: 'false' }, { flag: false }],
    ['numbers', { limit: '10' }, { limit: 10 }],
    ['one value for an array field is a one-element array', { ids: 'a' }, { ids: ['a'] }],
    ['an empty value for an array field is the empty array', { ids: '' }, { ids: [] }],
    ['an empty value for a nullable field is null', { cursor: '' }, { cursor: null }],
    ['nested objects', { nested: { on: 'true' } }, { nested: { on: true } }],
    ['unions take the first option that fits', { either: '12' }, { either: 12 }],
    ['unknown keys pass through for zod to reject', { other: '1' }, { other: '1' }],
    [
      'values that cannot convert pass through for zod to reject',
      { flag: 'yes', limit: 'ten' },
      { flag: 'yes', limit: 'ten' },
    ],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => assert.deepEqual(coerceQuery(schema, input), expected));
  }
  it('yields input the schema accepts', () => {
    const parsed = schema.parse(coerceQuery(schema, { flag: 'true', limit: '3', ids: ['a', 'b'] }));
    assert.deepEqual(parsed, { flag: true, limit: 3, ids: ['a', 'b'] });
  });
});
