// npm run bench:growth — issue 9, item 3 ("Growth"). Does a request cost the same on a young database and on
// one with a million codes? For each dialect (SQLite in temp dirs; Postgres in databases created and dropped
// here): the seeded sandbox workspace gets 10 000 locks (made by the app) and one lock with 150 live codes to
// list, then grows — 0, 100 000, 1 000 000 codes — by a fast loader (bench/growth/load.ts: not the API, but the
// rows the app writes: each code with its action attempt, events and lifecycle jobs, replayed up to now; mostly
// history, a few per lock live). The database is copied at 0 and at 100 000 codes (a file copy; CREATE
// DATABASE … TEMPLATE), so the three stages exist side by side, each served by a Latchkey server child (pinned
// to CPU 0 when `taskset` exists, the load generator in this process on CPU 1; 127.0.0.1, port 0). They are
// measured through the HTTP API in BENCH_ROUNDS interleaved rounds — every stage once per round, so whatever
// else the machine does weighs on all of them alike — each target with 1 connection (latency: requests one
// after another, timed with performance.now()) then BENCH_CONNECTIONS (throughput: autocannon):
//   create  POST /access_codes/create, offline, onto the 10 000 locks in turn (hourly slots 90+ days ahead:
//           every lock has room),
//   get     GET /access_codes/get over the 150 codes,
//   list    GET /access_codes/list of the lock with 150 codes.
// Printed: per stage the rows loaded, load time and database size, p50 / p99 / req/s (medians over the
// rounds), and each stage's ratio to stage 0 (the median of per-round ratios) against the target: flat within
// ±25 %. Then the statements a server runs for the hot requests at the last stage (captured under the
// drivers), each with its EXPLAIN: SQLite as in production (no statistics), Postgres after VACUUM ANALYZE (what
// autovacuum keeps), with what grows with the tables flagged. Bounded in time; always exits 0.
//
// Environment: BENCH_GROWTH_CODES (default 1000000; stages 0, a tenth, all), BENCH_GROWTH_DEVICES (10000),
// BENCH_GROWTH_DIALECTS (sqlite,postgres), BENCH_SECONDS per measurement (3), BENCH_ROUNDS (5),
// BENCH_CONNECTIONS (10), BENCH_GROWTH_MAX_MINUTES (150: no stage is loaded, nor round begun, past it),
// BENCH_GROWTH_TRACE=1 (time per statement and stage, from the drivers; adds a little to every request),
// GROWTH_SQLITE_PRAGMAS (applied to the servers' SQLite connections: an experiment's knob),
// LATCHKEY_BENCH_DATABASE_URL (default postgres://root@127.0.0.1:5432/test; skipped when unreachable).
import { type ChildProcess, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import pino from 'pino';
import { bootstrap } from '../src/app/bootstrap.ts';
import { createServices } from '../src/app/serve.ts';
import type { AccessCodeRecord } from '../src/domain/records.ts';
import { openStore } from '../src/store/index.ts';
import { prng } from '../test/helpers/prng.ts';
import {
  type CapturedStatement,
  explainPostgres,
  explainSqlite,
  GROWING_TABLES,
  INVENTORY_TABLES,
  isPlannable,
  type Plan,
} from '../test/store/plans.ts';
import {
  type CodeWriter,
  createLocks,
  emptyRows,
  flush,
  type Lock,
  loadHistory,
  postgresSink,
  type RowSink,
  sqliteSink,
  writeCode,
} from './growth/load.ts';
import { pinSelfToCpu1, postJson, runBench, stopChild } from './lib.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const CODES = Number(process.env.BENCH_GROWTH_CODES ?? 1_000_000);
const DEVICES = Number(process.env.BENCH_GROWTH_DEVICES ?? 10_000);
const DIALECTS = (process.env.BENCH_GROWTH_DIALECTS ?? 'sqlite,postgres').split(',');
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const DEADLINE = Date.now() + Number(process.env.BENCH_GROWTH_MAX_MINUTES ?? 150) * 60_000;
const PG_ADMIN_URL = process.env.LATCHKEY_BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const API_KEY = 'seam_latchkeygrowth_0123456789abcdef';
const MASTER_KEY = 'cd'.repeat(32);
const HOUR = 3_600_000;
const SEED = 20_240_901;
const STAGES = [0, Math.round(CODES / 10), CODES];
const TARGET = 0.25;
const TRACE = process.env.BENCH_GROWTH_TRACE === '1';

interface Sample {
  p50: number;
  p99: number;
  rps: number;
  non2xx: number;
  errors: number;
}
interface StageResult {
  dialect: string;
  codes: number;
  rows: number;
  loadSeconds: number;
  bytes: number;
  /** target → mode (seq | conc) → samples, one per round. */
  samples: Map<string, Sample[]>;
}
const results: StageResult[] = [];
const notes: string[] = [];
const plans: string[] = [];
const children = new Set<ChildProcess>();

// ---------------------------------------------------------------------------------------------- pinning
const pinned = pinSelfToCpu1();

function startServer(
  env: Record<string, string>,
): Promise<{ proc: ChildProcess; url: string; stop: () => Promise<void> }> {
  const args = ['--import', 'tsx', join(HERE, 'growth', 'server.ts')];
  const [cmd, argv] = pinned ? ['taskset', ['-c', '0', process.execPath, ...args]] : [process.execPath, args];
  const proc = spawn(cmd as string, argv as string[], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  let stderr = '';
  proc.stderr?.on('data', (d) => {
    stderr += d;
  });
  const stop = () => stopChild(proc, 15_000);
  proc.on('exit', () => children.delete(proc));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 120 s: ${stderr}`)), 120_000);
    createInterface({ input: proc.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      if (line.startsWith('READY ')) {
        clearTimeout(timer);
        resolve({ proc, url: JSON.parse(line.slice(6)).url, stop });
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited (${code}) before it was ready: ${stderr.slice(-2000)}`));
    });
  });
}

const call = <T>(url: string, path: string, body: unknown) => postJson<T>(url, path, API_KEY, body);

// ---------------------------------------------------------------------------------------------- databases
interface Database {
  dialect: 'sqlite' | 'postgres';
  url: string;
  /** The loader's writer, on a raw connection of its own. */
  sink(): Promise<RowSink>;
  bytes(): Promise<number>;
  analyze(): Promise<void>;
  explain(statement: CapturedStatement): Promise<Plan>;
  count(table: string): Promise<number>;
  /** A copy of the database as it is now (a file copy; CREATE DATABASE … TEMPLATE), to measure later. */
  snapshot(): Promise<Database>;
  close(): Promise<void>;
}

function sqliteDatabase(file?: string): Database {
  const dir = file ? null : mkdtempSync(join(tmpdir(), 'latchkey-growth-'));
  const path = file ?? join(dir as string, 'growth.sqlite');
  let raw: SqliteDatabase.Database | null = null;
  const open = () => {
    if (!raw) {
      raw = new SqliteDatabase(path);
      raw.pragma('journal_mode = WAL');
      raw.pragma('synchronous = OFF');
      raw.pragma('cache_size = -262144');
      raw.pragma('foreign_keys = ON');
    }
    return raw;
  };
  const checkpoint = () => open().pragma('wal_checkpoint(TRUNCATE)');
  const database: Database = {
    dialect: 'sqlite',
    url: `sqlite:${path}`,
    sink: async () => sqliteSink(open()),
    async bytes() {
      checkpoint();
      return ['', '-wal'].reduce((t, s) => t + (existsSync(path + s) ? statSync(path + s).size : 0), 0);
    },
    // Production SQLite never runs ANALYZE: plans are measured without statistics.
    analyze: async () => {},
    explain: async (statement) => explainSqlite(open(), statement),
    count: async (table) => (open().prepare(`select count(*) as n from ${table}`).get() as { n: number }).n,
    async snapshot() {
      checkpoint();
      raw?.close();
      raw = null;
      const copy = join(mkdtempSync(join(tmpdir(), 'latchkey-growth-')), 'growth.sqlite');
      copyFileSync(path, copy);
      return sqliteDatabase(copy);
    },
    async close() {
      raw?.close();
      raw = null;
      rmSync(dirname(path), { recursive: true, force: true });
    },
  };
  return database;
}

async function postgresDatabase(template?: string): Promise<Database | null> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch (error) {
    notes.push(`Postgres not measured: ${PG_ADMIN_URL} unreachable (${(error as Error).message})`);
    return null;
  }
  const name = `latchkey_growth_${process.pid}_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  let raw: pg.Client | null = null;
  const open = async () => {
    if (!raw) {
      raw = new pg.Client({ connectionString: url.toString() });
      await raw.connect();
      // The loader's own session: a lost commit would only cost a rerun.
      await raw.query('SET synchronous_commit = off');
    }
    return raw;
  };
  return {
    dialect: 'postgres',
    url: url.toString(),
    sink: async () => postgresSink(await open()),
    async bytes() {
      const { rows } = await (await open()).query('select pg_database_size(current_database()) as n');
      return Number(rows[0].n);
    },
    // What autovacuum would do after a bulk load, done at once so every stage is measured with statistics.
    analyze: async () => {
      await (await open()).query('VACUUM ANALYZE');
    },
    explain: async (statement) => explainPostgres(await open(), statement, { forceIndexes: false }),
    count: async (table) =>
      Number((await (await open()).query(`select count(*) as n from ${table}`)).rows[0].n),
    async snapshot() {
      // A template must have no other session.
      await raw?.end().catch(() => {});
      raw = null;
      const copy = await postgresDatabase(name);
      if (!copy) throw new Error('Postgres went away');
      return copy;
    },
    async close() {
      await raw?.end().catch(() => {});
      raw = null;
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

// ---------------------------------------------------------------------------------------------- load
async function measure(
  url: string,
  name: string,
  connections: number,
  request: { method?: 'GET' | 'POST'; path: () => string; body?: () => string },
): Promise<Sample> {
  const result = await autocannon({
    url,
    connections,
    duration: SECONDS,
    requests: [
      {
        method: request.method ?? 'GET',
        path: request.path(),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` },
        setupRequest: (req) => ({
          ...req,
          path: request.path(),
          ...(request.body ? { body: request.body() } : {}),
        }),
      },
    ],
  });
  const sample = {
    p50: result.latency.p50,
    p99: result.latency.p99,
    rps: result.requests.total / (result.duration || SECONDS),
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
  console.error(
    `    ${name} ×${connections}: ${sample.rps.toFixed(0)} req/s, p50 ${sample.p50} ms, p99 ${sample.p99} ms` +
      (sample.non2xx || sample.errors ? ` (non-2xx ${sample.non2xx}, errors ${sample.errors})` : ''),
  );
  return sample;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One request on a kept-alive connection; resolves with its status once the body is read. */
function request(url: string, method: string, path: string, body: string | undefined): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${url}${path}`,
      {
        method,
        agent,
        headers: {
          authorization: `Bearer ${API_KEY}`,
          ...(body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }),
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * Latency: requests one after another on one kept-alive connection for SECONDS, each timed with
 * performance.now() (autocannon's latencies are whole milliseconds, too coarse for a 1 ms request).
 */
async function sequential(
  url: string,
  name: string,
  target: { method?: 'GET' | 'POST'; path: () => string; body?: () => string },
): Promise<Sample> {
  const times: number[] = [];
  let non2xx = 0;
  let errors = 0;
  const end = performance.now() + SECONDS * 1000;
  const t0 = performance.now();
  while (performance.now() < end) {
    const t = performance.now();
    try {
      const status = await request(url, target.method ?? 'GET', target.path(), target.body?.());
      if (status < 200 || status > 299) non2xx += 1;
    } catch {
      errors += 1;
    }
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const q = (p: number) => times[Math.min(times.length - 1, Math.floor(p * times.length))] ?? Number.NaN;
  const sample = {
    p50: q(0.5),
    p99: q(0.99),
    rps: times.length / ((performance.now() - t0) / 1000),
    non2xx,
    errors,
  };
  console.error(
    `    ${name} ×1: ${sample.rps.toFixed(0)} req/s, p50 ${sample.p50.toFixed(2)} ms, p99 ${sample.p99.toFixed(2)} ms` +
      (non2xx || errors ? ` (non-2xx ${non2xx}, errors ${errors})` : ''),
  );
  return sample;
}

const median = (values: number[]) => {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
};

// ---------------------------------------------------------------------------------------------- one dialect
interface Stage {
  codes: number;
  database: Database;
  result: StageResult;
  server?: { url: string; stop: () => Promise<void> };
  dataDir: string;
}

/**
 * Builds the stages (each a database of its own: the working database is copied at 0 and at a tenth), then
 * measures them in interleaved rounds — every stage once per round — so that whatever else the machine does
 * weighs on all of them alike; a stage's ratio to stage 0 is the median of its per-round ratios.
 */
async function runDialect(working: Database, stages: Stage[]): Promise<void> {
  const label = working.dialect === 'sqlite' ? 'SQLite' : 'Postgres';
  console.error(`\n${label}: ${DEVICES} locks, stages ${STAGES.join(' → ')} codes`);
  const now = Date.now();

  // Set-up through the app: migrations, the seeded sandbox workspace, the locks.
  const t0 = performance.now();
  const store = await openStore(working.url);
  const masterKey = Buffer.from(MASTER_KEY, 'hex');
  const { services } = createServices(store, masterKey, pino({ level: 'silent' }));
  const outcome = await bootstrap(services, { now, bootstrapApiKey: API_KEY });
  if (!outcome.created || !outcome.seeded.connected_account) throw new Error('the database was not empty');
  const workspace = {
    workspace_id: outcome.seeded.workspace.workspace_id,
    connected_account_id: outcome.seeded.connected_account.connected_account_id,
  };
  const locks = await createLocks(services, workspace, DEVICES, now);
  const [listLock] = await createLocks(services, workspace, 1, now, () => 'growth list lock');
  const listLockOf = listLock as Lock;
  const jobsHaveDue = (await store.db.introspection.getTables()).some(
    (t) => t.name === 'jobs' && t.columns.some((c) => c.name === 'due'),
  );
  await store.close();
  const writer: CodeWriter = { taken: new Map(), jobsHaveDue, clockOffsetMs: 0 };

  // The lock to list: 150 live codes, 50 start hours × 3 (the per-hour limit) from two days ahead.
  const base = Math.ceil(now / HOUR) * HOUR + 48 * HOUR;
  const listed = emptyRows();
  const listCodes: AccessCodeRecord[] = [];
  const random = prng(SEED);
  for (let i = 0; i < 150; i++) {
    const start = base + Math.floor(i / 3) * HOUR;
    const booking = {
      starts_at: start,
      ends_at: start + 2 * HOUR,
      is_one_time_use: false,
      created_at: now,
      name: `list ${i}`,
    };
    const code = writeCode(writer, listLockOf, booking, now, listed, random);
    if (code) listCodes.push(code);
  }
  let sink = await working.sink();
  await sink.transaction(async () => {
    await flush(sink, listed);
  });
  const setupSeconds = (performance.now() - t0) / 1000;
  console.error(`  set-up (${DEVICES + 1} locks, 150 codes to list): ${setupSeconds.toFixed(1)} s`);

  // Grow stage by stage: lock i gets its share, newest bookings first (so earlier stages hold what is live).
  const share = (total: number, i: number) => Math.floor(total / DEVICES) + (i < total % DEVICES ? 1 : 0);
  let loaded = 0;
  let liveSample: AccessCodeRecord[] = [];
  for (const [index, codes] of STAGES.entries()) {
    if (Date.now() > DEADLINE) {
      notes.push(`${label}: stage ${codes} skipped (BENCH_GROWTH_MAX_MINUTES reached while loading)`);
      break;
    }
    const t = performance.now();
    const { live, rows } = await loadHistory(
      sink,
      writer,
      locks,
      (i) => ({ skip: share(loaded, i), count: share(codes, i) - share(loaded, i) }),
      now,
      SEED,
    );
    await working.analyze();
    const loadSeconds = index === 0 ? setupSeconds : (performance.now() - t) / 1000;
    loaded = codes;
    if (live.length > 0) liveSample = live;
    const bytes = await working.bytes();
    console.error(
      `  stage ${codes}: ${rows} rows (${live.length} live codes among them) in ${loadSeconds.toFixed(1)} s; ` +
        `database ${(bytes / 2 ** 20).toFixed(0)} MiB`,
    );
    const last = index === STAGES.length - 1;
    const database = last ? working : await working.snapshot();
    if (!last) sink = await working.sink();
    const result: StageResult = { dialect: label, codes, rows, loadSeconds, bytes, samples: new Map() };
    results.push(result);
    stages.push({ codes, database, result, dataDir: mkdtempSync(join(tmpdir(), 'latchkey-growth-data-')) });
  }

  const env = (stage: Stage) => ({
    ...(TRACE ? { GROWTH_CAPTURE_FILE: join(stage.dataDir, 'statements.json') } : {}),
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: stage.database.url,
    LATCHKEY_BOOTSTRAP_API_KEY: API_KEY,
    LATCHKEY_DATA_DIR: stage.dataDir,
    LATCHKEY_MASTER_KEY: MASTER_KEY,
    LATCHKEY_RATE_LIMIT: '0',
    LOG_LEVEL: 'silent',
  });
  // Creates go to lock n mod D at hour ⌊n / D⌋ from 90 days ahead: past every loaded booking, one per slot.
  const createBase = Math.ceil(now / HOUR) * HOUR + 90 * 24 * HOUR;
  let n = 0;
  let g = 0;
  const targets: [string, Parameters<typeof measure>[3]][] = [
    [
      'create',
      {
        method: 'POST',
        path: () => '/access_codes/create',
        body: () => {
          const i = n++;
          const start = createBase + Math.floor(i / DEVICES) * HOUR;
          return JSON.stringify({
            device_id: (locks[i % DEVICES] as Lock).device.device_id,
            name: `growth ${i}`,
            is_offline_access_code: true,
            starts_at: new Date(start).toISOString(),
            ends_at: new Date(start + 2 * HOUR).toISOString(),
          });
        },
      },
    ],
    [
      'get',
      {
        path: () =>
          `/access_codes/get?access_code_id=${(listCodes[g++ % listCodes.length] as AccessCodeRecord).access_code_id}`,
      },
    ],
    ['list', { path: () => `/access_codes/list?device_id=${listLockOf.device.device_id}` }],
  ];
  for (const stage of stages) {
    stage.server = await startServer(env(stage));
    // Warm-up: the server's statement cache, the database's pages.
    for (const [, target] of targets) {
      for (let w = 0; w < 50; w++)
        await request(stage.server.url, target.method ?? 'GET', target.path(), target.body?.());
    }
  }
  try {
    for (let round = 0; round < ROUNDS && Date.now() < DEADLINE; round++) {
      for (const stage of stages) {
        console.error(`  [${label}, ${stage.codes} codes, round ${round + 1}/${ROUNDS}]`);
        for (const [name, target] of targets) {
          for (const [mode, connections] of [
            ['seq', 1],
            ['conc', CONNECTIONS],
          ] as const) {
            const key = `${name} ${mode}`;
            const list = stage.result.samples.get(key) ?? [];
            const url = (stage.server as { url: string }).url;
            list[round] =
              connections === 1
                ? await sequential(url, name, target)
                : await measure(url, name, connections, target);
            stage.result.samples.set(key, list);
          }
        }
      }
    }
  } finally {
    for (const stage of stages) await stage.server?.stop();
  }
  if (TRACE) traceReport(label, stages);
  if (n > DEVICES * 150)
    notes.push(`${label}: ${n} creates come close to ${DEVICES} × 199; lower BENCH_SECONDS`);
  const last = stages[stages.length - 1];
  if (last) {
    const captureFile = join(tmpdir(), `latchkey-growth-capture-${process.pid}.json`);
    await explainHotStatements(
      last.database,
      env(last),
      captureFile,
      listLockOf,
      liveSample,
      label,
      last.codes,
    );
  }
}

/**
 * A server with the statement capture on serves one of each hot request; every statement it ran is then
 * EXPLAINed on the grown database.
 */
async function explainHotStatements(
  database: Database,
  env: Record<string, string>,
  captureFile: string,
  listLock: Lock,
  live: AccessCodeRecord[],
  label: string,
  stage: number,
): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-growth-data-'));
  const server = await startServer({ ...env, LATCHKEY_DATA_DIR: dataDir, GROWTH_CAPTURE_FILE: captureFile });
  try {
    const lock = listLock.device.device_id;
    const start = Math.ceil(Date.now() / HOUR) * HOUR + 400 * 24 * HOUR;
    const created = await call<{ access_code: { access_code_id: string; code: string } }>(
      server.url,
      '/access_codes/create',
      {
        device_id: lock,
        is_offline_access_code: true,
        starts_at: new Date(start).toISOString(),
        ends_at: new Date(start + 2 * HOUR).toISOString(),
      },
    );
    const some = live[Math.floor(live.length / 2)] ?? null;
    await call(server.url, '/access_codes/get', { access_code_id: created.access_code.access_code_id });
    if (some) await call(server.url, '/access_codes/get', { device_id: some.device_id, code: some.code });
    const page = await call<{ pagination: { next_page_cursor: string | null } }>(
      server.url,
      '/access_codes/list',
      {
        device_id: lock,
        limit: 50,
      },
    );
    if (page.pagination.next_page_cursor)
      await call(server.url, '/access_codes/list', {
        device_id: lock,
        limit: 50,
        page_cursor: page.pagination.next_page_cursor,
      });
    await call(server.url, '/locks/simulate/keypad_code_entry', {
      device_id: lock,
      code: created.access_code.code,
    });
    const recent = new Date(Date.now() - HOUR).toISOString();
    await call(server.url, '/events/list', { since: recent, limit: 50 });
    if (some) await call(server.url, '/events/list', { since: recent, device_id: some.device_id });
    if (some) await call(server.url, '/events/list', { since: recent, access_code_id: some.access_code_id });
    if (some) await call(server.url, '/action_attempts/list', { device_id: some.device_id, limit: 50 });
    await call(server.url, '/devices/list', { limit: 50 });
    await call(server.url, '/devices/get', { device_id: lock });
    // Let the job runners poll a few times.
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    await server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
  const statements = (JSON.parse(readFileSync(captureFile, 'utf8')) as CapturedStatement[]).filter((s) =>
    isPlannable(s.sql),
  );
  rmSync(captureFile, { force: true });
  plans.push(
    `\n### ${label} at ${stage.toLocaleString('en-US')} codes: the ${statements.length} statements of the hot requests, as planned\n`,
  );
  // A planner rightly scans a table of a few rows (the one API key, the one account): only larger ones count.
  const small = new Set<string>();
  for (const table of [...GROWING_TABLES, ...INVENTORY_TABLES]) {
    if ((await database.count(table)) < 1000) small.add(table);
  }
  for (const statement of statements) {
    let plan: Plan;
    try {
      plan = await database.explain(statement);
      plan = { ...plan, problems: plan.problems.filter((p) => !small.has(p.slice(0, p.indexOf(':')))) };
    } catch (error) {
      plans.push(`${statement.sql}\n    cannot EXPLAIN: ${(error as Error).message}`);
      continue;
    }
    const flag = plan.problems.length ? `  ⚠ ${plan.problems.join('; ')}` : '';
    plans.push(
      `${statement.count}× ${statement.sql.slice(0, 300)}${flag}\n${plan.text.replace(/^/gm, '    ')}`,
    );
  }
}

/** With BENCH_GROWTH_TRACE=1: where the servers' time went, statement by statement, stage by stage. */
function traceReport(label: string, stages: Stage[]): void {
  const byStage = stages.map((stage) => {
    const file = join(stage.dataDir, 'statements.json');
    const list = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as CapturedStatement[]) : [];
    return new Map(list.map((st) => [st.sql, st]));
  });
  const last = byStage[byStage.length - 1] ?? new Map<string, CapturedStatement>();
  const top = [...last.values()].sort((a, b) => b.ms - a.ms).slice(0, 20);
  plans.push(
    `\n### ${label}: time per execution of the statements that took most time (BENCH_GROWTH_TRACE=1), by stage\n`,
    `| statement | ${stages.map((st) => `µs at ${st.codes.toLocaleString('en-US')} (runs)`).join(' | ')} |`,
    `| --- | ${stages.map(() => '---:').join(' | ')} |`,
  );
  for (const statement of top) {
    const cells = byStage.map((m) => {
      const st = m.get(statement.sql);
      return st ? `${((1000 * st.ms) / st.count).toFixed(0)} (${st.count})` : '—';
    });
    plans.push(`| ${statement.sql.replace(/\s+/g, ' ').slice(0, 110)} | ${cells.join(' | ')} |`);
  }
}

// ---------------------------------------------------------------------------------------------- report
function report(): void {
  const fmt = (v: number, d = 0) =>
    Number.isFinite(v)
      ? v.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
      : '—';
  const stat = (r: StageResult, key: string, f: keyof Sample) =>
    median((r.samples.get(key) ?? []).map((s) => s[f] as number));
  console.log(
    `\nbench:growth — ${DEVICES.toLocaleString('en-US')} locks; medians over ${ROUNDS} rounds of ${SECONDS} s; ` +
      `latency with 1 connection, req/s with ${CONNECTIONS}; ` +
      (pinned ? 'server pinned to CPU 0, load generator to CPU 1' : 'not pinned (no taskset)'),
  );
  console.log(
    '\n| dialect | codes | rows written | load s | DB MiB | create p50 / p99 ms | create req/s | get p50 / p99 ms | get req/s | list p50 / p99 ms | list req/s | non-2xx / errors |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of results) {
    const cells = ['create', 'get', 'list'].flatMap((t) => [
      `${fmt(stat(r, `${t} seq`, 'p50'), 1)} / ${fmt(stat(r, `${t} seq`, 'p99'), 1)}`,
      fmt(stat(r, `${t} conc`, 'rps')),
    ]);
    const all = [...r.samples.values()].flat();
    const bad = [all.reduce((t, s) => t + s.non2xx, 0), all.reduce((t, s) => t + s.errors, 0)];
    console.log(
      `| ${r.dialect} | ${r.codes.toLocaleString('en-US')} | ${r.rows.toLocaleString('en-US')} | ${fmt(r.loadSeconds, 1)} | ${fmt(r.bytes / 2 ** 20)} | ${cells.join(' | ')} | ${bad[0]} / ${bad[1]} |`,
    );
  }
  console.log(
    `\nEach stage against stage 0 of its dialect, measured in the same rounds (medians of per-round ratios; ` +
      `target: p50 and req/s flat within ±${TARGET * 100} %; p99 reported, not judged):\n`,
  );
  console.log('| dialect | codes | target | p50 ratio | p99 ratio | req/s ratio | within ±25 % |');
  console.log('| --- | ---: | --- | ---: | ---: | ---: | --- |');
  for (const r of results) {
    const zero = results.find((x) => x.dialect === r.dialect && x.codes === 0);
    if (!zero || r === zero) continue;
    for (const t of ['create', 'get', 'list']) {
      // The median over the rounds of this stage's figure / stage 0's in the same round.
      const ratio = (mode: string, f: keyof Sample) => {
        const mine = r.samples.get(`${t} ${mode}`) ?? [];
        const theirs = zero.samples.get(`${t} ${mode}`) ?? [];
        return median(
          mine.map((x, i) =>
            x && theirs[i] ? (x[f] as number) / ((theirs[i] as Sample)[f] as number) : Number.NaN,
          ),
        );
      };
      const p50 = ratio('seq', 'p50');
      const p99 = ratio('seq', 'p99');
      const rps = ratio('conc', 'rps');
      const met = Math.abs(p50 - 1) <= TARGET && Math.abs(rps - 1) <= TARGET;
      console.log(
        `| ${r.dialect} | ${r.codes.toLocaleString('en-US')} | ${t} | ${fmt(p50, 2)} | ${fmt(p99, 2)} | ${fmt(rps, 2)} | ${Number.isFinite(p50 + rps) ? (met ? 'yes' : 'no') : '—'} |`,
      );
    }
  }
  if (plans.length > 0) console.log(plans.join('\n'));
  for (const note of notes) console.log(`note: ${note}`);
}

// ---------------------------------------------------------------------------------------------- run
async function main(): Promise<void> {
  const started = Date.now();
  for (const dialect of DIALECTS) {
    const working =
      dialect === 'sqlite' ? sqliteDatabase() : dialect === 'postgres' ? await postgresDatabase() : null;
    if (!working) continue;
    const stages: Stage[] = [];
    try {
      await runDialect(working, stages);
    } catch (error) {
      notes.push(`${dialect}: ${(error as Error).stack?.slice(0, 1500)}`);
    } finally {
      for (const stage of stages) rmSync(stage.dataDir, { recursive: true, force: true });
      const databases = new Set([working, ...stages.map((s) => s.database)]);
      for (const database of databases) {
        await database
          .close()
          .catch((error) => notes.push(`${dialect}: cleanup failed: ${(error as Error).message}`));
      }
    }
  }
  report();
  console.log(`\n(total ${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

runBench(main, report, children);
