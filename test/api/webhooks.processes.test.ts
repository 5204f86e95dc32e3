import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { requirePostgres, type TestDatabase, testDialects } from '../helpers/databases.ts';
import { call } from '../helpers/server.ts';
import { children, killAll, serve, stop } from '../helpers/server-process.ts';
import { advanceClock, allEvents, type Client, HOUR } from './access-codes.helpers.ts';
import {
  createWebhook,
  type DeliveryObject,
  freePort,
  listDeliveries,
  type Receiver,
  startReceiver,
  svixId,
  verified,
} from './webhooks.helpers.ts';

// Issue 6 items 2 and 5 with real server processes (`latchkey serve`): deliveries are durable — a receiver
// that is down while the server restarts still gets every event afterwards, the retry schedule moving with
// the sandbox clock — and several processes on one Postgres attempt each delivery once.

/** Polls `read` until `done` holds of its value, or fails after `timeoutMs`. */
async function poll<T>(read: () => Promise<T>, done: (v: T) => boolean, timeoutMs: number, what: string) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      assert.fail(`timed out after ${timeoutMs} ms waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The seeded sandbox's keypad-only lock (the Front Door). */
async function frontDoor(api: Client): Promise<string> {
  const r = await call(api, '/devices/list', { body: {} });
  assert.equal(r.status, 200, r.text);
  const lock =
    r.json.devices.find(
      (d: { properties: { igloohome_metadata?: { bridge_id?: string } } }) =>
        !d.properties.igloohome_metadata?.bridge_id,
    ) ?? r.json.devices[0];
  return lock.device_id;
}

async function createCode(api: Client, body: Record<string, unknown>) {
  const r = await call(api, '/access_codes/create', { body: { is_offline_access_code: true, ...body } });
  assert.equal(r.status, 200, r.text);
  return r.json.access_code as { access_code_id: string; code: string };
}

before(() => {
  process.once('exit', killAll);
});
after(async () => {
  await Promise.all([...children].map(stop));
  process.removeListener('exit', killAll);
});

for (const dialect of testDialects()) {
  describe(`webhooks: a receiver down across a server restart (${dialect.name})`, () => {
    let database: TestDatabase | undefined;
    let dataDir: string | undefined;
    let receiver: Receiver | undefined;
    const apiKey = `seam_webhook_${randomBytes(12).toString('hex')}`;

    before(async () => {
      database = await dialect.create();
      dataDir = mkdtempSync(join(tmpdir(), 'latchkey-webhooks-'));
    });
    after(async () => {
      await Promise.all([...children].map(stop));
      await receiver?.close();
      await database?.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    it('gets every event after the restart, the retries following the sandbox clock', {
      timeout: 120_000,
    }, async () => {
      const env = {
        DATABASE_URL: (database as TestDatabase).url,
        LATCHKEY_DATA_DIR: dataDir as string,
        LATCHKEY_BOOTSTRAP_API_KEY: apiKey,
      };
      const port = await freePort(); // nothing listens there yet: every attempt is refused
      const first = await serve(env);
      let api: Client = { url: first.url, apiKey };
      const hook = await createWebhook(api, { url: `http://127.0.0.1:${port}/hook` });
      const front = await frontDoor(api);
      await createCode(api, { device_id: front, name: 'Permanent' }); // created + set_on_device
      const base = Math.ceil(Date.now() / HOUR) * HOUR + 3 * HOUR;
      await createCode(api, {
        device_id: front,
        name: 'Later',
        starts_at: new Date(base).toISOString(),
        ends_at: new Date(base + 2 * HOUR).toISOString(),
      }); // created now; set_on_device, removed_from_device and deleted when the clock gets there

      const deliveries = () => listDeliveries(api, hook.webhook_id);
      const attempted = (n: number) => (ds: DeliveryObject[]) =>
        ds.length === 3 && ds.every((d) => d.status === 'pending' && d.attempt_count === n);
      // The running server's delivery runner tries at once: refused.
      let ds = await poll(deliveries, attempted(1), 20_000, 'a first attempt at each delivery');
      for (const d of ds) {
        assert.equal(d.last_status_code, null);
        assert.match(d.last_error ?? '', /ECONNREFUSED/);
      }
      // advance_clock brings the 5 s retry forward; after it the next waits 5 min (on the sandbox clock).
      await advanceClock(api, 'PT5S');
      ds = await poll(deliveries, attempted(2), 20_000, 'a second attempt at each delivery');
      for (const d of ds) {
        const last = Date.parse(d.attempts[1]?.attempted_at ?? '');
        assert.equal(Date.parse(d.next_attempt_at ?? ''), last + 5 * 60_000);
      }

      assert.equal(await stop(first.child), 0, 'the server stops cleanly on SIGTERM');
      receiver = await startReceiver({ port });
      const second = await serve(env);
      api = { url: second.url, apiKey };

      // Back up, but the retries are 5 min away on the sandbox clock: nothing yet.
      await sleep(1_500);
      assert.deepEqual(receiver.received, [], 'no attempt before its time');
      assert.ok(attempted(2)(await deliveries()), 'still pending after the restart');

      await advanceClock(api, 'PT5M');
      const r = receiver;
      await r.waitFor(() => r.received.length >= 3, 20_000, 'the three retried deliveries');
      ds = await deliveries();
      for (const d of ds) {
        assert.equal(d.status, 'succeeded');
        assert.deepEqual(
          d.attempts.map((a) => a.status_code),
          [null, null, 200],
        );
      }

      // Events that happen after the restart arrive too.
      await advanceClock(api, 'P1D');
      await r.waitFor(() => r.received.length >= 6, 20_000, 'the rest of the lifecycle');
      await sleep(500);
      const events = await allEvents(api);
      assert.deepEqual(events.map((e) => e.event_type).sort(), [
        'access_code.created',
        'access_code.created',
        'access_code.deleted',
        'access_code.removed_from_device',
        'access_code.set_on_device',
        'access_code.set_on_device',
      ]);
      assert.equal(r.received.length, 6, 'each event once');
      const delivered = r.received.map((x) => verified(hook.secret, x));
      assert.deepEqual(
        delivered.map((e) => e.event_id).sort(),
        events.map((e) => e.event_id).sort(),
        'every event arrived, verified by @seamapi/webhook',
      );
      ds = await deliveries();
      assert.equal(ds.length, 6);
      assert.ok(ds.every((d) => d.status === 'succeeded'));
      assert.deepEqual(ds.map((d) => d.delivery_id).sort(), r.received.map(svixId).sort());
    });
  });
}

const postgres = requirePostgres();

describe('webhooks: two server processes on one Postgres attempt each delivery once', {
  skip: postgres ? false : 'LATCHKEY_TEST_DATABASE_URL is unset: no Postgres to share',
}, () => {
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;
  let receiver: Receiver;
  const apiKey = `seam_webhook_${randomBytes(12).toString('hex')}`;
  let apis: Client[] = [];

  before(
    async () => {
      database = await (postgres as NonNullable<typeof postgres>).create();
      dataDir = mkdtempSync(join(tmpdir(), 'latchkey-webhooks-'));
      // A slow receiver, so attempts overlap in time across the two processes.
      receiver = await startReceiver({ delayMs: 40 });
      const env = {
        DATABASE_URL: database.url,
        LATCHKEY_MASTER_KEY: randomBytes(32).toString('hex'),
        LATCHKEY_BOOTSTRAP_API_KEY: apiKey,
        LATCHKEY_DATA_DIR: dataDir,
      };
      const first = await serve(env); // the first start seeds the sandbox; the second finds it
      const second = await serve(env);
      apis = [first, second].map((s) => ({ url: s.url, apiKey }));
    },
    { timeout: 90_000 },
  );
  after(async () => {
    await Promise.all([...children].map(stop));
    await receiver?.close();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('30 events made on both processes: each delivered exactly once, all succeeded', {
    timeout: 90_000,
  }, async () => {
    const [a, b] = apis as [Client, Client];
    const hook = await createWebhook(a, {
      url: receiver.url('/shared'),
      event_types: ['access_code.created'],
    });
    const front = await frontDoor(a);
    const base = Math.ceil(Date.now() / HOUR) * HOUR + 3 * HOUR;
    // 30 creates at once, alternating between the processes, each in its own hourly slot.
    const codes = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        createCode(i % 2 === 0 ? a : b, {
          device_id: front,
          starts_at: new Date(base + i * HOUR).toISOString(),
          ends_at: new Date(base + (i + 2) * HOUR).toISOString(),
        }),
      ),
    );
    await receiver.waitFor(() => receiver.received.length >= 30, 30_000, '30 deliveries');
    await sleep(1_500); // time for any duplicate to show up
    const perId = new Map<string, number>();
    for (const r of receiver.received) perId.set(svixId(r), (perId.get(svixId(r)) ?? 0) + 1);
    assert.equal(perId.size, 30);
    assert.deepEqual(
      [...perId].filter(([, n]) => n !== 1),
      [],
      'no delivery attempted twice',
    );
    assert.equal(receiver.received.length, 30);
    const delivered = receiver.received.map((r) => verified(hook.secret, r));
    assert.deepEqual(
      delivered.map((e) => e.access_code_id).sort(),
      codes.map((c) => c.access_code_id).sort(),
    );
    for (const api of [a, b]) {
      const ds = await listDeliveries(api, hook.webhook_id);
      assert.equal(ds.length, 30);
      for (const d of ds) {
        assert.equal(d.status, 'succeeded');
        assert.equal(d.attempt_count, 1);
        assert.deepEqual(
          d.attempts.map((x) => [x.attempt_number, x.status_code]),
          [[1, 200]],
        );
      }
      assert.deepEqual(ds.map((d) => d.delivery_id).sort(), [...perId.keys()].sort());
    }
  });
});
