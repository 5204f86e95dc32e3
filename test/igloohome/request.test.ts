import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { parseAlgoPinRequest, parseIgloohomeDate } from '../../src/igloohome/algopin-request.ts';
import { IgloohomeError } from '../../src/igloohome/errors.ts';
import { issueAccessToken, tokenSigningKey, verifyAccessToken } from '../../src/igloohome/tokens.ts';

// The pieces of the igloohome API that need no server: date parsing, body validation, access tokens.
// The same rules are driven over HTTP in api.test.ts.

const HOUR = 3_600_000;

function fails(fn: () => unknown, status: number, message: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof IgloohomeError, String(e));
    assert.equal(e.statusCode, status, e.message);
    assert.match(e.message, message);
    return true;
  });
}

describe('igloohome dates', () => {
  it('reads hour-aligned dates with an offset or Z as the instant they name', () => {
    const utc = Date.UTC(2030, 0, 1, 2);
    assert.equal(parseIgloohomeDate('startDate', '2030-01-01T10:00:00+08:00'), utc);
    assert.equal(parseIgloohomeDate('startDate', '2029-12-31T21:00:00-05:00'), utc);
    assert.equal(parseIgloohomeDate('startDate', '2030-01-01T02:00:00Z'), utc);
    assert.equal(parseIgloohomeDate('startDate', '2030-01-01T02:00:00+00:00'), utc);
    assert.equal(parseIgloohomeDate('startDate', '2030-01-01T02:00:00.000Z'), utc);
  });

  it('400 for a wrong format, a missing offset, a time off the hour, or an impossible date', () => {
    const format = /'startDate' must be in format YYYY-MM-DDTHH:00:00\+hh:mm/;
    fails(() => parseIgloohomeDate('startDate', '2030-01-01T10:00:00'), 400, format);
    fails(() => parseIgloohomeDate('startDate', '2030-01-01 10:00:00+08:00'), 400, format);
    fails(() => parseIgloohomeDate('startDate', '2030-01-01T10:00+08:00'), 400, format);
    fails(() => parseIgloohomeDate('startDate', '2030-01-01'), 400, format);
    fails(() => parseIgloohomeDate('startDate', '1893456000000'), 400, format);
    fails(() => parseIgloohomeDate('startDate', '2030-01-01T10:30:00+08:00'), 400, /on the hour/);
    fails(() => parseIgloohomeDate('startDate', '2030-01-01T10:00:01Z'), 400, /on the hour/);
    fails(() => parseIgloohomeDate('startDate', '2030-01-01T10:00:00.5Z'), 400, /on the hour/);
    fails(() => parseIgloohomeDate('endDate', '2030-02-30T10:00:00Z'), 400, /'endDate' is not a valid date/);
    fails(() => parseIgloohomeDate('endDate', '2030-13-01T10:00:00Z'), 400, /not a valid date/);
    fails(() => parseIgloohomeDate('endDate', '2030-01-01T24:00:00Z'), 400, /not a valid date/);
    fails(() => parseIgloohomeDate('startDate', '2030-01-01T10:00:00+05:30'), 400, /whole hours/);
    fails(() => parseIgloohomeDate('startDate', 1893456000000), 400, /must be a string/);
    fails(() => parseIgloohomeDate('startDate', undefined), 400, /'startDate' is required/);
  });

  it('years below 100 are not read as 19xx', () => {
    assert.equal(
      parseIgloohomeDate('startDate', '0050-01-01T00:00:00Z'),
      new Date('0050-01-01T00:00:00Z').getTime(),
    );
  });
});

describe('algoPIN request bodies', () => {
  const start = '2030-01-01T10:00:00+08:00';
  const at = (hours: number) =>
    new Date(Date.UTC(2030, 0, 1, 2) + hours * HOUR).toISOString().replace('.000Z', 'Z');
  const base = { variance: 1, startDate: start, accessName: 'Guest' };

  it('maps each type to algoPIN parameters', () => {
    const startHour = Date.UTC(2030, 0, 1, 2) / HOUR;
    assert.deepEqual(parseAlgoPinRequest('hourly', { ...base, endDate: at(5) }).params, {
      kind: 'hourly',
      startHour,
      variance: 1,
      durationHours: 5,
    });
    assert.deepEqual(parseAlgoPinRequest('daily', { ...base, variance: 3, endDate: at(29 * 24) }).params, {
      kind: 'daily',
      startHour,
      variance: 3,
      durationDays: 29,
    });
    assert.deepEqual(parseAlgoPinRequest('onetime', { ...base, variance: 5 }).params, {
      kind: 'one_time',
      startHour,
      variance: 5,
    });
    assert.deepEqual(parseAlgoPinRequest('permanent', { ...base, endDate: null }).params, {
      kind: 'permanent',
      startHour,
      variance: 1,
    });
  });

  it('400 for missing or mistyped fields', () => {
    fails(() => parseAlgoPinRequest('hourly', null), 400, /JSON object/);
    fails(() => parseAlgoPinRequest('hourly', [base]), 400, /JSON object/);
    fails(
      () => parseAlgoPinRequest('hourly', { ...base, endDate: at(1), variance: undefined }),
      400,
      /'variance' is required/,
    );
    fails(() => parseAlgoPinRequest('hourly', { ...base, endDate: at(1), variance: '1' }), 400, /integer/);
    fails(() => parseAlgoPinRequest('hourly', { ...base, endDate: at(1), variance: 1.5 }), 400, /integer/);
    fails(() => parseAlgoPinRequest('hourly', base), 400, /'endDate' is required/);
    fails(() => parseAlgoPinRequest('daily', base), 400, /'endDate' is required/);
    fails(
      () => parseAlgoPinRequest('onetime', { ...base, endDate: at(24) }),
      400,
      /not accepted for onetime/,
    );
    fails(() => parseAlgoPinRequest('permanent', { ...base, endDate: at(24) }), 400, /not accepted/);
    fails(
      () => parseAlgoPinRequest('onetime', { ...base, accessName: undefined }),
      400,
      /'accessName' is required/,
    );
    fails(() => parseAlgoPinRequest('onetime', { ...base, accessName: '' }), 400, /'accessName' is required/);
    fails(() => parseAlgoPinRequest('onetime', { ...base, accessName: 7 }), 400, /must be a string/);
  });

  it('422 on both sides of every limit', () => {
    // hourly: 1..672 hours.
    fails(() => parseAlgoPinRequest('hourly', { ...base, endDate: at(0) }), 422, /at least 1 hour/);
    fails(() => parseAlgoPinRequest('hourly', { ...base, endDate: at(-3) }), 422, /at least 1 hour/);
    assert.equal(parseAlgoPinRequest('hourly', { ...base, endDate: at(1) }).params.durationHours, 1);
    assert.equal(parseAlgoPinRequest('hourly', { ...base, endDate: at(672) }).params.durationHours, 672);
    fails(
      () => parseAlgoPinRequest('hourly', { ...base, endDate: at(673) }),
      422,
      /^Exceeded the limit of 672 hours$/,
    );
    // daily: 29..367 whole days.
    fails(
      () => parseAlgoPinRequest('daily', { ...base, endDate: at(28 * 24) }),
      422,
      /^Below the minimum of 29 days$/,
    );
    assert.equal(parseAlgoPinRequest('daily', { ...base, endDate: at(29 * 24) }).params.durationDays, 29);
    assert.equal(parseAlgoPinRequest('daily', { ...base, endDate: at(367 * 24) }).params.durationDays, 367);
    fails(
      () => parseAlgoPinRequest('daily', { ...base, endDate: at(368 * 24) }),
      422,
      /^Exceeded the limit of 367 days$/,
    );
    fails(
      () => parseAlgoPinRequest('daily', { ...base, endDate: at(30 * 24 + 1) }),
      422,
      /whole number of days/,
    );
    fails(() => parseAlgoPinRequest('daily', { ...base, endDate: at(-30 * 24) }), 422, /after 'startDate'/);
    // variance: 1..3, one-time 1..5.
    for (const type of ['hourly', 'daily', 'permanent'] as const) {
      const body = {
        ...base,
        endDate: type === 'permanent' ? undefined : at(type === 'daily' ? 29 * 24 : 1),
      };
      fails(() => parseAlgoPinRequest(type, { ...body, variance: 0 }), 422, /between 1 and 3/);
      assert.equal(parseAlgoPinRequest(type, { ...body, variance: 3 }).params.variance, 3);
      fails(() => parseAlgoPinRequest(type, { ...body, variance: 4 }), 422, /between 1 and 3/);
    }
    fails(() => parseAlgoPinRequest('onetime', { ...base, variance: 0 }), 422, /between 1 and 5/);
    assert.equal(parseAlgoPinRequest('onetime', { ...base, variance: 5 }).params.variance, 5);
    fails(() => parseAlgoPinRequest('onetime', { ...base, variance: 6 }), 422, /between 1 and 5/);
    // accessName: at most 60 characters (code points).
    assert.equal(
      parseAlgoPinRequest('onetime', { ...base, accessName: 'a'.repeat(60) }).accessName.length,
      60,
    );
    assert.equal(parseAlgoPinRequest('onetime', { ...base, accessName: '🔑'.repeat(60) }).params.variance, 1);
    fails(
      () => parseAlgoPinRequest('onetime', { ...base, accessName: 'a'.repeat(61) }),
      422,
      /at most 60 characters/,
    );
    // Before 1970 there is no algoPIN start hour.
    fails(
      () => parseAlgoPinRequest('onetime', { ...base, startDate: '1969-12-31T23:00:00Z' }),
      422,
      /out of range/,
    );
  });
});

describe('igloohome access tokens', () => {
  const key = tokenSigningKey(randomBytes(32));
  const claims = { client_id: 'c1', workspace_id: 'w1', scopes: ['igloohomeapi/get-devices', 'x/y'] };
  const now = Date.UTC(2030, 0, 1);

  it('are JWTs (HS256) that carry client, workspace, scopes and exp, valid until exp', () => {
    const { token, exp } = issueAccessToken(key, claims, now, 60);
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()));
    assert.equal(header.alg, 'HS256');
    assert.equal(payload.exp, now / 1000 + 60);
    assert.equal(payload.scope, 'igloohomeapi/get-devices x/y');
    assert.equal(exp, payload.exp);
    const ok = verifyAccessToken(key, token, now + 59_999);
    assert.ok(ok.ok);
    assert.deepEqual(ok.claims.scopes, claims.scopes);
    assert.equal(ok.claims.workspace_id, 'w1');
    assert.deepEqual(verifyAccessToken(key, token, now + 60_000), { ok: false, reason: 'expired' });
  });

  it('refuse another key, a changed payload, alg none and garbage', () => {
    const { token } = issueAccessToken(key, claims, now, 60);
    const [h, p, s] = token.split('.') as [string, string, string];
    assert.deepEqual(verifyAccessToken(tokenSigningKey(randomBytes(32)), token, now), {
      ok: false,
      reason: 'invalid',
    });
    const forged = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(p, 'base64url').toString()), workspace_id: 'w2' }),
    ).toString('base64url');
    assert.equal(verifyAccessToken(key, `${h}.${forged}.${s}`, now).ok, false);
    const none = Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url');
    assert.equal(verifyAccessToken(key, `${none}.${p}.`, now).ok, false);
    assert.equal(verifyAccessToken(key, 'not-a-token', now).ok, false);
    assert.equal(verifyAccessToken(key, `${h}.${p}`, now).ok, false);
  });
});
