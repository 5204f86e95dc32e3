import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requirePostgres, type TestDatabase, testDialects } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';
import { children, killAll, serve, stop } from '../helpers/server-process.ts';

// Contract §4: "Limits hold under concurrent requests and across several server processes sharing one
// Postgres database." Many creates for one slot race; exactly the slot's capacity wins, each winner with
// its own variance (hence its own PIN), and the losers store nothing.

const HOUR = 3_600_000;

type Api = { url: string; apiKey: string };

interface CreateBody {
  starts_at: number;
  ends_at?: number;
  is_one_time_use?: boolean;
}

function createRequest(api: Api, deviceId: string, body: CreateBody) {
  return call(api, '/access_codes/create', {
    body: {
      device_id: deviceId,
      is_offline_access_code: true,
      ...(body.is_one_time_use ? { is_one_time_use: true } : {}),
      starts_at: new Date(body.starts_at).toISOString(),
      ...(body.ends_at === undefined ? {} : { ends_at: new Date(body.ends_at).toISOString() }),
    },
  });
}

/** Fires `n` creates at once, spread round-robin over the servers; returns the winners' PINs. */
async function race(apis: Api[], deviceId: string, n: number, body: CreateBody, capacity: number) {
  const results = await Promise.all(
    Array.from({ length: n }, (_, i) => createRequest(apis[i % apis.length] as Api, deviceId, body)),
  );
  const won = results.filter((r) => r.status === 200);
  const lost = results.filter((r) => r.status !== 200);
  assert.equal(won.length, capacity, `exactly ${capacity} of ${n} succeed`);
  for (const r of lost) {
    assert.equal(r.status, 409, r.text);
    assert.equal(r.json.error.type, 'offline_code_slot_full');
  }
  const pins = won.map((r) => r.json.access_code.code as string);
  assert.equal(new Set(pins).size, capacity, `distinct PINs: ${pins.join(', ')}`);
  const starts = new Set(won.map((r) => r.json.access_code.starts_at as string));
  assert.deepEqual([...starts], [new Date(body.starts_at).toISOString()], 'all in the requested slot');
  return pins;
}

async function listCodes(api: Api, deviceId: string): Promise<{ code: string; access_code_id: string }[]> {
  const r = await call(api, '/access_codes/list', { body: { device_id: deviceId } });
  assert.equal(r.status, 200, r.text);
  return r.json.access_codes;
}

async function newLock(api: Api, name: string): Promise<string> {
  const r = await call(api, '/devices/simulate/create', { body: { name } });
  assert.equal(r.status, 200, r.text);
  return r.json.device.device_id;
}

for (const dialect of testDialects()) {
  describe(`concurrent creates on one server (${dialect.name})`, () => {
    let server: TestServer;
    let base: number;
    before(async () => {
      server = await startTestServer(dialect);
      base = Math.ceil(server.clock.now / HOUR) * HOUR + 2 * HOUR;
    });
    after(() => server.close());

    it('30 parallel hourly creates for one slot: exactly 3 succeed, with 3 distinct PINs', async () => {
      const deviceId = await newLock(server, 'Race hourly');
      const pins = await race([server], deviceId, 30, { starts_at: base, ends_at: base + 2 * HOUR }, 3);
      const listed = await listCodes(server, deviceId);
      assert.deepEqual(listed.map((c) => c.code).sort(), [...pins].sort());
    });

    it('30 parallel one-time-use creates for one slot: exactly 5 succeed, with 5 distinct PINs', async () => {
      const deviceId = await newLock(server, 'Race one-time');
      const pins = await race([server], deviceId, 30, { starts_at: base, is_one_time_use: true }, 5);
      const listed = await listCodes(server, deviceId);
      assert.deepEqual(listed.map((c) => c.code).sort(), [...pins].sort());
    });
  });
}

// --- Two real server processes on one Postgres database ---

const postgres = requirePostgres();

describe('concurrent creates across two server processes on one Postgres', {
  skip: postgres ? false : 'LATCHKEY_TEST_DATABASE_URL is unset: no Postgres to share',
}, () => {
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;
  const apiKey = `seam_race_${randomBytes(12).toString('hex')}`;
  let apis: Api[] = [];
  let base: number;

  before(
    async () => {
      process.once('exit', killAll);
      database = await (postgres as NonNullable<typeof postgres>).create();
      dataDir = mkdtempSync(join(tmpdir(), 'latchkey-race-'));
      const env = {
        DATABASE_URL: database.url,
        LATCHKEY_MASTER_KEY: randomBytes(32).toString('hex'),
        LATCHKEY_BOOTSTRAP_API_KEY: apiKey,
        LATCHKEY_DATA_DIR: dataDir,
      };
      // Both start at once on the empty database: migrations and the first-start seed race too.
      const served = await Promise.all([serve(env), serve(env)]);
      apis = served.map((s) => ({ url: s.url, apiKey }));
      assert.notEqual(apis[0]?.url, apis[1]?.url);
      base = Math.ceil(Date.now() / HOUR) * HOUR + 2 * HOUR;
    },
    { timeout: 180_000 },
  );

  after(async () => {
    await Promise.all([...children].map(stop));
    process.removeListener('exit', killAll);
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('both processes serve the one seeded sandbox', async () => {
    const [a, b] = await Promise.all(apis.map((api) => call(api, '/devices/list', { body: {} })));
    assert.equal(a?.status, 200, a?.text);
    assert.deepEqual(
      a?.json.devices.map((d: { device_id: string }) => d.device_id),
      b?.json.devices.map((d: { device_id: string }) => d.device_id),
    );
    assert.equal(a?.json.devices.length, 2, 'seeded once');
  });

  it('30 hourly creates for one slot, split across both: exactly 3 succeed, with distinct PINs', async () => {
    const deviceId = await newLock(apis[0] as Api, 'Race hourly');
    const pins = await race(apis, deviceId, 30, { starts_at: base, ends_at: base + 2 * HOUR }, 3);
    for (const api of apis) {
      assert.deepEqual((await listCodes(api, deviceId)).map((c) => c.code).sort(), [...pins].sort());
    }
  });

  it('30 one-time-use creates for one slot, split across both: exactly 5 succeed', async () => {
    const deviceId = await newLock(apis[1] as Api, 'Race one-time');
    const pins = await race(apis, deviceId, 30, { starts_at: base, is_one_time_use: true }, 5);
    assert.deepEqual((await listCodes(apis[0] as Api, deviceId)).map((c) => c.code).sort(), [...pins].sort());
  });

  it('the 199-code cap: with 197 codes, 10 creates on distinct free slots across both → exactly 2 succeed', async () => {
    const deviceId = await newLock(apis[0] as Api, 'Race cap');
    // 197 codes: three per hourly slot (65 full slots and two in the 66th), created 20 at a time.
    const starts = Array.from({ length: 197 }, (_, i) => base + Math.floor(i / 3) * HOUR);
    for (let i = 0; i < starts.length; i += 20) {
      const batch = await Promise.all(
        starts
          .slice(i, i + 20)
          .map((s, j) => createRequest(apis[j % 2] as Api, deviceId, { starts_at: s, ends_at: s + HOUR })),
      );
      for (const r of batch) assert.equal(r.status, 200, r.text);
    }
    assert.equal((await listCodes(apis[1] as Api, deviceId)).length, 197);

    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => {
        const s = base + (100 + i) * HOUR;
        return createRequest(apis[i % 2] as Api, deviceId, { starts_at: s, ends_at: s + HOUR });
      }),
    );
    const won = results.filter((r) => r.status === 200);
    assert.equal(won.length, 2, 'exactly 2 reach the cap');
    for (const r of results.filter((x) => x.status !== 200)) {
      assert.equal(r.status, 409, r.text);
      assert.equal(r.json.error.type, 'max_access_codes_reached');
    }
    assert.equal((await listCodes(apis[0] as Api, deviceId)).length, 199);
  });
});
