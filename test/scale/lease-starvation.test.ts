import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { requirePostgres, type TestDatabase } from '../helpers/databases.ts';
import { call } from '../helpers/server.ts';
import { children, killAll, serve, stop } from '../helpers/server-process.ts';

// Found by test/scale/multi-process.test.ts (a duplicate webhook delivery under load), isolated here.
//
// A server process that is alive but whose Postgres pool is taken by request transactions (here: creates queued
// on a lock's row lock, as a burst on one busy lock does) cannot renew the lease of the job it is running: the
// renewal waits for a pool connection behind the requests. Once the lease runs out, another process reclaims the
// job and runs it again while the first is still in it. For a webhook delivery that is a second POST of the same
// svix-id — the receiver gets the event twice — and two attempt rows, while the delivery row (written from a read
// made before the first POST) says 1 attempt. Deterministic: the receiver holds the first POST open until the
// first process's pool is full, so the first process is inside the job when it starves.
//
// Expected (contract, docs/architecture.md "several server processes never take the same job"): each delivery
// attempted once, its job claimed once. Fixed twice over: the runners' claims, renewals and outcomes go through
// a pool of their own (Store.jobsDb), so the lease holds (test/jobs/runner.test.ts has the unit case); and the
// delivery handler takes an attempt on the delivery row before POSTing it, so a runner that took the job over
// would wait for the attempt in flight instead of sending it again (test/jobs/webhook-delivery.test.ts). With
// only the second, the POST is not repeated but the job is claimed again: the last assertion fails.

const postgres = requirePostgres();
const HOUR = 3_600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('job leases: a process whose pool is busy keeps the job it is running', {
  skip: postgres ? false : 'LATCHKEY_TEST_DATABASE_URL is unset: no Postgres to share',
}, () => {
  const apiKey = `seam_lease_${randomBytes(12).toString('hex')}`;
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;
  let server: http.Server | undefined;
  let holder: pg.Client | undefined;

  before(() => {
    process.once('exit', killAll);
  });
  after(async () => {
    await holder?.query('ROLLBACK').catch(() => undefined);
    await holder?.end().catch(() => undefined);
    await Promise.all([...children].map((c) => stop(c)));
    process.removeListener('exit', killAll);
    if (server) {
      server.closeAllConnections();
      await new Promise((r) => server?.close(r));
    }
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('a delivery in flight while its process waits for a pool connection is not posted a second time', {
    timeout: 90_000,
  }, async () => {
    database = await (postgres as NonNullable<typeof postgres>).create();
    dataDir = mkdtempSync(join(tmpdir(), 'latchkey-lease-'));
    // The receiver: holds the first request open until told to answer; records every svix-id.
    const received: string[] = [];
    let answerFirst: () => void = () => {};
    const firstHeld = new Promise<void>((resolve) => {
      answerFirst = resolve;
    });
    let firstArrived: () => void = () => {};
    const arrived = new Promise<void>((resolve) => {
      firstArrived = resolve;
    });
    server = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        received.push(String(req.headers['svix-id']));
        const answer = () => res.writeHead(200).end('ok');
        if (received.length === 1) {
          firstArrived();
          void firstHeld.then(answer);
        } else answer();
      });
    });
    await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;

    const env = {
      DATABASE_URL: database.url,
      LATCHKEY_MASTER_KEY: randomBytes(32).toString('hex'),
      LATCHKEY_BOOTSTRAP_API_KEY: apiKey,
      LATCHKEY_DATA_DIR: dataDir,
      LATCHKEY_RATE_LIMIT: '0',
      LATCHKEY_WEBHOOK_ALLOW_PRIVATE: 'true',
    };
    const first = await serve(env);
    const a = { url: first.url, apiKey };
    const hook = await call(a, '/webhooks/create', {
      body: { url: `http://127.0.0.1:${port}/hook`, event_types: ['access_code.created'] },
    });
    assert.equal(hook.status, 200, hook.text);
    const lock = async (name: string) => {
      const r = await call(a, '/devices/simulate/create', { body: { name } });
      assert.equal(r.status, 200, r.text);
      return r.json.device.device_id as string;
    };
    const quiet = await lock('events');
    const busy = await lock('busy');
    const base = Math.ceil(Date.now() / HOUR) * HOUR + 3 * HOUR;
    const create = (device_id: string, i: number) =>
      call(a, '/access_codes/create', {
        body: {
          device_id,
          is_offline_access_code: true,
          starts_at: new Date(base + i * HOUR).toISOString(),
          ends_at: new Date(base + (i + 1) * HOUR).toISOString(),
        },
      });

    // One event: the first process claims its delivery and POSTs it; the receiver holds the request.
    assert.equal((await create(quiet, 0)).status, 200);
    await arrived;

    // The first process's pool (10 connections) fills with creates waiting for the busy lock's row lock.
    holder = new pg.Client({ connectionString: database.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query('SELECT device_id FROM devices WHERE device_id = $1 FOR UPDATE', [busy]);
    const queued = Array.from({ length: 15 }, (_, i) => create(busy, i));
    await sleep(1_000);
    answerFirst(); // the POST succeeds; recording it needs a pool connection, which the process has to wait for

    // A second process, idle. It must not take the job the first one is still in.
    await serve(env);
    // Longer than a lease (15 s in src/jobs/runner.ts) and a poll; a second POST ends the wait early.
    const firstId = () => received[0];
    for (
      let waited = 0;
      waited < 25_000 && received.filter((id) => id === firstId()).length < 2;
      waited += 250
    )
      await sleep(250);
    await holder.query('ROLLBACK');
    for (const r of await Promise.all(queued)) assert.equal(r.status, 200, r.text);
    await sleep(2_000);

    const deliveries = await holder.query(
      `select d.delivery_id, d.status, d.attempts, (select count(*)::int from webhook_attempts w
        where w.delivery_id = d.delivery_id) as attempt_rows from webhook_deliveries d order by d.created_at`,
    );
    const firstDelivery = deliveries.rows[0];
    assert.ok(firstDelivery, 'one delivery made');
    assert.deepEqual(
      received.filter((id) => id === firstDelivery.delivery_id),
      [firstDelivery.delivery_id],
      `delivery ${firstDelivery.delivery_id} was posted ${received.filter((id) => id === firstDelivery.delivery_id).length} times`,
    );
    assert.equal(firstDelivery.attempt_rows, 1, 'one attempt recorded');
    const jobs = await holder.query(
      `select attempts from jobs where kind = 'webhook.deliver' order by job_id limit 1`,
    );
    assert.equal(jobs.rows[0]?.attempts, 1, 'its job claimed once');
  });
});
