// npm run bench:scale — issue 9, item 4 (scale-out). The same load against 1, 2 and 3 `latchkey serve` processes
// sharing one Postgres database (a fresh database for each run, dropped afterwards), then the correctness of what
// that load wrote, checked on the database by the scale-out test's oracle (test/scale/invariants.ts).
//
// Per run: N processes start (`node --import tsx src/cli/main.ts serve --port 0`, same master key and bootstrap key,
// rate limit off; the first alone — it migrates and seeds — then the others together). Through the first: a webhook
// for every event on a receiver in this process (answers 200 at once), BENCH_DEVICES sandbox locks, 2 "hot" locks,
// a lock pre-filled to 180 codes, a lock with 48 codes to read, and 120 codes on 12 locks whose windows a clock jump
// in the middle of the load will cross. Then autocannon, one instance per process with the connections split
// between them (BENCH_CONNECTIONS in all, the same total for every N): BENCH_WARMUP_SECONDS not measured (so every
// process and its pool of Postgres backends is warm, as the first one is from the setup), the jobs that made drained,
// then BENCH_SECONDS measured, over this mix of 20:
//   14 offline creates spread over the BENCH_DEVICES locks (the n-th: lock n mod D, start hour ⌊n/D⌋, 2 h — one
//      code per (lock, hour), so no limit stops them),
//    1 create on the hot locks (4 hourly slots in all, 12 codes fit; the rest must be 409 offline_code_slot_full),
//    1 create on the pre-filled lock, each on its own hour (19 fit; the rest must be 409 max_access_codes_reached),
//    4 GET /access_codes/get over the 48 codes.
// Half-way through, advance_clock is asked of all N processes at once (the shift split between them), past the 120
// codes' windows: their steps, events and webhook deliveries run under the load, on every process.
// Reported: aggregate req/s (every response of every instance / wall time), p50/p99 over every response's latency
// (exact, from autocannon's per-response times), errors (connection errors, timeouts, and any response other than
// 200 or the expected 409s), the scaling ratio against 1 process, and req/s per process.
// After the load: the job backlog drains; a second advance_clock from all processes at once moves the workspace
// clock to half past the hour BENCH_ADVANCE_HOURS after the load's first start hour (the load's first codes end,
// later ones start or enter `setting`), the jobs drain again, and test/scale/invariants.ts checks: no slot over its
// capacity and no lock over 199 live codes at any instant, no PIN shared by two live codes of a lock, each code's
// lifecycle events exactly once for the transitions the clock has passed (and none for the others), every job done
// exactly once, each event delivered to the webhook exactly once (one request per svix-id, one successful attempt
// per delivery). The database is also sampled for limits once a second during the load.
//
// Not pinned with taskset: the machine has 2 cores and this measures whether more server processes use them, so
// Postgres, the N servers, the load generator and the webhook receiver all share both cores (and whatever else
// runs on the machine: the load average is printed). Beyond 2 cores nothing can scale here. So that a reader can tell
// a limit of the code from a crowded machine, the CPU seconds used during the measured load are reported (Linux
// /proc): by the servers, by this database's Postgres backends, by this process, and by everything else.
//
// Environment: BENCH_SECONDS (default 10), BENCH_WARMUP_SECONDS (default 3), BENCH_CONNECTIONS (default 12),
// BENCH_DEVICES (default 300), BENCH_PROCESSES (default 1,2,3), BENCH_ROUNDS (default 1; runs interleave
// 1,2,3,1,2,3…, figures are medians), BENCH_ADVANCE_HOURS (default 2), LATCHKEY_BENCH_DATABASE_URL (default
// postgres://root@127.0.0.1:5432/test).
// Always exits 0; every child is killed and every database dropped, also on failure or Ctrl-C.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { checkInvariants, type Delivered, drainJobs, limitsNow } from '../test/scale/invariants.ts';
import { postJson } from './lib.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 12);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 300);
const PROCESSES = (process.env.BENCH_PROCESSES ?? '1,2,3').split(',').map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 1);
const ADVANCE_HOURS = Number(process.env.BENCH_ADVANCE_HOURS ?? 2);
const PG_ADMIN_URL = process.env.LATCHKEY_BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const DRAIN_MS = 240_000;
const API_KEY = `seam_scalebench_${randomBytes(8).toString('hex')}`;
const MASTER_KEY = randomBytes(32).toString('hex');
const HOUR = 3_600_000;
const HOT_LOCKS = 2;
const HOT_HOURS = 2;
const CAP_PREFILL = 180;
const READ_CODES = 48;
/** Codes made before the load whose whole lifecycle a clock jump in the middle of the load runs. */
const LIFECYCLE_CODES = 120;
const LIFECYCLE_LOCKS = 12;

const children = new Set<ChildProcess>();
const databases = new Set<string>();
const notes: string[] = [];

// ---------------------------------------------------------------------------------------------- processes
interface Server {
  proc: ChildProcess;
  url: string;
  /** Log lines at warn or above (the servers log at warn), and anything on stderr. */
  warnings: string[];
}

function serve(databaseUrl: string, dataDir: string): Promise<Server> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['PORT', 'HOST', 'LATCHKEY_WEBHOOK_ALLOW_PRIVATE']) delete env[name];
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0'], {
    cwd: ROOT,
    env: {
      ...env,
      DATABASE_URL: databaseUrl,
      LATCHKEY_MASTER_KEY: MASTER_KEY,
      LATCHKEY_BOOTSTRAP_API_KEY: API_KEY,
      LATCHKEY_DATA_DIR: dataDir,
      LATCHKEY_RATE_LIMIT: '0',
      LATCHKEY_WEBHOOK_ALLOW_PRIVATE: 'true',
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  const warnings: string[] = [];
  let stderr = '';
  proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
    const lines = stderr.split('\n');
    stderr = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) warnings.push(line);
  });
  return new Promise((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(
      () => reject(new Error(`serve printed no URL in 60 s: ${warnings.join('\n')}`)),
      60_000,
    );
    let served = false;
    let partial = '';
    proc.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      if (served) {
        // pino writes its lines (warn and above here) to stdout.
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const line of lines) if (line.startsWith('{')) warnings.push(line);
        return;
      }
      stdout += chunk;
      const found = /serving the Seam-compatible API at (http:\/\/\S+)/.exec(stdout);
      if (found?.[1]) {
        served = true;
        clearTimeout(timer);
        resolve({ proc, url: found[1], warnings });
      }
    });
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${code ?? signal}) before serving: ${warnings.join('\n')} ${stderr}`));
    });
  });
}

/** SIGTERM, SIGKILL after 10 s; the exit code (null: killed). */
function stop(proc: ChildProcess): Promise<number | null> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve(proc.exitCode);
  return new Promise((resolve) => {
    const kill = setTimeout(() => proc.kill('SIGKILL'), 10_000);
    proc.once('exit', (code) => {
      clearTimeout(kill);
      resolve(code);
    });
    proc.kill('SIGTERM');
  });
}

// ---------------------------------------------------------------------------------------------- database
async function admin<T>(f: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 3000 });
  await client.connect();
  try {
    return await f(client);
  } finally {
    await client.end();
  }
}

async function createDatabase(): Promise<{ name: string; url: string }> {
  const name = `latchkey_bench_scale_${process.pid}_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${name}`));
  databases.add(name);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return { name, url: url.toString() };
}

async function dropDatabase(name: string): Promise<void> {
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  databases.delete(name);
}

// ---------------------------------------------------------------------------------------------- receiver
interface Receiver {
  url: string;
  received: { path: string; svixId: string; body: string }[];
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Receiver['received'] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        path: req.url ?? '/',
        svixId: String(req.headers['svix-id'] ?? ''),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// ---------------------------------------------------------------------------------------------- API
const call = <T>(url: string, path: string, body: unknown) => postJson<T>(url, path, API_KEY, body);

/** Runs `f` over `items`, `width` at a time. */
async function pool<T, R>(items: T[], width: number, f: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await f(items[i] as T, i);
      }
    }),
  );
  return out;
}

const lock = async (url: string, name: string) =>
  (await call<{ device: { device_id: string } }>(url, '/devices/simulate/create', { name })).device.device_id;

const offline = (device_id: string, start: number, hours = 2) => ({
  device_id,
  is_offline_access_code: true,
  starts_at: new Date(start).toISOString(),
  ends_at: new Date(start + hours * HOUR).toISOString(),
});

// ---------------------------------------------------------------------------------------------- one run
type Kind = 'create' | 'hot' | 'cap' | 'get';
const EXPECTED_REFUSAL: Record<Kind, string | null> = {
  create: null,
  hot: 'offline_code_slot_full',
  cap: 'max_access_codes_reached',
  get: null,
};
/** The mix, 20 requests: 70 % spread creates, 5 % hot creates, 5 % creates on the capped lock, 20 % gets. */
const CYCLE: Kind[] = [
  ...Array<Kind>(7).fill('create'),
  'get',
  'hot',
  'get',
  ...Array<Kind>(7).fill('create'),
  'get',
  'cap',
  'get',
];

interface RunResult {
  processes: number;
  rps: number;
  /** Responses in the measured window. */
  requests: number;
  p50: number;
  p99: number;
  errors: number;
  perProcess: number[];
  byKind: Record<Kind, { ok: number; refused: number; other: Map<string, number> }>;
  drainAfterLoadMs: number;
  midAdvanceMs: number;
  lifecycleMs: number;
  violations: string[];
  counts: Record<string, number>;
  warnings: string[];
  exitCodes: (number | null)[];
  loadavg: number;
  cpu: CpuUse;
}

// ---------------------------------------------------------------------------------------------- CPU accounting
// Linux /proc: CPU seconds of given processes, and of the whole machine, so the report can say who used the
// 2 cores during the load (the servers, this database's Postgres backends, this process, or someone else).
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout?.toString().trim()) || 100;

function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime
  } catch {
    return Number.NaN;
  }
}

/** Busy and total CPU seconds of the machine (all cores) since boot. */
function machineCpu(): { busy: number; total: number } {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    return { busy: (total - idle) / CLK_TCK, total: total / CLK_TCK };
  } catch {
    return { busy: Number.NaN, total: Number.NaN };
  }
}

interface CpuSnapshot {
  jobsDone: number;
  servers: number[];
  postgres: Map<number, number>;
  self: number;
  machine: { busy: number; total: number };
}

async function cpuSnapshot(servers: Server[], sampler: pg.Client, database: string): Promise<CpuSnapshot> {
  const pids = (
    await sampler.query('select pid from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()', [
      database,
    ])
  ).rows.map((r) => Number(r.pid));
  const usage = process.cpuUsage();
  const done = (await sampler.query(`select count(*)::int as n from jobs where status = 'done'`)).rows[0]?.n;
  return {
    jobsDone: Number(done),
    servers: servers.map((s) => cpuOf(s.proc.pid ?? -1)),
    postgres: new Map(pids.map((pid) => [pid, cpuOf(pid)])),
    self: (usage.user + usage.system) / 1e6,
    machine: machineCpu(),
  };
}

interface CpuUse {
  /** Jobs (lifecycle steps, webhook deliveries) done during the load. */
  jobsDone: number;
  servers: number;
  postgres: number;
  self: number;
  machineBusy: number;
  capacity: number;
}

function cpuUse(a: CpuSnapshot, b: CpuSnapshot): CpuUse {
  let postgres = 0;
  for (const [pid, cpu] of b.postgres) {
    const before = a.postgres.get(pid) ?? 0;
    if (Number.isFinite(cpu)) postgres += cpu - (Number.isFinite(before) ? before : 0);
  }
  return {
    jobsDone: b.jobsDone - a.jobsDone,
    servers: b.servers.reduce((t, x, i) => t + x - (a.servers[i] ?? 0), 0),
    postgres,
    self: b.self - a.self,
    machineBusy: b.machine.busy - a.machine.busy,
    capacity: b.machine.total - a.machine.total,
  };
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] as number;
}

async function run(processes: number): Promise<RunResult> {
  const database = await createDatabase();
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-scale-'));
  const receiver = await startReceiver();
  const servers: Server[] = [];
  try {
    // The first process migrates and seeds; the others start together once it serves.
    servers.push(await serve(database.url, dataDir));
    servers.push(
      ...(await Promise.all(Array.from({ length: processes - 1 }, () => serve(database.url, dataDir)))),
    );
    const urls = servers.map((s) => s.url);
    const first = urls[0] as string;

    // --- setup, through the first process
    const t0 = performance.now();
    await call(first, '/webhooks/create', { url: `${receiver.url}/hook` });
    // Hours: the lifecycle codes from baseL (4 start hours), the clock jump of mid-load to baseL + 5.5 h, the
    // load's codes from base = baseL + 8 h (still ahead of the clock after that jump).
    const baseL = Math.ceil(Date.now() / HOUR) * HOUR + 2 * HOUR;
    const base = baseL + 8 * HOUR;
    const devices = await pool(
      Array.from({ length: DEVICES }, (_, i) => i),
      8,
      (i) => lock(first, `spread ${i}`),
    );
    const hot = await pool(
      Array.from({ length: HOT_LOCKS }, (_, i) => i),
      4,
      (i) => lock(first, `hot ${i}`),
    );
    const capLock = await lock(first, 'cap');
    const readLock = await lock(first, 'read');
    await pool(
      Array.from({ length: CAP_PREFILL }, (_, i) => i),
      8,
      (i) => call(first, '/access_codes/create', offline(capLock, base + (400 + i) * HOUR)),
    );
    const readIds = await pool(
      Array.from({ length: READ_CODES }, (_, i) => i),
      8,
      async (i) =>
        (
          await call<{ access_code: { access_code_id: string } }>(
            first,
            '/access_codes/create',
            offline(readLock, base + (100 + Math.floor(i / 3)) * HOUR),
          )
        ).access_code.access_code_id,
    );
    const lifecycleLocks = await pool(
      Array.from({ length: LIFECYCLE_LOCKS }, (_, i) => i),
      4,
      (i) => lock(first, `lifecycle ${i}`),
    );
    await pool(
      Array.from({ length: LIFECYCLE_CODES }, (_, i) => i),
      8,
      (i) =>
        call(
          first,
          '/access_codes/create',
          offline(
            lifecycleLocks[i % LIFECYCLE_LOCKS] as string,
            baseL + (Math.floor(i / LIFECYCLE_LOCKS) % 4) * HOUR,
            1 + (i % 2),
          ),
        ),
    );
    // The setup's webhook deliveries are sent before the load starts, so the load's window holds only its own work.
    await drainJobs(database.url, DRAIN_MS);
    const setupMs = performance.now() - t0;
    // advance_clock asked of every process at once, the shift split between them; resolves with the time taken.
    let offset = 0; // a fresh workspace: its clock is real time plus what we added
    const advance = async (to: number): Promise<number> => {
      const total = Math.round((to - (Date.now() + offset)) / 1000);
      offset += total * 1000;
      const t = performance.now();
      await Promise.all(
        urls.map((url, i) =>
          call(url, '/workspaces/simulate/advance_clock', {
            by: `PT${Math.floor(total / urls.length) + (i === 0 ? total % urls.length : 0)}S`,
          }),
        ),
      );
      return performance.now() - t;
    };

    // --- the load: one autocannon per process, the connections split between them
    const counters: Record<Kind, number> = { create: 0, hot: 0, cap: 0, get: 0 };
    const newTally = () =>
      Object.fromEntries(
        (Object.keys(counters) as Kind[]).map((k) => [
          k,
          { ok: 0, refused: 0, other: new Map<string, number>() },
        ]),
      ) as RunResult['byKind'];
    let byKind = newTally();
    const auth = { authorization: `Bearer ${API_KEY}`, 'content-type': 'application/json' };
    const bodyFor = (kind: Kind): string => {
      const n = counters[kind]++;
      if (kind === 'create')
        return JSON.stringify({
          ...offline(devices[n % devices.length] as string, base + Math.floor(n / devices.length) * HOUR),
          name: `bench ${n}`,
        });
      if (kind === 'hot')
        return JSON.stringify(
          offline(hot[n % HOT_LOCKS] as string, base + (Math.floor(n / HOT_LOCKS) % HOT_HOURS) * HOUR),
        );
      return JSON.stringify(offline(capLock, base + (700 + n) * HOUR));
    };
    // One request definition: each request takes the next kind of the mix (a counter shared by every connection
    // of every instance, so the mix holds however short the run), and its connection's context remembers the kind
    // for the response (a connection has one request in flight).
    let sent = 0;
    const requests: autocannon.Request[] = [
      {
        method: 'POST',
        path: '/access_codes/create',
        headers: auth,
        setupRequest: (req, context) => {
          const kind = CYCLE[sent++ % CYCLE.length] as Kind;
          (context as { kind?: Kind }).kind = kind;
          if (kind === 'get') {
            const id = readIds[counters.get++ % readIds.length];
            // Fresh headers: autocannon keeps the previous request's Content-Length in the shared ones.
            const path = `/access_codes/get?access_code_id=${id}`;
            return { ...req, method: 'GET', path, headers: { ...auth }, body: undefined };
          }
          return {
            ...req,
            method: 'POST',
            path: '/access_codes/create',
            headers: { ...auth },
            body: bodyFor(kind),
          };
        },
        onResponse: (status, body, context) => {
          const kind = (context as { kind?: Kind }).kind ?? 'create';
          const tally = byKind[kind];
          if (status === 200) tally.ok += 1;
          else {
            let type = '';
            try {
              type = JSON.parse(body)?.error?.type ?? '';
            } catch {}
            if (status === 409 && type === EXPECTED_REFUSAL[kind]) tally.refused += 1;
            else tally.other.set(`${status} ${type}`, (tally.other.get(`${status} ${type}`) ?? 0) + 1);
          }
        },
      },
    ];
    let latencies: number[] = [];
    let perProcess = urls.map(() => 0);
    const sampler = new pg.Client({ connectionString: database.url });
    await sampler.connect();
    const sampled = new Set<string>();
    let loading = true;
    const sampling = (async () => {
      while (loading) {
        for (const v of await limitsNow(sampler)) sampled.add(`during the load: ${v}`);
        await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    const split = urls.map(
      (_, i) => Math.floor(CONNECTIONS / urls.length) + (i < CONNECTIONS % urls.length ? 1 : 0),
    );
    const hammer = (seconds: number) =>
      Promise.all(
        urls.map(
          (url, i) =>
            new Promise<autocannon.Result>((resolve, reject) => {
              const instance = autocannon(
                { url, connections: split[i] as number, duration: seconds, requests },
                (error, result) => (error ? reject(error) : resolve(result)),
              );
              instance.on('response', (_client, _status, _bytes, responseTime) => {
                latencies.push(responseTime);
                perProcess[i] = (perProcess[i] as number) + 1;
              });
            }),
        ),
      );
    const unexpectedOf = (tally: RunResult['byKind']) =>
      Object.values(tally).reduce((t, k) => t + [...k.other.values()].reduce((a, b) => a + b, 0), 0);
    // Warm-up, not measured: every process (and each one's pool of Postgres backends) has served the same mix
    // before the measurement, as the first one has served the setup; then the jobs it made are worked off.
    if (WARMUP > 0) {
      const warm = await hammer(WARMUP);
      const bad = unexpectedOf(byKind) + warm.reduce((t, r) => t + r.errors + r.timeouts, 0);
      if (bad > 0)
        notes.push(`${processes} process(es): ${bad} errors or unexpected answers during the warm-up`);
      byKind = newTally();
      latencies = [];
      perProcess = urls.map(() => 0);
      await drainJobs(database.url, DRAIN_MS);
    }
    const cpuBefore = await cpuSnapshot(servers, sampler, database.name);
    const loadStart = performance.now();
    // Half-way through the load, the clock jumps past every lifecycle code's window: their steps, events and
    // deliveries run while the load goes on.
    let midAdvanceMs = Number.NaN;
    const midAdvance = new Promise<void>((resolve) =>
      setTimeout(
        () => {
          advance(baseL + 5 * HOUR + HOUR / 2)
            .then((ms) => {
              midAdvanceMs = ms;
            })
            .catch((error) => notes.push(`${processes} process(es): mid-load advance_clock failed: ${error}`))
            .finally(resolve);
        },
        (SECONDS * 1000) / 2,
      ),
    );
    const results = await hammer(SECONDS);
    const wall = (performance.now() - loadStart) / 1000;
    const cpu = cpuUse(cpuBefore, await cpuSnapshot(servers, sampler, database.name));
    await midAdvance;
    loading = false;
    await sampling;
    await sampler.end();
    const sorted = Float64Array.from(latencies).sort();
    const errors = results.reduce((t, r) => t + r.errors + r.timeouts, 0) + unexpectedOf(byKind);
    const rps = latencies.length / wall;
    console.error(
      `  ${processes} process(es): setup ${(setupMs / 1000).toFixed(1)} s; load ${rps.toFixed(0)} req/s, ` +
        `p50 ${percentile(sorted, 50).toFixed(1)} ms, p99 ${percentile(sorted, 99).toFixed(1)} ms, errors ${errors}`,
    );

    // --- drain, advance the clock from every process at once, drain, check
    let t = performance.now();
    const left = await drainJobs(database.url, DRAIN_MS);
    const drainAfterLoadMs = performance.now() - t;
    if (left > 0)
      notes.push(`${processes} process(es): ${left} jobs still due after the load and ${DRAIN_MS / 1000} s`);
    t = performance.now();
    await advance(base + ADVANCE_HOURS * HOUR + HOUR / 2);
    const leftAfter = await drainJobs(database.url, DRAIN_MS);
    const lifecycleMs = performance.now() - t;
    if (leftAfter > 0)
      notes.push(`${processes} process(es): ${leftAfter} jobs still due after advance_clock`);
    await new Promise((r) => setTimeout(r, 500)); // a duplicate delivery would arrive by now
    const received: Delivered[] = receiver.received.map((r) => {
      let eventId = '';
      try {
        eventId = JSON.parse(r.body).event_id ?? '';
      } catch {}
      return { path: r.path, svixId: r.svixId, eventId };
    });
    const report = await checkInvariants(database.url, received, { maxViolations: 20 });
    console.error(
      `  ${processes} process(es): backlog drained ${(drainAfterLoadMs / 1000).toFixed(1)} s after the load; ` +
        `advance_clock + lifecycle ${(lifecycleMs / 1000).toFixed(1)} s; ` +
        `${report.violations.length + sampled.size === 0 ? 'correct' : `${report.violations.length + sampled.size} violations`}`,
    );
    const exitCodes = await Promise.all(servers.map((s) => stop(s.proc)));
    return {
      processes,
      rps,
      requests: latencies.length,
      p50: percentile(sorted, 50),
      p99: percentile(sorted, 99),
      errors,
      perProcess: perProcess.map((n) => n / wall),
      byKind,
      drainAfterLoadMs,
      midAdvanceMs,
      lifecycleMs,
      violations: [...sampled, ...report.violations],
      counts: report.counts,
      warnings: servers.flatMap((s) => s.warnings),
      exitCodes,
      loadavg: loadavg()[0] ?? Number.NaN,
      cpu,
    };
  } finally {
    await Promise.all(servers.map((s) => stop(s.proc)));
    await receiver.close();
    await dropDatabase(database.name);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------- report
function median(values: number[]): number {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
}

const fmt = (n: number, d = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d })
    : '—';

function report(results: RunResult[]): void {
  const by = new Map<number, RunResult[]>();
  for (const r of results) by.set(r.processes, [...(by.get(r.processes) ?? []), r]);
  const one = median((by.get(1) ?? []).map((r) => r.rps));
  console.log(
    `\n${ROUNDS} round(s) of ${SECONDS} s per process count, ${CONNECTIONS} connections in all (split between the ` +
      `processes); figures are medians over the rounds. Postgres, the servers, autocannon and the webhook receiver ` +
      `share this machine's ${cpus().length} cores (not pinned), so scaling beyond 2 processes cannot show here.\n`,
  );
  console.log(
    '| processes | req/s (aggregate) | per round | per process (req/s) | p50 ms | p99 ms | errors | × 1 process | correctness |',
  );
  console.log('| ---: | ---: | --- | --- | ---: | ---: | ---: | ---: | --- |');
  for (const [n, list] of [...by].sort((a, b) => a[0] - b[0])) {
    const rps = median(list.map((r) => r.rps));
    const bad = list.reduce((t, r) => t + r.violations.length, 0);
    console.log(
      `| ${n} | ${fmt(rps)} | ${list.map((r) => fmt(r.rps)).join(' / ')} | ` +
        `${list.map((r) => r.perProcess.map((x) => fmt(x)).join(' + ')).join(' / ')} | ` +
        `${fmt(median(list.map((r) => r.p50)), 1)} | ${fmt(median(list.map((r) => r.p99)), 1)} | ` +
        `${list.reduce((t, r) => t + r.errors, 0)} | ${fmt(rps / one, 2)}× | ${bad === 0 ? 'all checks hold' : `${bad} violations`} |`,
    );
  }
  console.log('\nPer run: the mix (ok / expected 409 / other), the backlog, the checks:');
  for (const r of results) {
    const kinds = (Object.keys(r.byKind) as Kind[])
      .map((k) => {
        const x = r.byKind[k];
        const other = [...x.other].map(([s, n]) => `${n}× ${s}`).join(', ');
        return `${k} ${x.ok}/${x.refused}${other ? ` (${other})` : ''}`;
      })
      .join('; ');
    console.log(
      `- ${r.processes} process(es), load average ${fmt(r.loadavg, 1)}: ${kinds}. The mid-load advance_clock ` +
        `(${LIFECYCLE_CODES} codes through their lifecycle) answered in ${fmt(r.midAdvanceMs / 1000, 1)} s; the job ` +
        `backlog (lifecycle steps, webhook deliveries) drained ${fmt(r.drainAfterLoadMs / 1000, 1)} s after the load; ` +
        `the second advance_clock and its jobs took ${fmt(r.lifecycleMs / 1000, 1)} s. Exit codes ${r.exitCodes.join(', ')}.`,
    );
    const c = r.counts;
    console.log(
      `  checked: ${c.codes} codes (${c.live_codes} live), most live codes on one lock at once ${c.max_live_codes_on_a_device} ` +
        `(cap 199), ${c.full_slots} of ${c.slots} slots full and none over, ${c.pins_shared_while_live} PINs shared while live; ` +
        `lifecycle of ${c.codes_judged} codes (${c.access_code_events} access-code events) each transition once; ` +
        `${c.jobs_done} jobs done once (${c.jobs_pending_not_due} not due yet); ${c.deliveries} deliveries, ` +
        `${c.received} requests received, each once.`,
    );
    const u = r.cpu;
    const share = (x: number) => `${fmt(x, 1)} s (${fmt((100 * x) / u.capacity, 0)} %)`;
    console.log(
      `  During the load: ${u.jobsDone} jobs done (lifecycle steps, webhook deliveries). ` +
        `CPU, of ${fmt(u.capacity, 1)} core-seconds: servers ${share(u.servers)}, Postgres ` +
        `(this database's backends) ${share(u.postgres)}, load generator and receiver ${share(u.self)}, ` +
        `everything else on the machine ${share(u.machineBusy - u.servers - u.postgres - u.self)}, idle ` +
        `${share(u.capacity - u.machineBusy)}. Per request answered: ${fmt((1000 * u.servers) / r.requests, 1)} ms ` +
        `of server CPU and ${fmt((1000 * u.postgres) / r.requests, 1)} ms of Postgres CPU (jobs included).`,
    );
    for (const v of r.violations) console.log(`  VIOLATION: ${v}`);
    const warned = r.warnings.filter((w) => !w.includes('"level":30'));
    if (warned.length > 0)
      console.log(
        `  servers logged ${warned.length} warning/error lines, e.g. ${warned.slice(0, 3).join(' | ')}`,
      );
  }
  for (const note of notes) console.log(`note: ${note}`);
}

// ---------------------------------------------------------------------------------------------- main
async function main(): Promise<void> {
  const started = Date.now();
  try {
    await admin(async (c) => c.query('select 1'));
  } catch (error) {
    console.log(`bench:scale not run: Postgres at ${PG_ADMIN_URL} unreachable (${(error as Error).message})`);
    return;
  }
  const pgVersion = await admin(async (c) => (await c.query('show server_version')).rows[0]?.server_version);
  console.error(
    `bench:scale — ${PROCESSES.join('/')} processes × ${ROUNDS} round(s) × ${SECONDS} s, ${CONNECTIONS} connections, ` +
      `${DEVICES} locks; Node ${process.version}, Postgres ${pgVersion}, ${cpus().length} cores, ` +
      `load average ${loadavg()
        .map((x) => x.toFixed(1))
        .join(' ')} (not pinned: everything shares the cores)`,
  );
  const results: RunResult[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    for (const n of PROCESSES) {
      try {
        results.push(await run(n));
      } catch (error) {
        notes.push(`${n} process(es), round ${round + 1}: ${(error as Error).message.slice(0, 400)}`);
      }
    }
  }
  report(results);
  console.log(`\n(total ${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

async function cleanup(): Promise<void> {
  for (const child of children) child.kill('SIGKILL');
  for (const name of databases) await dropDatabase(name).catch(() => undefined);
}

process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void cleanup().finally(() => process.exit(0));
  });

main()
  .catch((error) => console.error(error))
  .finally(async () => {
    await cleanup();
    process.exit(0);
  });
