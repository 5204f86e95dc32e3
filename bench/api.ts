// npm run bench:api — issue 9, items 1–2. In one run, side by side, each server in its own child process (pinned
// to CPU 0 when `taskset` exists, the load generator in this process on CPU 1), all on 127.0.0.1, port 0:
//   the Fastify ceiling, the peer (@seamapi/fake-seam-connect), Latchkey offline create on SQLite and Postgres,
//   Latchkey access_codes/get and access_codes/list (one device, 150 codes), and the single-row commit rate of
//   the same SQLite setup. Prints requests/s, p50, p99 and the ratios against the targets. Always exits 0.
//
// Environment: BENCH_SECONDS per measurement (default 3), BENCH_ROUNDS (default 3), BENCH_CONNECTIONS (default 10), BENCH_DEVICES (default 300),
// LATCHKEY_BENCH_DATABASE_URL (default postgres://root@127.0.0.1:5432/test; skipped when unreachable),
// BENCH_PROFILE=1 to add a Latchkey SQLite server run with --cpu-prof under the create load and print its top frames;
// BENCH_TRACE_SQL=1 to print the statements the SQLite servers ran, by total execution time.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { topFrames } from './api/profile.ts';
import { pinSelfToCpu1, postJson, runBench, scratchPostgresDatabase, stopChild } from './lib.ts';

const HERE = dirname(fileURLToPath(import.meta.url));
const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 10);
const DEVICES = Number(process.env.BENCH_DEVICES ?? 300);
const PROFILE = process.env.BENCH_PROFILE === '1';
const PG_ADMIN_URL = process.env.LATCHKEY_BENCH_DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const API_KEY = 'seam_latchkeybench_0123456789abcdef';
const HOUR = 3_600_000;

interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  note?: string;
}
/** Each target's measurement in each round, in round order. */
const samples = new Map<string, Row[]>();
let round = 0;
const notes: string[] = [];
const children = new Set<ChildProcess>();

// ---------------------------------------------------------------------------------------------- pinning
// Every thread of this process (the load generator) on CPU 1; servers go on CPU 0.
const pinned = pinSelfToCpu1();

function startChild(
  script: string,
  env: Record<string, string> = {},
  nodeArgs: string[] = [],
): Promise<{ proc: ChildProcess; info: Record<string, string> }> {
  const args = [...nodeArgs, '--import', 'tsx', join(HERE, 'api', script)];
  const [cmd, argv] = pinned ? ['taskset', ['-c', '0', process.execPath, ...args]] : [process.execPath, args];
  const proc = spawn(cmd as string, argv as string[], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(proc);
  let stderr = '';
  proc.on('exit', () => {
    children.delete(proc);
    const line = stderr.split('\n').find((l) => l.startsWith('SQL '));
    if (line) {
      console.log(`\nSQL statements of ${script} (BENCH_TRACE_SQL=1), by total execution time:`);
      for (const [sql, count, ms] of JSON.parse(line.slice(4)).slice(0, 15) as [string, number, number][])
        console.log(
          `  ${String(ms).padStart(6)} ms  ${String(count).padStart(7)}×  ${sql.replace(/\s+/g, ' ').slice(0, 160)}`,
        );
    }
  });
  proc.stderr?.on('data', (d) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start in 60 s: ${stderr}`)), 60_000);
    const lines = createInterface({ input: proc.stdout as NodeJS.ReadableStream });
    lines.on('line', (line) => {
      if (line.startsWith('READY ') || line.startsWith('RESULT ')) {
        clearTimeout(timer);
        resolve({ proc, info: JSON.parse(line.slice(line.indexOf(' ') + 1)) });
      }
    });
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}) before it was ready: ${stderr}`));
    });
  });
}

const stopProc = (proc: ChildProcess) => stopChild(proc, 10_000);

// ---------------------------------------------------------------------------------------------- load
async function load(
  name: string,
  url: string,
  request: {
    method?: 'GET' | 'POST';
    path: string;
    headers?: Record<string, string>;
    body?: () => string;
    pathFor?: () => string;
  },
): Promise<Row> {
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: SECONDS,
    requests: [
      {
        method: request.method ?? 'GET',
        path: request.path,
        headers: { 'content-type': 'application/json', ...request.headers },
        setupRequest: (req) => {
          const out = { ...req };
          if (request.body) out.body = request.body();
          if (request.pathFor) out.path = request.pathFor();
          return out;
        },
      },
    ],
  });
  const row: Row = {
    name,
    rps: result.requests.total / (result.duration || SECONDS),
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
  };
  record(row);
  console.error(
    `  [${round + 1}/${ROUNDS}] ${name}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms` +
      (row.non2xx || row.errors ? ` (non-2xx ${row.non2xx}, errors ${row.errors})` : ''),
  );
  return row;
}

function record(row: Row): void {
  const list = samples.get(row.name) ?? [];
  list[round] = row;
  samples.set(row.name, list);
}

const call = <T>(url: string, path: string, body: unknown) => postJson<T>(url, path, API_KEY, body);

// ---------------------------------------------------------------------------------------------- Latchkey
interface LatchkeyTarget {
  measure(): Promise<void>;
  stop(): Promise<void>;
}

async function startLatchkey(
  label: string,
  databaseUrl: string,
  full: boolean,
  profile = false,
): Promise<LatchkeyTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-data-'));
  const profileDir = profile ? mkdtempSync(join(tmpdir(), 'latchkey-bench-prof-')) : null;
  const env = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: databaseUrl.startsWith('sqlite:') ? `sqlite:${join(dataDir, 'bench.sqlite')}` : databaseUrl,
    LATCHKEY_BOOTSTRAP_API_KEY: API_KEY,
    LATCHKEY_DATA_DIR: dataDir,
    LATCHKEY_MASTER_KEY: 'ab'.repeat(32),
    LATCHKEY_RATE_LIMIT: '0',
    LOG_LEVEL: 'silent',
  };
  const { proc, info } = await startChild(
    'latchkey.ts',
    env,
    profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [],
  );
  const url = info.url as string;
  const t0 = performance.now();
  const devices: string[] = [];
  for (let i = 0; i < DEVICES; i++) {
    const { device } = await call<{ device: { device_id: string } }>(url, '/devices/simulate/create', {
      name: `bench lock ${i}`,
    });
    devices.push(device.device_id);
  }
  // One device with 150 offline codes: 50 start hours × 3 (the per-hour limit), well under the 199 cap.
  const listDevice = (
    await call<{ device: { device_id: string } }>(url, '/devices/simulate/create', {
      name: 'bench list lock',
    })
  ).device.device_id;
  const base = Math.ceil(Date.now() / HOUR) * HOUR + 48 * HOUR;
  const codeIds: string[] = [];
  if (full) {
    for (let i = 0; i < 150; i++) {
      const start = base + Math.floor(i / 3) * HOUR;
      const { access_code } = await call<{ access_code: { access_code_id: string } }>(
        url,
        '/access_codes/create',
        {
          device_id: listDevice,
          name: `list ${i}`,
          is_offline_access_code: true,
          starts_at: new Date(start).toISOString(),
          ends_at: new Date(start + 2 * HOUR).toISOString(),
        },
      );
      codeIds.push(access_code.access_code_id);
    }
  }
  console.error(
    `  ${label}: setup (${DEVICES + 1} locks, ${codeIds.length} codes) ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const auth = { authorization: `Bearer ${API_KEY}` };
  let g = 0;
  // Request n: device n mod D, start hour ⌊n / D⌋ → one code per (device, hour); a device reaches the 199 cap
  // only after D × 199 requests.
  let n = 0;
  const measure = async () => {
    await load(`Latchkey offline create, ${label}`, url, {
      method: 'POST',
      path: '/access_codes/create',
      headers: auth,
      body: () => {
        const i = n++;
        const start = base + Math.floor(i / devices.length) * HOUR;
        return JSON.stringify({
          device_id: devices[i % devices.length],
          name: `bench ${i}`,
          is_offline_access_code: true,
          starts_at: new Date(start).toISOString(),
          ends_at: new Date(start + 2 * HOUR).toISOString(),
        });
      },
    });
    if (n > devices.length * 199)
      notes.push(`${label}: ${n} creates exceed ${devices.length} × 199; raise BENCH_DEVICES`);
    if (full) {
      await load(`Latchkey access_codes/get, ${label}`, url, {
        path: '/access_codes/get',
        headers: auth,
        pathFor: () => `/access_codes/get?access_code_id=${codeIds[g++ % codeIds.length]}`,
      });
      await load(`Latchkey access_codes/list (150 codes), ${label}`, url, {
        path: `/access_codes/list?device_id=${listDevice}`,
        headers: auth,
      });
    }
  };
  const stop = async () => {
    await stopProc(proc);
    rmSync(dataDir, { recursive: true, force: true });
    if (profileDir) printProfile(profileDir, label);
  };
  return { measure, stop };
}

function printProfile(profileDir: string, label: string): void {
  {
    // The main thread's profile is the largest (tsx's loader thread writes a small one too).
    const file = readdirSync(profileDir)
      .filter((f) => f.endsWith('.cpuprofile'))
      .sort((a, b) => statSync(join(profileDir, b)).size - statSync(join(profileDir, a)).size)[0];
    if (file) {
      console.log(`\nCPU profile of the Latchkey server (${label}: start-up, setup and the create load):`);
      console.log(topFrames(join(profileDir, file), 20).join('\n'));
      console.log(`(profile kept at ${join(profileDir, file)})`);
    }
  }
}

// ---------------------------------------------------------------------------------------------- run
// The machine may be shared: the targets are measured in ROUNDS interleaved rounds (each target once per round,
// back to back) and every figure and ratio is the median over the rounds, so a burst of other load hits all of
// them alike rather than one target.
async function main(): Promise<void> {
  const started = Date.now();
  console.error(
    `bench:api — ${ROUNDS} rounds × ${SECONDS} s per target, ${CONNECTIONS} connections, Node ${process.version}, ` +
      (pinned ? 'servers pinned to CPU 0, load generator to CPU 1' : 'not pinned (no taskset)'),
  );
  const ceiling = await startChild('ceiling.ts');
  const sqlite = await startLatchkey('SQLite', 'sqlite:', true);
  const database = await scratchPostgresDatabase(PG_ADMIN_URL, 'latchkey_bench', notes);
  let postgres: LatchkeyTarget | null = null;
  if (database) {
    try {
      postgres = await startLatchkey('Postgres', database.url, false);
    } catch (error) {
      notes.push(`Postgres not measured: ${(error as Error).message.slice(0, 300)}`);
    }
  }
  try {
    for (round = 0; round < ROUNDS; round++) {
      // the single-row commit rate of the same SQLite setup, in a child on the servers' core.
      const { proc, info } = await startChild('sqlite-commit.ts');
      await stopProc(proc);
      const c = info as unknown as { rps: number; p50: number; p99: number };
      record({ name: COMMIT, rps: c.rps, p50: c.p50, p99: c.p99, non2xx: 0, errors: 0 });
      console.error(`  [${round + 1}/${ROUNDS}] ${COMMIT}: ${c.rps.toFixed(0)} commits/s`);

      await load(CEILING, ceiling.info.url as string, { path: '/ping' });

      // the peer, on a fresh store every round.
      try {
        const peer = await startChild('peer.ts');
        let n = 0;
        await load(PEER, peer.info.url as string, {
          method: 'POST',
          path: '/access_codes/create',
          headers: { authorization: `Bearer ${peer.info.apiKey}` },
          body: () => {
            const i = n++;
            const start = Date.UTC(2030, 0, 1) + i * HOUR;
            return JSON.stringify({
              device_id: peer.info.deviceId,
              name: `bench ${i}`,
              code: String(100000 + (i % 900000)),
              starts_at: new Date(start).toISOString(),
              ends_at: new Date(start + 2 * HOUR).toISOString(),
            });
          },
        });
        await stopProc(peer.proc);
      } catch (error) {
        notes.push(`peer not measured in round ${round + 1}: ${(error as Error).message.slice(0, 300)}`);
      }

      await sqlite.measure();
      if (postgres) await postgres.measure();
    }
  } finally {
    round = ROUNDS - 1;
    await stopProc(ceiling.proc);
    await sqlite.stop();
    if (postgres) await postgres.stop();
    if (database) await database.drop();
  }

  // with BENCH_PROFILE=1: a separate SQLite server under the create load only, with --cpu-prof.
  if (PROFILE) {
    round = ROUNDS; // its samples go in a column of their own, outside the medians
    const profiled = await startLatchkey('SQLite, profiled', 'sqlite:', false, true);
    await profiled.measure();
    await profiled.stop();
  }

  report();
  console.log(`\n(total ${((Date.now() - started) / 1000).toFixed(0)} s)`);
}

const COMMIT = 'SQLite single-row commit (WAL, NORMAL)';
const CEILING = 'Fastify ceiling (GET small JSON)';
const PEER = 'peer: fake-seam-connect create (fresh store)';

function median(values: number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
}

function report(): void {
  const fmt = (n: number, d = 0) =>
    Number.isFinite(n)
      ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d })
      : 'not measured';
  const inRounds = (name: string) => (samples.get(name) ?? []).slice(0, ROUNDS);
  console.log(
    `\nMedians over ${ROUNDS} rounds of ${SECONDS} s, ${CONNECTIONS} connections (req/s per round in brackets):\n`,
  );
  console.log('| target | req/s (median) | req/s per round | p50 ms | p99 ms | non-2xx / errors |');
  console.log('| --- | ---: | --- | ---: | ---: | ---: |');
  for (const [name, list] of samples) {
    const r = list.slice(0, ROUNDS).filter(Boolean);
    const extra = list[ROUNDS];
    if (r.length > 0) {
      const d = name === COMMIT ? 3 : 1;
      console.log(
        `| ${name} | ${fmt(median(r.map((x) => x.rps)))} | ${r.map((x) => fmt(x.rps)).join(' / ')} | ` +
          `${fmt(median(r.map((x) => x.p50)), d)} | ${fmt(median(r.map((x) => x.p99)), d)} | ` +
          `${r.reduce((t, x) => t + x.non2xx, 0)} / ${r.reduce((t, x) => t + x.errors, 0)} |`,
      );
    }
    if (extra)
      console.log(
        `| ${name} (separate, profiled) | ${fmt(extra.rps)} | — | ${fmt(extra.p50, 1)} | ${fmt(extra.p99, 1)} | ${extra.non2xx} / ${extra.errors} |`,
      );
  }
  /** The median over the rounds of a/b measured in the same round. */
  const ratio = (a: string, b: string) => {
    const x = inRounds(a);
    const y = inRounds(b);
    return median(
      x.map((r, i) => (r && y[i] && (y[i] as Row).rps > 0 ? r.rps / (y[i] as Row).rps : Number.NaN)),
    );
  };
  const p99 = (name: string) =>
    median(
      inRounds(name)
        .filter(Boolean)
        .map((r) => r.p99),
    );
  const CS = 'Latchkey offline create, SQLite';
  const CP = 'Latchkey offline create, Postgres';
  const GET = 'Latchkey access_codes/get, SQLite';
  const LIST = 'Latchkey access_codes/list (150 codes), SQLite';
  const lines: [string, number, string, boolean | null][] = [
    ['offline create (SQLite) / peer create', ratio(CS, PEER), '≥ 3×', ratio(CS, PEER) >= 3],
    ['offline create (Postgres) / peer create', ratio(CP, PEER), '≥ 3×', ratio(CP, PEER) >= 3],
    [
      `offline create (SQLite) / SQLite commit rate (create p99 ${fmt(p99(CS), 1)} ms)`,
      ratio(CS, COMMIT),
      '≥ 25 %, p99 < 20 ms',
      ratio(CS, COMMIT) >= 0.25 && p99(CS) < 20,
    ],
    ['get / ceiling', ratio(GET, CEILING), '≥ 40 %', ratio(GET, CEILING) >= 0.4],
    ['list (150 codes) / ceiling', ratio(LIST, CEILING), '(reported)', null],
    ['offline create (SQLite) / ceiling', ratio(CS, CEILING), '(reported)', null],
    ['offline create (Postgres) / ceiling', ratio(CP, CEILING), '(reported)', null],
  ];
  console.log('\n| ratio (median of per-round ratios) | measured | target | met |');
  console.log('| --- | ---: | --- | --- |');
  for (const [name, value, target, met] of lines) {
    const shown = Number.isNaN(value)
      ? 'not measured'
      : target.includes('×')
        ? `${fmt(value, 2)}×`
        : `${fmt(100 * value, 1)} %`;
    console.log(
      `| ${name} | ${shown} | ${target} | ${met === null ? '—' : Number.isNaN(value) ? 'not measured' : met ? 'yes' : 'no'} |`,
    );
  }
  for (const note of notes) console.log(`note: ${note}`);
}

runBench(main, report, children);
