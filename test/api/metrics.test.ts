import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { uuidv7 } from '../../src/app/ids.ts';
import { loadConfig } from '../../src/config.ts';
import { registerMetrics } from '../../src/metrics/http.ts';
import { QUEUE_SCAN_LIMIT, readQueueStats } from '../../src/metrics/queue.ts';
import { registry } from '../../src/metrics/registry.ts';
import { openStore } from '../../src/store/index.ts';
import { enqueueJob } from '../../src/store/repos/jobs.ts';
import { testDialects } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  advanceClock,
  assertSeamError,
  createOffline,
  createRaw,
  HOUR,
  T0,
  timeFrame,
} from './access-codes.helpers.ts';
import { bridgeLock, createOnline, ownSandbox } from './online-codes.helpers.ts';
import { createWebhook, listDeliveries, type Receiver, startReceiver } from './webhooks.helpers.ts';

// Issue 9 item 5: /metrics in the Prometheus text format. Counters are per process and every suite of this
// file shares the process, so each test reads the metrics before and after and compares the difference.

const MIN = 60_000;
/** prom-client's content type for the text format: version 0.0.4. */
const PROM_CONTENT_TYPE = registry.contentType;

/** One sample line: `name{label="value",…} value`. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: -?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/**
 * A strict reader of the text exposition format (version 0.0.4): every line is a HELP or TYPE comment or a
 * sample; every sample belongs to a family declared by a TYPE line; a family is declared once.
 */
function parseExposition(text: string): Sample[] {
  const types = new Map<string, string>();
  const samples: Sample[] = [];
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    if (line.startsWith('#')) {
      const [, keyword, name, rest] = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line) ?? [];
      assert.ok(keyword && name && NAME.test(name), `line ${i + 1} is not a HELP/TYPE comment: ${line}`);
      if (keyword === 'TYPE') {
        assert.ok(TYPES.has(rest ?? ''), `line ${i + 1}: unknown type ${rest}`);
        assert.ok(!types.has(name), `family ${name} declared twice`);
        types.set(name, rest as string);
      }
      continue;
    }
    const m = SAMPLE.exec(line);
    assert.ok(m, `line ${i + 1} is not a sample: ${line}`);
    const [, name, labelText, valueText] = m as unknown as [string, string, string | undefined, string];
    const labels: Record<string, string> = {};
    if (labelText) {
      LABEL.lastIndex = 0;
      while (LABEL.lastIndex < labelText.length) {
        const l = LABEL.exec(labelText);
        assert.ok(l, `line ${i + 1}: malformed labels ${labelText}`);
        labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
      }
    }
    // Prometheus reads values with Go's ParseFloat: NaN and ±Inf in any case (prom-client writes "Nan").
    const special: Record<string, number> = {
      nan: Number.NaN,
      '+inf': Infinity,
      inf: Infinity,
      '-inf': -Infinity,
    };
    const value = special[valueText.toLowerCase()] ?? Number(valueText);
    assert.ok(/^nan$/i.test(valueText) || !Number.isNaN(value), `line ${i + 1}: bad value ${valueText}`);
    const family = [name, name.replace(/_(bucket|sum|count|total|created)$/, '')].find((n) => types.has(n));
    assert.ok(family, `line ${i + 1}: sample ${name} has no TYPE line`);
    samples.push({ name, labels, value });
  }
  return samples;
}

/** The sum of the samples named `name` whose labels include `labels`. */
function sumOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}

const REQUESTS = 'latchkey_http_request_duration_seconds_count';
const CODES = 'latchkey_access_codes_created_total';
const WEBHOOKS = 'latchkey_webhook_attempts_total';

for (const dialect of testDialects()) {
  describe(`/metrics (${dialect.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    before(async () => {
      server = await startTestServer(dialect);
      server.clock.now = T0;
      receiver = await startReceiver();
    });
    after(async () => {
      await server?.close();
      await receiver?.close();
    });

    async function scrape(): Promise<{ text: string; samples: Sample[] }> {
      const r = await call(server, '/metrics', { method: 'GET', key: null });
      assert.equal(r.status, 200, r.text);
      return { text: r.text, samples: parseExposition(r.text) };
    }
    /** What `act` changed in the samples named `name` with these labels. */
    async function delta(name: string, labels: Record<string, string>, act: () => Promise<unknown>) {
      const before = sumOf((await scrape()).samples, name, labels);
      await act();
      return sumOf((await scrape()).samples, name, labels) - before;
    }

    it('serves the Prometheus text format without a key when no token is configured, with the process metrics', async () => {
      const r = await call(server, '/metrics', { method: 'GET', key: null });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('content-type'), PROM_CONTENT_TYPE);
      assert.match(PROM_CONTENT_TYPE, /^text\/plain; version=0\.0\.4; charset=utf-8$/);
      assert.equal(r.headers.get('cache-control'), 'no-store');
      const samples = parseExposition(r.text);
      for (const name of [
        'process_cpu_user_seconds_total',
        'process_resident_memory_bytes',
        'nodejs_heap_size_used_bytes',
        'nodejs_eventloop_lag_seconds',
        'nodejs_eventloop_lag_p99_seconds',
      ]) {
        assert.ok(
          samples.some((s) => s.name === name),
          `${name} is exposed`,
        );
      }
      for (const family of [
        'latchkey_http_request_duration_seconds histogram',
        'latchkey_access_codes_created_total counter',
        'latchkey_webhook_attempts_total counter',
        'latchkey_jobs_pending gauge',
        'latchkey_jobs_oldest_due_age_seconds gauge',
      ]) {
        assert.ok(r.text.includes(`# TYPE ${family}\n`), `# TYPE ${family}`);
      }
      assert.equal(sumOf(samples, 'latchkey_jobs_scrape_ok'), 1);
      // Counters exist at 0 before their first event, so rate() sees that first one.
      for (const kind of ['hourly', 'daily', 'one_time', 'permanent', 'online']) {
        assert.ok(
          samples.some((x) => x.name === CODES && x.labels.kind === kind),
          `${CODES}{kind="${kind}"}`,
        );
      }
      for (const outcome of ['succeeded', 'retry', 'gave_up']) {
        assert.ok(
          samples.some((x) => x.name === WEBHOOKS && x.labels.outcome === outcome),
          outcome,
        );
      }
    });

    it('is neither a Seam route of the OpenAPI document nor affected by a Seam API key', async () => {
      const doc = await call(server, '/openapi.json', { method: 'GET', key: null });
      assert.equal(doc.status, 200);
      assert.ok(!Object.keys(doc.json.paths).some((p) => p.includes('metrics')));
      const withKey = await call(server, '/metrics', { method: 'GET' });
      assert.equal(withKey.status, 200, 'a Seam API key is not needed, nor refused, when /metrics is open');
    });

    it('counts requests per route pattern, method and status code', async () => {
      const before = (await scrape()).samples;
      for (let i = 0; i < 3; i++) assert.equal((await call(server, '/devices/list')).status, 200);
      const missing = await call(server, '/devices/get', { body: { device_id: randomUUID() } });
      assert.equal(missing.status, 404, missing.text);
      const noKey = await call(server, '/devices/list', { key: null });
      assertSeamError(noKey, 401, 'unauthorized');
      const get = await call(server, '/devices/list', { method: 'GET' });
      assert.equal(get.status, 200, get.text);
      const after = (await scrape()).samples;
      const moved = (labels: Record<string, string>) =>
        sumOf(after, REQUESTS, labels) - sumOf(before, REQUESTS, labels);
      assert.equal(moved({ method: 'POST', route: '/devices/list', status_code: '200' }), 3);
      assert.equal(moved({ method: 'POST', route: '/devices/list', status_code: '401' }), 1);
      assert.equal(moved({ method: 'GET', route: '/devices/list', status_code: '200' }), 1);
      assert.equal(moved({ method: 'POST', route: '/devices/get', status_code: '404' }), 1);
      // The scrape before this one counted itself once it was answered.
      assert.equal(moved({ method: 'GET', route: '/metrics', status_code: '200' }), 1);
      // Buckets are cumulative: the +Inf bucket holds every request of the series, and the sum moved.
      const labels = { method: 'POST', route: '/devices/list', status_code: '200' };
      assert.equal(
        sumOf(after, 'latchkey_http_request_duration_seconds_bucket', { ...labels, le: '+Inf' }),
        sumOf(after, REQUESTS, labels),
      );
      assert.ok(
        sumOf(after, 'latchkey_http_request_duration_seconds_sum', labels) >
          sumOf(before, 'latchkey_http_request_duration_seconds_sum', labels),
      );
    });

    it('labels requests that match no route "unmatched", never with their URL (a 404 adds no series)', async () => {
      const secretish = randomBytes(8).toString('hex');
      const { samples: before } = await scrape();
      const seriesBefore = before.filter((s) => s.name === REQUESTS).length;
      // One warm-up, so the unmatched/404 series exists before it is counted.
      await call(server, `/no/such/route/${randomBytes(8).toString('hex')}`, { method: 'GET' });
      const { samples: warm } = await scrape();
      const warmSeries = warm.filter((s) => s.name === REQUESTS).length;
      assert.ok(
        warmSeries <= seriesBefore + 2,
        'at most the unmatched series and the scrape series appeared',
      );
      for (const path of [
        `/no/such/route/${secretish}`,
        `/devices/${secretish}`,
        `/${secretish}?code=1234`,
      ]) {
        const r = await call(server, path, { method: 'GET' });
        assertSeamError(r, 404, 'route_not_found');
      }
      const { text, samples: after } = await scrape();
      assert.equal(
        sumOf(after, REQUESTS, { route: 'unmatched', status_code: '404' }) -
          sumOf(warm, REQUESTS, { route: 'unmatched', status_code: '404' }),
        3,
      );
      assert.equal(after.filter((s) => s.name === REQUESTS).length, warmSeries, 'no new series per URL');
      assert.ok(!text.includes(secretish), 'no raw URL in any label');
      assert.ok(!text.includes('/no/such/route'));
    });

    it('counts created access codes by kind and offline-ness, only once committed', async () => {
      const { client, front, back } = await ownSandbox(server);
      const start = T0 + 2 * HOUR;
      const hourly = { kind: 'hourly', is_offline: 'true' };
      assert.equal(
        await delta(CODES, hourly, () => createOffline(client, timeFrame(front, start, 3 * HOUR))),
        1,
      );
      const permanent = { kind: 'permanent', is_offline: 'true' };
      assert.equal(
        await delta(CODES, permanent, () => createOffline(client, { device_id: front, name: 'forever' })),
        1,
      );
      const online = { kind: 'online', is_offline: 'false' };
      assert.equal(
        await delta(CODES, online, () => createOnline(client, { device_id: back, code: '4821' })),
        1,
      );

      // Refused before the transaction (400), and inside it (409, after a first code was already written and
      // then rolled back): nothing is counted.
      const other = await bridgeLock(client, 'Side Door');
      const before = (await scrape()).samples;
      assertSeamError(
        await createRaw(client, { device_id: front, is_offline_access_code: true, code: '1234' }),
        400,
        'cannot_specify_offline_code',
      );
      const refused = await call(client, '/access_codes/create_multiple', {
        body: { device_ids: [other, back], code: '4821' },
      });
      assertSeamError(refused, 409, 'duplicate_access_code');
      assertSeamError(await createRaw(client, { device_id: back, code: '12' }), 400, 'invalid_input');
      const afterRefusals = (await scrape()).samples;
      assert.equal(sumOf(afterRefusals, CODES), sumOf(before, CODES), 'refused creations count nothing');
      const sideCodes = await call(client, '/access_codes/list', { body: { device_id: other } });
      assert.deepEqual(sideCodes.json.access_codes, [], 'the rolled-back code does not exist');

      const multiple = await call(client, '/access_codes/create_multiple', {
        body: { device_ids: [other, back], code: '7305', behavior_when_code_cannot_be_shared: 'throw' },
      });
      assert.equal(multiple.status, 200, multiple.text);
      const afterMultiple = (await scrape()).samples;
      assert.equal(sumOf(afterMultiple, CODES, online) - sumOf(afterRefusals, CODES, online), 2);
    });

    it('reports queue depth and lag from the jobs table, on each workspace clock, as the claim query does', async () => {
      const { store, clock } = server;
      const now = clock.now;
      const ws = await server.createOtherWorkspace();
      const offset = 2 * HOUR;
      await store.db
        .updateTable('workspaces')
        .set({ clock_offset_ms: offset })
        .where('workspace_id', '=', ws.workspace.workspace_id)
        .execute();
      const job = (kind: string, workspace_id: string | null, run_at: number) =>
        enqueueJob(store.db, { job_id: uuidv7(), workspace_id, kind, payload: {}, run_at, created_at: now });
      // Due on the workspace's clock (now + 2 h) although not on the real one: 30 min late.
      await job('metrics_test_ws', ws.workspace.workspace_id, now + 90 * MIN);
      // Not due even on the workspace's clock: pending, not due.
      await job('metrics_test_ws', ws.workspace.workspace_id, now + 3 * HOUR);
      // No workspace: the real clock. 1 min late.
      await job('metrics_test_global', null, now - MIN);
      // A running job whose lease ran out (its process died) is due again; one whose lease holds is running.
      const staleId = uuidv7();
      await enqueueJob(store.db, {
        job_id: staleId,
        workspace_id: null,
        kind: 'metrics_test_stale',
        payload: {},
        run_at: now - 5 * MIN,
        created_at: now,
      });
      await store.db
        .updateTable('jobs')
        .set({ status: 'running', locked_until: now - 1 })
        .where('job_id', '=', staleId)
        .execute();
      const liveId = uuidv7();
      await enqueueJob(store.db, {
        job_id: liveId,
        workspace_id: null,
        kind: 'metrics_test_stale',
        payload: {},
        run_at: now - 5 * MIN,
        created_at: now,
      });
      await store.db
        .updateTable('jobs')
        .set({ status: 'running', locked_until: now + MIN })
        .where('job_id', '=', liveId)
        .execute();
      try {
        const { samples } = await scrape();
        const g = (name: string, kind: string) => sumOf(samples, `latchkey_jobs_${name}`, { kind });
        assert.equal(g('pending', 'metrics_test_ws'), 2);
        assert.equal(g('due', 'metrics_test_ws'), 1);
        assert.equal(g('oldest_due_age_seconds', 'metrics_test_ws'), 30 * 60);
        assert.equal(g('pending', 'metrics_test_global'), 1);
        assert.equal(g('due', 'metrics_test_global'), 1);
        assert.equal(g('oldest_due_age_seconds', 'metrics_test_global'), 60);
        assert.equal(g('pending', 'metrics_test_stale'), 0);
        assert.equal(g('running', 'metrics_test_stale'), 1);
        assert.equal(g('due', 'metrics_test_stale'), 1);
        assert.equal(g('oldest_due_age_seconds', 'metrics_test_stale'), 5 * 60);
        assert.equal(sumOf(samples, 'latchkey_jobs_scan_limited'), 0);
        // Lag grows with the real clock.
        clock.now = now + 10 * MIN;
        const later = (await scrape()).samples;
        assert.equal(
          sumOf(later, 'latchkey_jobs_oldest_due_age_seconds', { kind: 'metrics_test_global' }),
          11 * 60,
        );
        // No workspace id, device id or job id in any label.
        const text = (await scrape()).text;
        assert.ok(!text.includes(ws.workspace.workspace_id));
        assert.ok(!text.includes(staleId));
      } finally {
        clock.now = now;
        await store.db.deleteFrom('jobs').where('kind', 'like', 'metrics_test_%').execute();
      }
      const { samples } = await scrape();
      assert.equal(
        sumOf(samples, 'latchkey_jobs_pending', { kind: 'metrics_test_ws' }),
        0,
        'a kind whose jobs are gone stays, at 0',
      );
      assert.equal(sumOf(samples, 'latchkey_jobs_due', { kind: 'metrics_test_global' }), 0);
    });

    it('bounds the queue scan: past the limit the counts are lower bounds, flagged', async () => {
      const { store, clock } = server;
      for (let i = 0; i < 3; i++) {
        await enqueueJob(store.db, {
          job_id: uuidv7(),
          workspace_id: null,
          kind: 'metrics_test_bound',
          payload: {},
          run_at: clock.now - (i + 1) * MIN,
          created_at: clock.now,
        });
      }
      try {
        const capped = await readQueueStats(store.db, clock.now, 2);
        assert.equal(capped.limited, true);
        const total = [...capped.byKind.values()].reduce((n, s) => n + s.pending, 0);
        assert.equal(total, 2);
        // The scan takes the earliest due first: the most overdue job is among those read.
        assert.equal(capped.byKind.get('metrics_test_bound')?.oldestDueMs, 3 * MIN);
        const full = await readQueueStats(store.db, clock.now);
        assert.equal(full.limited, false);
        assert.equal(full.byKind.get('metrics_test_bound')?.pending, 3);
        assert.ok(QUEUE_SCAN_LIMIT >= 1000);
      } finally {
        await store.db.deleteFrom('jobs').where('kind', 'like', 'metrics_test_%').execute();
      }
    });

    it('counts webhook attempts by outcome: succeeded, retry, and gave_up after the last attempt', async () => {
      const { client, front } = await ownSandbox(server);
      const good = await createWebhook(client, {
        url: receiver.url('/metrics-ok'),
        event_types: ['access_code.created'],
      });
      receiver.route('/metrics-fail', () => 500);
      const bad = await createWebhook(client, {
        url: receiver.url('/metrics-fail'),
        event_types: ['access_code.created'],
      });
      const before = (await scrape()).samples;
      await createOffline(client, timeFrame(front, T0 + 30 * HOUR, 3 * HOUR));
      await server.jobs.runDue();
      const first = (await scrape()).samples;
      const moved = (from: Sample[], to: Sample[], outcome: string) =>
        sumOf(to, WEBHOOKS, { outcome }) - sumOf(from, WEBHOOKS, { outcome });
      assert.equal(receiver.at('/metrics-ok').length, 1);
      assert.equal(receiver.at('/metrics-fail').length, 1);
      assert.equal(moved(before, first, 'succeeded'), 1);
      assert.equal(moved(before, first, 'retry'), 1);
      assert.equal(moved(before, first, 'gave_up'), 0);

      // Seam's schedule: 8 attempts over about 28 hours, then the delivery is failed.
      for (let i = 0; i < 8 && receiver.at('/metrics-fail').length < 8; i++) {
        await advanceClock(client, 'PT11H');
        await server.jobs.runDue();
      }
      const [delivery] = await listDeliveries(client, bad.webhook_id);
      assert.equal(delivery?.status, 'failed');
      assert.equal(delivery?.attempt_count, 8);
      const last = (await scrape()).samples;
      assert.equal(moved(before, last, 'retry'), 7);
      assert.equal(moved(before, last, 'gave_up'), 1);
      assert.equal(moved(before, last, 'succeeded'), 1);
      assert.equal((await listDeliveries(client, good.webhook_id))[0]?.status, 'succeeded');
    });
  });

  describe(`/metrics with LATCHKEY_METRICS_TOKEN (${dialect.name})`, () => {
    const token = `metrics_${randomBytes(16).toString('hex')}`;
    let server: TestServer;
    before(async () => {
      // A second app in a process that already built others: its metrics must not be registered twice.
      server = await startTestServer(dialect, { metricsToken: token, rateLimit: { perSecond: 1, burst: 1 } });
    });
    after(() => server?.close());

    const metrics = (authorization?: string) =>
      call(server, '/metrics', {
        method: 'GET',
        key: null,
        headers: authorization === undefined ? {} : { authorization },
      });

    it('answers 401 in the Seam envelope without the token, with a wrong one, or with an API key', async () => {
      for (const authorization of [
        undefined,
        'Bearer',
        'Bearer wrong',
        `Bearer ${token}x`,
        `Bearer ${token.slice(0, -1)}`,
        `Basic ${Buffer.from(`x:${token}`).toString('base64')}`,
        token,
        `Bearer ${server.apiKey}`,
      ]) {
        const r = await metrics(authorization);
        const error = assertSeamError(r, 401, 'unauthorized');
        assert.ok(!r.text.includes(token), 'the token is never echoed');
        assert.ok(!error.message.includes(token));
        assert.ok(!r.text.includes('latchkey_'), 'no metric leaks');
      }
    });

    it('answers 200 with the token, and is not rate limited like the Seam routes', async () => {
      for (let i = 0; i < 5; i++) {
        const r = await metrics(`Bearer ${token}`);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.headers.get('content-type'), PROM_CONTENT_TYPE);
        parseExposition(r.text);
        assert.ok(!r.text.includes(token), 'the token is not in the metrics');
      }
      const lower = await metrics(`bearer ${token}`);
      assert.equal(lower.status, 200, 'the scheme is case-insensitive, as for API keys');
      // The Seam routes keep their own key and their limit (burst 1).
      assert.equal((await call(server, '/devices/list')).status, 200);
      assert.equal((await call(server, '/devices/list')).status, 429);
      assert.equal((await call(server, '/health', { method: 'GET', key: null })).status, 200);
      // The 401s of the test before were counted under the /metrics route pattern.
      const r = await metrics(`Bearer ${token}`);
      const samples = parseExposition(r.text);
      assert.ok(sumOf(samples, REQUESTS, { route: '/metrics', status_code: '401' }) >= 8);
      assert.ok(!r.text.includes(server.apiKey), 'no API key in the metrics');
      assert.ok(!r.text.includes(server.sandbox.workspace.workspace_id), 'no workspace id in the metrics');
    });
  });
}

describe('/metrics when the database cannot be read', () => {
  it('still serves the process metrics, and says the queue was not read (no stale numbers)', async () => {
    const database = await testDialects()[0]?.create();
    assert.ok(database);
    const store = await openStore(database.url);
    await store.close(); // every query now fails
    const app = Fastify();
    registerMetrics(app, { db: store.db, realNow: Date.now });
    try {
      const r = await app.inject({ method: 'GET', url: '/metrics' });
      assert.equal(r.statusCode, 200, r.body);
      const samples = parseExposition(r.body);
      assert.equal(sumOf(samples, 'latchkey_jobs_scrape_ok'), 0);
      assert.ok(!samples.some((x) => x.name === 'latchkey_jobs_pending'));
      assert.ok(samples.some((x) => x.name === 'nodejs_eventloop_lag_seconds'));
    } finally {
      await app.close();
      await database.drop();
    }
  });
});

describe('LATCHKEY_METRICS_TOKEN in the configuration', () => {
  it('is read from the environment; unset or empty leaves /metrics open', () => {
    assert.equal(loadConfig({ LATCHKEY_METRICS_TOKEN: 's3cret' }).metricsToken, 's3cret');
    assert.equal(loadConfig({ LATCHKEY_METRICS_TOKEN: '' }).metricsToken, undefined);
    assert.equal(loadConfig({}).metricsToken, undefined);
  });
});
