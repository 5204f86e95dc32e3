// What the benches share: pinning, stopping their children, a JSON POST to the API, a scratch Postgres database,
// and how a bench process runs and ends.
import { type ChildProcess, spawnSync } from 'node:child_process';
import pg from 'pg';

/**
 * Pins every thread of this process (the load generator) to CPU 1 when `taskset` exists, so servers can go on
 * CPU 0 (`taskset -c 0 node …`); true when pinned.
 */
export function pinSelfToCpu1(): boolean {
  if (spawnSync('taskset', ['-V']).status !== 0) return false;
  return spawnSync('taskset', ['-a', '-p', '-c', '1', String(process.pid)]).status === 0;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the child has exited. */
export function stopChild(proc: ChildProcess, graceMs: number): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => proc.kill('SIGKILL'), graceMs);
    proc.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    proc.kill('SIGTERM');
  });
}

/** POST `body` as JSON with the API key; the parsed answer, or an error naming the path and the status. */
export async function postJson<T>(url: string, path: string, apiKey: string, body: unknown): Promise<T> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${path} → ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/**
 * A fresh database `<prefix>_<pid>_<time>` on the Postgres at `adminUrl`, dropped by `drop()`; null (with the
 * reason in `notes`) when that Postgres is unreachable.
 */
export async function scratchPostgresDatabase(
  adminUrl: string,
  prefix: string,
  notes: string[],
): Promise<{ url: string; drop: () => Promise<void> } | null> {
  const admin = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 2000 });
  try {
    await admin.connect();
  } catch (error) {
    notes.push(`Postgres not measured: ${adminUrl} unreachable (${(error as Error).message})`);
    return null;
  }
  const name = `${prefix}_${process.pid}_${Date.now()}`;
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}

/**
 * Runs a bench's `main`: on failure prints the error and whatever `report` can say; always exits 0; the
 * children still running when the process exits are killed.
 */
export function runBench(main: () => Promise<void>, report: () => void, children: Set<ChildProcess>): void {
  process.on('exit', () => {
    for (const child of children) child.kill('SIGKILL');
  });
  main()
    .catch((error) => {
      console.error(error);
      report();
    })
    .finally(() => process.exit(0));
}
