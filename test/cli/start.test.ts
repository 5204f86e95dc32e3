import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../../src/store/index.ts';
import { call } from '../helpers/server.ts';

// The README promise, end to end: `latchkey serve` on an empty database seeds the sandbox and prints the
// URL and a key that works; a restart on the same database seeds nothing and prints no key.

const repoRoot = new URL('../..', import.meta.url).pathname;
const BOOTSTRAP_KEY = 'seam_start_test_key_0123456789abcdef';
const KEY_PATTERN = /seam_[A-Za-z0-9_]{16,}/g;

interface Served {
  child: ChildProcess;
  url: string;
  /** The whole banner (stdout up to and including its last line). */
  banner: string;
  stdout(): string;
  stop(): Promise<number | null>;
}

const children = new Set<ChildProcess>();

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** Starts `latchkey serve --port 0` and resolves once its banner is complete. */
async function serve(dir: string, extraEnv: Record<string, string> = {}): Promise<Served> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of ['PORT', 'HOST', 'LATCHKEY_BOOTSTRAP_API_KEY', 'LATCHKEY_MASTER_KEY', 'LOG_LEVEL']) {
    delete env[name];
  }
  Object.assign(env, {
    DATABASE_URL: `sqlite:${join(dir, 'x.sqlite')}`,
    // Where the server keeps its generated master key: inside the temp dir, not the repository's ./data.
    LATCHKEY_DATA_DIR: join(dir, 'data'),
    ...extraEnv,
  });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0'], {
    cwd: repoRoot,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });

  // The banner's last line: the curl hint after seeding, or the line about the key on a later start.
  const bannerEnd =
    /^ {2}(Try: curl .*|API key: {4}the one in LATCHKEY_BOOTSTRAP_API_KEY|Existing database: .*)$/m;
  const banner = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail('no banner within 60 s'), 60_000);
    const fail = (why: string) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`${why}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
    };
    const check = () => {
      const start = stdout.indexOf('Latchkey is serving');
      const end = bannerEnd.exec(stdout.slice(Math.max(start, 0)));
      if (start >= 0 && end) {
        clearTimeout(timer);
        resolve(stdout.slice(start, start + end.index + end[0].length));
      }
    };
    child.stdout?.on('data', check);
    child.once('exit', (code, signal) => fail(`serve exited early (${code ?? signal})`));
  });
  const url = /serving the Seam-compatible API at (http:\/\/127\.0\.0\.1:\d+)/.exec(banner)?.[1];
  assert.ok(url, `banner names the URL:\n${banner}`);
  return {
    child,
    url,
    banner,
    stdout: () => stdout,
    stop: async () => {
      const done = exited(child);
      child.kill('SIGTERM');
      const timeout = new Promise<'timeout'>((resolve) => setTimeout(resolve, 15_000, 'timeout').unref());
      const code = await Promise.race([done, timeout]);
      if (code === 'timeout') {
        child.kill('SIGKILL');
        assert.fail('serve did not exit within 15 s of SIGTERM');
      }
      return code;
    },
  };
}

/** Rows the server left in its database (read after it stopped). */
async function countRows(dir: string) {
  const store = await openStore(`sqlite:${join(dir, 'x.sqlite')}`);
  try {
    const counts: Record<string, number> = {};
    for (const table of ['workspaces', 'api_keys', 'devices'] as const) {
      const row = await store.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow();
      counts[table] = Number(row.n);
    }
    return counts;
  } finally {
    await store.close();
  }
}

async function assertServes(served: Served, key: string) {
  const health = await call({ url: served.url, apiKey: '' }, '/health', { method: 'GET', key: null });
  assert.equal(health.status, 200);
  assert.deepEqual(health.json, { ok: true });
  const devices = await call({ url: served.url, apiKey: key }, '/devices/list', { body: {} });
  assert.equal(devices.status, 200, devices.text);
  assert.deepEqual(
    devices.json.devices.map((d: { display_name: string }) => d.display_name),
    ['Front Door', 'Back Door'],
  );
}

describe('latchkey serve: first start and restart on the same database', { concurrency: true }, () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-start-'));
    dirs.push(dir);
    return dir;
  };
  after(async () => {
    for (const child of children) {
      child.kill('SIGKILL');
      await exited(child);
    }
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  describe('with a generated key', { concurrency: 1 }, () => {
    let dir: string;
    let key: string;
    before(() => {
      dir = tempDir();
    });

    it('prints the URL and a new API key that opens the two sandbox locks, then stops on SIGTERM', async () => {
      const served = await serve(dir);
      try {
        const printed = /^ {2}API key: +(seam_\S+)$/m.exec(served.banner)?.[1];
        assert.ok(printed, `banner shows the key:\n${served.banner}`);
        key = printed;
        assert.match(key, /^seam_lk1_[A-Za-z0-9]{32}$/);
        assert.match(served.banner, /Dashboard: +http:\/\/127\.0\.0\.1:\d+\//);
        await assertServes(served, key);
        const logs = served.stdout().slice(served.stdout().indexOf(served.banner) + served.banner.length);
        assert.ok(!logs.includes(key), 'request logs never show the key');
      } finally {
        assert.equal(await served.stop(), 0, 'exits cleanly on SIGTERM');
      }
    });

    it('on restart prints no key, seeds nothing, and the first key still works', async () => {
      assert.ok(key, 'the first start ran');
      const served = await serve(dir);
      try {
        assert.deepEqual(served.banner.match(KEY_PATTERN), null, `no key in the banner:\n${served.banner}`);
        assert.match(served.banner, /Existing database/);
        await assertServes(served, key);
      } finally {
        assert.equal(await served.stop(), 0);
      }
      assert.deepEqual(await countRows(dir), { workspaces: 1, api_keys: 1, devices: 2 });
    });
  });

  it('refuses an ill-formed LATCHKEY_BOOTSTRAP_API_KEY: exits non-zero, says why, serves nothing', async () => {
    const dir = tempDir();
    await assert.rejects(
      serve(dir, { LATCHKEY_BOOTSTRAP_API_KEY: 'sk_live_not_a_seam_key' }),
      (error: Error) => {
        assert.match(error.message, /serve exited early \(1\)/);
        assert.match(error.message, /latchkey: LATCHKEY_BOOTSTRAP_API_KEY must look like seam_/);
        return true;
      },
    );
    assert.deepEqual(await countRows(dir), { workspaces: 0, api_keys: 0, devices: 0 });
  });

  describe('with LATCHKEY_BOOTSTRAP_API_KEY', () => {
    let dir: string;
    before(() => {
      dir = tempDir();
    });

    it('makes the first key exactly that value, and on restart says so without printing it', async () => {
      const env = { LATCHKEY_BOOTSTRAP_API_KEY: BOOTSTRAP_KEY };
      const first = await serve(dir, env);
      try {
        assert.match(first.banner, new RegExp(`^ {2}API key: +${BOOTSTRAP_KEY}$`, 'm'));
        await assertServes(first, BOOTSTRAP_KEY);
      } finally {
        assert.equal(await first.stop(), 0);
      }

      const second = await serve(dir, env);
      try {
        assert.match(second.banner, /API key: +the one in LATCHKEY_BOOTSTRAP_API_KEY/);
        assert.equal(second.banner.match(KEY_PATTERN), null, 'the key is not printed again');
        await assertServes(second, BOOTSTRAP_KEY);
      } finally {
        assert.equal(await second.stop(), 0);
      }
    });
  });
});
