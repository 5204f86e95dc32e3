import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeyRateLimiter } from '../../src/api/rate-limit.ts';
import { testDialects } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';

describe('the per-key token bucket', () => {
  it('lets a burst through, then one request per 1/rate seconds', () => {
    let now = 0;
    const limiter = new KeyRateLimiter({ perSecond: 4, burst: 2 }, () => now);
    assert.equal(limiter.take('a'), 0);
    assert.equal(limiter.take('a'), 0);
    assert.equal(limiter.take('a'), 250, 'the third waits for a token');
    assert.equal(limiter.take('b'), 0, 'keys do not share a bucket');
    now += 250;
    assert.equal(limiter.take('a'), 0);
    assert.ok(limiter.take('a') > 0);
    now += 10_000;
    assert.equal(limiter.take('a'), 0, 'an idle bucket refills, up to the burst');
    assert.equal(limiter.take('a'), 0);
    assert.ok(limiter.take('a') > 0);
  });
});

const dialect = testDialects()[0];
assert.ok(dialect);

describe('rate limiting over HTTP', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer(dialect, { rateLimit: { perSecond: 5, burst: 5 } });
  });
  after(() => server.close());

  it('answers 429 rate_limit_exceeded with Retry-After once a key has spent its burst, and changes nothing', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await call(server, '/devices/list')).status);
    assert.deepEqual(statuses, [200, 200, 200, 200, 200]);
    const limited = await call(server, '/devices/simulate/create', { body: { name: 'Should not exist' } });
    assert.equal(limited.status, 429);
    assert.equal(limited.json.ok, false);
    assert.equal(limited.json.error.type, 'rate_limit_exceeded');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.match(limited.headers.get('seam-request-id') ?? '', /^[0-9a-f-]{36}$/);
    await sleep(450);
    const devices = await call(server, '/devices/list');
    assert.equal(devices.status, 200, 'a token came back');
    assert.ok(!devices.text.includes('Should not exist'));
  });

  it('limits each key on its own, and a revoked or unknown key still gets 401 first', async () => {
    const other = await server.createOtherWorkspace();
    const r = await call({ url: server.url, apiKey: other.api_key }, '/devices/list');
    assert.equal(r.status, 200);
    const stranger = await call(server, '/devices/list', { key: 'seam_unknown_key_000000000000000' });
    assert.equal(stranger.status, 401);
  });
});
