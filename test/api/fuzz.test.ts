import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { testDialects } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  collectIds,
  type FuzzRequest,
  type Json,
  malformed,
  type Operation,
  operations,
  oversize,
  queryString,
  resolve,
  wellFormed,
} from './fuzz/generate.ts';

// Property-based fuzzing of every route in the server's own OpenAPI document (issue 10, item 1).
//
// Phase 1 sends well-formed requests (generated from each route's schema, with ids of real devices, codes,
// webhooks… mixed with random uuids); phase 2 sends malformed ones (wrong types, missing fields, huge strings,
// deep nesting, unicode/NUL, bad dates and durations, unknown and prototype keys, non-objects, bad methods,
// bad content types, invalid JSON, empty bodies, bodies over 1 MiB, hostile query strings, bad keys).
// For every response: never 5xx; a `seam-request-id` header; every non-2xx is JSON in the Seam envelope.
// In phase 2 the workspace's state (devices, their codes, events, webhooks, action attempts) is snapshotted
// before each chunk and compared after it whenever no request of the chunk could have changed it (no 2xx
// outside the read routes): an error never changes state.
//
// Size: FUZZ_RUNS requests in total per dialect (default 1000, CI); the nightly run is
//   FUZZ_RUNS=10000 node scripts/run-tests.mjs fuzz
// Replay: every run prints its seed; FUZZ_SEED=<seed> node scripts/run-tests.mjs fuzz sends the same sequence.
// Traffic goes to the test server on 127.0.0.1 only; webhook URLs point at 127.0.0.1:9 and the job runner
// is not started, so nothing is ever delivered.

const RUNS = Number(process.env.FUZZ_RUNS ?? 1000);
const SEED =
  process.env.FUZZ_SEED === undefined
    ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0
    : Number(process.env.FUZZ_SEED);
const CONCURRENCY = 8;
const CHUNK = 50;
const OVERSIZE_EVERY = 100;
const SNAKE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/;

interface Outcome {
  index: number;
  req: FuzzRequest;
  status: number;
  problems: string[];
  text: string;
}

function describeRequest(o: Outcome): string {
  const short = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}… (${s.length} chars)` : s);
  const body =
    o.req.rawBody !== undefined
      ? `raw ${JSON.stringify(short(o.req.rawBody))}`
      : short(JSON.stringify(o.req.body) ?? '');
  return (
    `#${o.index} [${o.req.kind}] ${o.req.method} ${o.req.path}` +
    `${o.req.rawQuery ? `?${short(o.req.rawQuery)}` : o.req.query ? ` query ${short(JSON.stringify(o.req.query))}` : ''}` +
    ` ${JSON.stringify(o.req.headers ?? {})} ${body}\n    → ${o.status}: ${o.problems.join('; ')}\n    ${short(o.text)}`
  );
}

async function pool<T, R>(items: T[], n: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i] as T, i);
      }
    }),
  );
  return out;
}

for (const dialect of testDialects()) {
  describe(`API fuzzing (${dialect.name}, ${RUNS} requests, seed ${SEED})`, () => {
    let server: TestServer;
    let ops: Operation[];
    const allowed = new Map<string, string[]>();
    const ids = new Map<string, string[]>();
    const readPaths = new Set<string>();
    const failures: Outcome[] = [];
    const stats = new Map<string, Map<number, number>>();

    before(async () => {
      server = await startTestServer(dialect);
      const doc: Json = (await call(server, '/openapi.json', { method: 'GET' })).json;
      ops = operations(doc);
      for (const op of ops) {
        allowed.set(op.path, [...(allowed.get(op.path) ?? []), op.method]);
        if (op.method === 'GET' && !op.path.includes('/simulate/')) readPaths.add(op.path);
      }
      for (const path of ['/devices/list', '/connected_accounts/list', '/workspaces/get'])
        collectIds((await call(server, path, { body: {} })).json, ids);
      for (const d of server.sandbox.devices) collectIds(d, ids);
    });
    after(() => server?.close());

    async function send(req: FuzzRequest, index: number): Promise<Outcome> {
      const body = req.body === undefined ? undefined : resolve(req.body, ids);
      let r: Awaited<ReturnType<typeof call>>;
      try {
        r = await call(server, `${req.path}${queryString(req, ids)}`, {
          method: req.method,
          ...(body === undefined ? {} : { body }),
          ...(req.rawBody === undefined ? {} : { rawBody: req.rawBody }),
          // A fresh connection each: the server closes the socket after a 413/431, which must not hit the next request.
          headers: { connection: 'close', ...req.headers },
          ...(req.key === undefined ? {} : { key: req.key }),
        });
      } catch (error) {
        const outcome = { index, req, status: 0, problems: [`no response: ${error}`], text: '' };
        failures.push(outcome);
        return outcome;
      }
      const problems: string[] = [];
      if (r.status >= 500 || r.status < 200) problems.push(`status ${r.status}`);
      if (!r.headers.get('seam-request-id')) problems.push('no seam-request-id header');
      if (r.status >= 200 && r.status < 300) {
        if (r.json?.ok !== true) problems.push('2xx without "ok": true');
        collectIds(r.json, ids);
      } else {
        if (!(r.headers.get('content-type') ?? '').startsWith('application/json'))
          problems.push(`content-type ${r.headers.get('content-type')}`);
        if (r.json?.ok !== false) problems.push('no "ok": false');
        const type = r.json?.error?.type;
        if (typeof type !== 'string' || !SNAKE.test(type))
          problems.push(`error.type ${JSON.stringify(type)}`);
        const message = r.json?.error?.message;
        if (typeof message !== 'string' || message.length === 0)
          problems.push(`error.message ${JSON.stringify(message)}`);
      }
      const byStatus = stats.get(req.kind) ?? new Map<number, number>();
      byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
      stats.set(req.kind, byStatus);
      const outcome = { index, req, status: r.status, problems, text: r.text };
      if (problems.length > 0) failures.push(outcome);
      return outcome;
    }

    /** Everything an error must leave untouched, as one comparable string. */
    async function snapshot(): Promise<string> {
      const read = async (path: string, body: Json) => {
        const r = await call(server, path, { body });
        assert.equal(r.status, 200, `${path}: ${r.text}`);
        return r.json;
      };
      const devices = (await read('/devices/list', { limit: 500 })).devices;
      const codes: Json[] = [];
      for (const d of devices)
        codes.push((await read('/access_codes/list', { device_id: d.device_id })).access_codes);
      const events = (await read('/events/list', { since: '2000-01-01T00:00:00Z', limit: 100000 })).events;
      const webhooks = (await read('/webhooks/list', {})).webhooks;
      const attempts = (await read('/action_attempts/list', { limit: 100000 })).action_attempts;
      return JSON.stringify({ devices, codes, events, webhooks, attempts });
    }

    function report(phase: string, started: number, n: number): string {
      const lines = [...stats.entries()].sort().map(
        ([kind, byStatus]) =>
          `  ${kind}: ${[...byStatus.entries()]
            .sort()
            .map(([s, c]) => `${s}×${c}`)
            .join(' ')}`,
      );
      stats.clear();
      return `${phase}: ${n} requests in ${Date.now() - started} ms (seed ${SEED})\n${lines.join('\n')}`;
    }

    function assertNoFailures(phase: string): void {
      if (failures.length === 0) return;
      const shown = failures.slice(0, 10).map(describeRequest).join('\n');
      assert.fail(
        `${phase}: ${failures.length} request(s) broke the properties. Replay with FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} node scripts/run-tests.mjs fuzz\n${shown}`,
      );
    }

    it('well-formed requests to every route: no 5xx, the error envelope on every non-2xx, a request id', async () => {
      const started = Date.now();
      const n = Math.max(ops.length, Math.round(RUNS * 0.4));
      const arb = fc.constantFrom(...ops).chain((op) => wellFormed(op, server.clock.now));
      // Every operation once, then random ones.
      const reqs = [
        ...ops.map(
          (op, i) =>
            fc.sample(wellFormed(op, server.clock.now), { seed: SEED + i, numRuns: 1 })[0] as FuzzRequest,
        ),
        ...fc.sample(arb, { seed: SEED, numRuns: n - ops.length }),
      ];
      await pool(reqs, CONCURRENCY, send);
      console.log(report(`well-formed (${dialect.name})`, started, reqs.length));
      assertNoFailures('well-formed');
    });

    it('malformed requests to every route: no 5xx, the error envelope, and no state change on error', async () => {
      const started = Date.now();
      const n = Math.max(ops.length, RUNS - Math.round(RUNS * 0.4));
      const arb = fc
        .constantFrom(...ops)
        .chain((op) => malformed(op, allowed.get(op.path) ?? [], server.clock.now));
      const reqs = fc.sample(arb, { seed: SEED + 1, numRuns: n });
      // A few bodies over the size limit, spread over the routes.
      const big = fc.sample(
        fc.constantFrom(...ops).chain((op) => oversize(op)),
        { seed: SEED + 2, numRuns: Math.max(2, Math.floor(n / OVERSIZE_EVERY)) },
      );
      for (const [i, req] of big.entries())
        reqs.splice(Math.floor(((i + 0.5) * reqs.length) / big.length), 1, req);
      let before = await snapshot();
      let compared = 0;
      const changes: string[] = [];
      for (let start = 0; start < reqs.length; start += CHUNK) {
        const chunk = reqs.slice(start, start + CHUNK);
        const outcomes = await pool(chunk, CONCURRENCY, (req, i) => send(req, start + i));
        const mayChange = outcomes.some((o) => o.status < 300 && !readPaths.has(o.req.path));
        const now = await snapshot();
        if (!mayChange) {
          compared += chunk.length;
          if (now !== before) {
            const errs = outcomes
              .filter((o) => o.status >= 300)
              .map((o) => `#${o.index} [${o.req.kind}] ${o.req.method} ${o.req.path} → ${o.status}`);
            changes.push(
              `state changed over requests #${start}–#${start + chunk.length - 1}, all errors or reads:\n    ${errs.join('\n    ')}`,
            );
          }
        }
        before = now;
      }
      console.log(
        `${report(`malformed (${dialect.name})`, started, reqs.length)}\n  state compared across ${compared}/${reqs.length} requests`,
      );
      assertNoFailures('malformed');
      assert.deepEqual(changes, [], `replay with FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`);
      assert.ok(
        compared >= reqs.length / 2,
        `state was compared across only ${compared}/${reqs.length} requests`,
      );
    });
  });
}
