// npm run bench:drain — issue 9, item 6: the durable job runner under load. Per dialect (SQLite, and Postgres
// when reachable), on a fresh database:
//   1. load BENCH_DRAIN_CODES offline codes (default 100,000) straight against the store with the app's own
//      createOfflineAccessCode, in large transactions (child bench/drain/store.ts load): each code's one step
//      left is its removal, at the same hour for all of them;
//   2. start a real server (child bench/drain/server.ts: startServer, as `latchkey serve`; HTTP on 127.0.0.1,
//      port 0; pinned to CPU 0 when `taskset` exists, this process and its load generator on CPU 1);
//   3. measure access_codes/get idle (autocannon, BENCH_IDLE_SECONDS);
//   4. POST /workspaces/simulate/advance_clock PT3H, which makes every removal due and answers when the runner
//      has drained them, while autocannon keeps reading access_codes/get: drain time, transitions/s, the API's
//      p50/p99 during the drain against idle, and the server's event-loop delay during the drain;
//   5. check (child bench/drain/store.ts verify) that every code made its transition exactly once.
// Prints a table; cleans up its temp directories, databases and child processes; always exits 0. Not run in CI.
//
// Environment: BENCH_DRAIN_CODES (default 100000), BENCH_CONNECTIONS (default 10; 0: the drain without API load),
// BENCH_IDLE_SECONDS (default 5),
// BENCH_DRAIN_DIALECTS (default sqlite,postgres), LATCHKEY_BENCH_DATABASE_URL (default
// postgres://root@127.0.0.1:5432/test; a fresh database is created there and dropped after; skipped when
// unreachable).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { pinSelfToCpu1, runBench, scratchPostgresDatabase, stopChild } from './lib.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const CODES = Number(process.env.BENCH_DRAIN_CODES ?? 100_000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 5);
const DIALECTS = (process.env.BENCH_DRAIN_DIALECTS ?? 'sqlite,postgres').split(',').map((d) => d.trim());
const PG_ADMIN_URL = process.env.LATCHKEY_BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const API_KEY = 'seam_latchkeydrain_0123456789abcdef';
const MASTER_KEY = 'cd'.repeat(32);

interface Load {
  rps: number;
  p50: number;
  p99: number;
  max: number;
  non2xx: number;
  errors: number;
}
interface Row {
  dialect: string;
  codes: number;
  loadSeconds: number;
  drainSeconds: number;
  idle: Load;
  during: Load;
  loop: { loop_p50: number; loop_p99: number; loop_max: number } | null;
  verified: Record<string, unknown>;
  /** /proc/loadavg when the drain started: the machine may be shared. */
  loadAverage: string;
}
const rows: Row[] = [];
const notes: string[] = [];
const children = new Set<ChildProcess>();

// ---------------------------------------------------------------------------------------------- pinning
// Every thread of this process (the load generator) on CPU 1; the server goes on CPU 0.
const pinned = pinSelfToCpu1();

/** A child script of bench/drain/; resolves at its first READY or RESULT line (with that line's JSON). */
function startChild(
  script: string,
  args: string[],
  env: Record<string, string>,
  options: { pin?: boolean; timeoutMs?: number } = {},
): Promise<{ proc: ChildProcess; info: Record<string, unknown>; lines: string[] }> {
  const argv = ['--import', 'tsx', join(HERE, 'drain', script), ...args];
  const [cmd, cmdArgs] =
    options.pin && pinned ? ['taskset', ['-c', '0', process.execPath, ...argv]] : [process.execPath, argv];
  const proc = spawn(cmd as string, cmdArgs as string[], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  let stderr = '';
  const lines: string[] = [];
  proc.on('exit', () => children.delete(proc));
  proc.stderr?.on('data', (d: Buffer) => {
    const text = String(d);
    stderr += text;
    // The loader's progress lines go straight through.
    for (const line of text.split('\n')) if (line.startsWith('    loaded ')) console.error(line);
  });
  return new Promise((resolve, reject) => {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const timer = setTimeout(
      () => reject(new Error(`${script} gave no answer in ${timeoutMs / 1000} s: ${stderr.slice(-2000)}`)),
      timeoutMs,
    );
    const reader = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
    reader.on('line', (line) => {
      lines.push(line);
      if (line.startsWith('READY ') || line.startsWith('RESULT ')) {
        clearTimeout(timer);
        resolve({ proc, info: JSON.parse(line.slice(line.indexOf(' ') + 1)), lines });
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}) before answering: ${stderr.slice(-2000)}`));
    });
  });
}

const stopProc = (proc: ChildProcess) => stopChild(proc, 30_000);

function exited(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => proc.once('exit', () => resolve()));
}

// ---------------------------------------------------------------------------------------------- HTTP
/** A POST without any client timeout (advance_clock answers when the drain is over). */
function post(url: string, path: string, body: unknown): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = http.request(
      `${url}${path}`,
      {
        method: 'POST',
        agent: false,
        headers: {
          authorization: `Bearer ${API_KEY}`,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** access_codes/get on the given codes, round robin; the answer can also be stopped early (`stop()`). */
function getLoad(url: string, ids: string[], duration: number) {
  let g = 0;
  // autocannon's promise is its run tracker too (its types leave out `stop`).
  return autocannon({
    url,
    connections: CONNECTIONS,
    duration,
    requests: [
      {
        method: 'GET',
        path: '/access_codes/get',
        headers: { authorization: `Bearer ${API_KEY}` },
        setupRequest: (req) => ({
          ...req,
          path: `/access_codes/get?access_code_id=${ids[g++ % ids.length]}`,
        }),
      },
    ],
  }) as Promise<autocannon.Result> & { stop(): void };
}

function summary(result: autocannon.Result, seconds: number): Load {
  return {
    rps: result.requests.total / (result.duration || seconds),
    p50: result.latency.p50,
    p99: result.latency.p99,
    max: result.latency.max,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
}

function machineLoad(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return 'unknown';
  }
}

/** BENCH_CONNECTIONS=0: the drain alone, without API load. */
const NO_LOAD: Load = { rps: 0, p50: Number.NaN, p99: Number.NaN, max: Number.NaN, non2xx: 0, errors: 0 };

// ---------------------------------------------------------------------------------------------- databases

// ---------------------------------------------------------------------------------------------- one dialect
async function measure(dialect: string): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-drain-'));
  let database: { url: string; drop: () => Promise<void> } | null = null;
  let server: ChildProcess | null = null;
  try {
    if (dialect === 'postgres') {
      database = await scratchPostgresDatabase(PG_ADMIN_URL, 'latchkey_drain', notes);
      if (!database) return;
    }
    const env = {
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: database ? database.url : `sqlite:${join(dataDir, 'drain.sqlite')}`,
      LATCHKEY_BOOTSTRAP_API_KEY: API_KEY,
      BENCH_API_KEY: API_KEY,
      LATCHKEY_DATA_DIR: dataDir,
      LATCHKEY_MASTER_KEY: MASTER_KEY,
      LATCHKEY_RATE_LIMIT: '0',
      LOG_LEVEL: 'silent',
      BENCH_DRAIN_CODES: String(CODES),
    };

    console.error(`  ${dialect}: loading ${CODES.toLocaleString('en-US')} codes …`);
    const t0 = performance.now();
    const loader = await startChild('store.ts', ['load'], env, { timeoutMs: 60 * 60_000 });
    await exited(loader.proc);
    const loadSeconds = (performance.now() - t0) / 1000;
    const loaded = loader.info as {
      locks: number;
      get_ids: string[];
      lock_seconds: number;
      code_seconds: number;
    };
    console.error(
      `  ${dialect}: loaded on ${loaded.locks} locks in ${loadSeconds.toFixed(1)} s ` +
        `(locks ${loaded.lock_seconds.toFixed(1)} s, codes ${loaded.code_seconds.toFixed(1)} s)`,
    );

    const started = await startChild('server.ts', [], env, { pin: true });
    server = started.proc;
    const url = started.info.url as string;

    if (CONNECTIONS > 0) await getLoad(url, loaded.get_ids, 2); // warm-up (JIT, statement cache), not counted
    const idle =
      CONNECTIONS > 0 ? summary(await getLoad(url, loaded.get_ids, IDLE_SECONDS), IDLE_SECONDS) : NO_LOAD;
    console.error(
      `  ${dialect}: idle get ${idle.rps.toFixed(0)} req/s, p50 ${idle.p50} ms, p99 ${idle.p99} ms`,
    );

    server.kill('SIGUSR2'); // the server's event-loop histogram starts over: it covers the drain alone
    const load = CONNECTIONS > 0 ? getLoad(url, loaded.get_ids, 24 * 3600) : null;
    const loadAverage = machineLoad();
    const t1 = performance.now();
    const advanced = await post(url, '/workspaces/simulate/advance_clock', { by: 'PT3H' });
    const drainSeconds = (performance.now() - t1) / 1000;
    load?.stop();
    const during = load ? summary(await load, drainSeconds) : NO_LOAD;
    if (advanced.status !== 200)
      notes.push(`${dialect}: advance_clock → ${advanced.status} ${advanced.text.slice(0, 300)}`);
    console.error(
      `  ${dialect}: drained in ${drainSeconds.toFixed(1)} s; get during it ${during.rps.toFixed(0)} req/s, ` +
        `p50 ${during.p50} ms, p99 ${during.p99} ms`,
    );

    await stopProc(server);
    const stats = started.lines.find((l) => l.startsWith('STATS '));
    const loop = stats ? (JSON.parse(stats.slice(6)) as Row['loop']) : null;
    server = null;

    const verifier = await startChild('store.ts', ['verify'], env, { timeoutMs: 10 * 60_000 });
    await exited(verifier.proc);
    const verified = verifier.info;
    if (verified.ok !== true) notes.push(`${dialect}: verification FAILED: ${JSON.stringify(verified)}`);
    rows.push({
      dialect,
      codes: CODES,
      loadSeconds,
      drainSeconds,
      idle,
      during,
      loop,
      verified,
      loadAverage,
    });
  } catch (error) {
    notes.push(`${dialect} not measured: ${(error as Error).message.slice(0, 500)}`);
  } finally {
    if (server) await stopProc(server);
    rmSync(dataDir, { recursive: true, force: true });
    if (database) await database.drop().catch(() => {});
  }
}

// ---------------------------------------------------------------------------------------------- report
function report(): void {
  const f = (n: number, d = 0) =>
    Number.isFinite(n)
      ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
      : '—';
  console.log(
    `\nDrain of ${f(CODES)} due lifecycle transitions (offline code removals), ${CONNECTIONS} connections on ` +
      `access_codes/get, Node ${process.version}, ${pinned ? 'server on CPU 0, load generator on CPU 1' : 'not pinned'}:\n`,
  );
  console.log(
    '| dialect | codes | load s | drain s | transitions/s | get idle p50 / p99 ms (req/s) | get during drain p50 / p99 / max ms (req/s) | server event-loop delay during drain p99 / max ms | exactly once |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | --- | --- | --- | --- |');
  for (const r of rows) {
    console.log(
      `| ${r.dialect} | ${f(r.codes)} | ${f(r.loadSeconds, 1)} | ${f(r.drainSeconds, 1)} | ${f(r.codes / r.drainSeconds)} | ` +
        `${f(r.idle.p50, 1)} / ${f(r.idle.p99, 1)} (${f(r.idle.rps)}) | ` +
        `${f(r.during.p50, 1)} / ${f(r.during.p99, 1)} / ${f(r.during.max)} (${f(r.during.rps)}) | ` +
        `${r.loop ? `${f(r.loop.loop_p99, 1)} / ${f(r.loop.loop_max, 1)}` : '—'} | ` +
        `${r.verified.ok === true ? 'yes' : 'NO'} |`,
    );
    if (r.idle.non2xx + r.idle.errors + r.during.non2xx + r.during.errors > 0)
      notes.push(
        `${r.dialect}: non-2xx/errors idle ${r.idle.non2xx}/${r.idle.errors}, during ${r.during.non2xx}/${r.during.errors}`,
      );
  }
  for (const r of rows)
    console.log(
      `\n${r.dialect}: load average ${r.loadAverage} when the drain started; verification ${JSON.stringify(r.verified)}`,
    );
  for (const note of notes) console.log(`note: ${note}`);
}

async function main(): Promise<void> {
  const started = Date.now();
  console.error(
    `bench:drain — ${CODES.toLocaleString('en-US')} codes, ${CONNECTIONS} connections, Node ${process.version}, ` +
      (pinned ? 'server pinned to CPU 0, load generator to CPU 1' : 'not pinned (no taskset)'),
  );
  for (const dialect of DIALECTS) await measure(dialect);
  report();
  console.log(`\n(total ${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

runBench(main, report, children);
