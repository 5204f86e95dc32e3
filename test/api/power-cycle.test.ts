import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type TestDatabase, testDialects } from '../helpers/databases.ts';
import { call } from '../helpers/server.ts';
import { children, killAll, serve, stop } from '../helpers/server-process.ts';

// A server restart is a power cycle of the virtual locks (contract §4, docs/algopin.md §6.6 and §6.9): their
// memory is sealed in the database under the master key, so a second `latchkey serve` on the same database
// and data directory (whose generated master.key it must reuse) finds every lock as it was: a used one-time
// code stays used, the keypad lockout and its counter persist, an activated long code keeps working, and
// lifecycle steps scheduled before the restart still happen.
//
// The server runs in real time; only advance_clock moves the workspace clock. Instants are computed from the
// `now` that advance_clock answers, with margins far larger than the few seconds a restart takes.

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const GRACE = 15 * MIN;
/** docs/algopin.md §6.6: 5 free failures, then locked 1, 2, 4, 8, 16 … minutes. */
const FREE_FAILURES = 5;
const WRONG_PIN = '9999999999';

type Api = { url: string; apiKey: string };

interface Code {
  access_code_id: string;
  code: string;
}

for (const dialect of testDialects()) {
  describe(`power cycle: a server restart keeps the locks' memory (${dialect.name})`, () => {
    let database: TestDatabase | undefined;
    let dataDir: string | undefined;
    let env: Record<string, string>;
    let server: { child: ChildProcess; url: string } | undefined;
    const apiKey = `seam_power_${randomBytes(12).toString('hex')}`;
    let api: Api;
    let deviceId: string;
    /** Workspace clock minus this process's clock, as of the last advance_clock answer. */
    let offset = 0;
    const wsNow = () => Date.now() + offset;

    // The state built before the restart.
    let start: number;
    let oneTime: Code;
    let activated: Code;
    let neverUsed: Code;
    let pending: Code;
    let masterKey: string;
    let lastFailureAt: number;

    before(
      async () => {
        process.once('exit', killAll);
        database = await dialect.create();
        dataDir = mkdtempSync(join(tmpdir(), 'latchkey-power-'));
        env = {
          DATABASE_URL: database.url,
          LATCHKEY_BOOTSTRAP_API_KEY: apiKey,
          LATCHKEY_DATA_DIR: join(dataDir, 'data'),
        };
        server = await serve(env);
        api = { url: server.url, apiKey };
        const devices = await call(api, '/devices/list', { body: {} });
        assert.equal(devices.status, 200, devices.text);
        deviceId = devices.json.devices.find(
          (d: { display_name: string }) => d.display_name === 'Front Door',
        ).device_id;
        await advance(SEC);
      },
      { timeout: 180_000 },
    );

    after(async () => {
      await Promise.all([...children].map(stop));
      process.removeListener('exit', killAll);
      await database?.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    });

    async function advance(byMs: number): Promise<void> {
      assert.ok(byMs > 0, 'time only moves forward');
      const r = await call(api, '/workspaces/simulate/advance_clock', { body: { by: `PT${byMs / 1000}S` } });
      assert.equal(r.status, 200, r.text);
      offset = Date.parse(r.json.now) - Date.now();
    }

    const advanceTo = (target: number) => advance(target - wsNow());

    async function create(body: Record<string, unknown>): Promise<Code> {
      const r = await call(api, '/access_codes/create', {
        body: { device_id: deviceId, is_offline_access_code: true, ...body },
      });
      assert.equal(r.status, 200, r.text);
      return r.json.access_code;
    }

    async function enter(code: string): Promise<{ accepted: boolean; reason_code?: string }> {
      const r = await call(api, '/locks/simulate/keypad_code_entry', { body: { device_id: deviceId, code } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.action_attempt.status, 'success');
      return r.json.action_attempt.result;
    }

    async function opens(code: string, why: string) {
      const result = await enter(code);
      assert.equal(result.accepted, true, `${why}: ${JSON.stringify(result)}`);
    }

    async function refused(code: string, reason: string, why: string) {
      const result = await enter(code);
      assert.equal(result.accepted, false, `${why}: opened`);
      assert.equal(result.reason_code, reason, why);
    }

    // biome-ignore lint/suspicious/noExplicitAny: events are read ad hoc
    async function codeEvents(accessCodeId: string): Promise<any[]> {
      const r = await call(api, '/events/list', {
        body: { since: '2000-01-01T00:00:00Z', access_code_id: accessCodeId },
      });
      assert.equal(r.status, 200, r.text);
      return r.json.events;
    }

    it('builds the lock’s memory: a used one-time code, an activated long code, a locked keypad', async () => {
      start = Math.ceil(wsNow() / HOUR) * HOUR + HOUR;
      const iso = (ms: number) => new Date(ms).toISOString();
      oneTime = await create({ is_one_time_use: true, starts_at: iso(start) });
      activated = await create({ starts_at: iso(start), ends_at: iso(start + 48 * HOUR) });
      neverUsed = await create({ starts_at: iso(start), ends_at: iso(start + 48 * HOUR) });
      pending = await create({ starts_at: iso(start + 2 * HOUR), ends_at: iso(start + 3 * HOUR) });

      await advanceTo(start + 10 * MIN);
      await opens(oneTime.code, 'the one-time code, first use');
      await opens(activated.code, 'the long code, first use (activation)');
      await refused(oneTime.code, 'expired_code', 'the one-time code, second use'); // failure 1

      for (let failure = 2; failure <= FREE_FAILURES + 1; failure++) {
        await refused(WRONG_PIN, 'unknown_code', `wrong PIN, failure ${failure}`);
      }
      // Failure 6 locked the keypad for 1 min; each later one doubles it: 2, 4, then 8 min.
      for (const lockedMinutes of [1, 2, 4]) {
        await refused(activated.code, 'too_many_attempts', `locked for ${lockedMinutes} min`);
        await advance(lockedMinutes * MIN + 2 * SEC);
        await refused(WRONG_PIN, 'unknown_code', 'wrong PIN after the lock ended');
      }
      lastFailureAt = wsNow();
      await refused(activated.code, 'too_many_attempts', 'locked for 8 min (9 failures)');

      assert.deepEqual(
        (await codeEvents(pending.access_code_id)).map((e) => e.event_type),
        ['access_code.created'],
        'the pending code has not started',
      );
    });

    it('stops on SIGTERM and starts again on the same database, reusing the generated master key', async () => {
      assert.ok(server && dataDir);
      const keyFile = join(dataDir, 'data', 'master.key');
      assert.ok(existsSync(keyFile), 'the first start generated data/master.key');
      masterKey = readFileSync(keyFile, 'utf8');
      assert.equal(await stop(server.child), 0, 'clean exit on SIGTERM');

      server = await serve(env);
      api = { url: server.url, apiKey };
      assert.equal(readFileSync(keyFile, 'utf8'), masterKey, 'the key file was reused, not rewritten');
      const devices = await call(api, '/devices/list', { body: {} });
      assert.equal(devices.status, 200, devices.text);
      assert.equal(devices.json.devices.length, 2, 'nothing seeded twice');
    });

    it('keeps the keypad lockout and its counter across the power cycle', async () => {
      await refused(activated.code, 'too_many_attempts', 'still locked after the restart');
      await advanceTo(lastFailureAt + 8 * MIN + 5 * SEC);
      // The one-time code stays used: refused, which is failure 10 and locks the keypad for 16 min. Had the
      // restart forgotten the counter, this would be failure 1 and the keypad would stay open.
      await refused(oneTime.code, 'expired_code', 'the used one-time code, after the restart');
      await refused(activated.code, 'too_many_attempts', 'failure 10 locked the keypad again');
    });

    it('runs lifecycle steps scheduled before the restart', async () => {
      await advanceTo(start + 2 * HOUR + 5 * MIN);
      const events = await codeEvents(pending.access_code_id);
      const set = events.find((e) => e.event_type === 'access_code.set_on_device');
      assert.ok(set, `set_on_device after the restart: ${JSON.stringify(events.map((e) => e.event_type))}`);
      assert.equal(set.code, pending.code);
      assert.equal(set.occurred_at, new Date(start + 2 * HOUR).toISOString());
      const got = await call(api, '/access_codes/get', { body: { access_code_id: pending.access_code_id } });
      assert.equal(got.status, 200, got.text);
      assert.equal(got.json.access_code.status, 'set');
      await opens(pending.code, 'the pending code inside its window');
    });

    it('opens the long code activated before the restart after its activation window; not the unused one', async () => {
      await advanceTo(start + 24 * HOUR + GRACE + 2 * HOUR);
      await opens(activated.code, 'activated before the restart, 26 h after its start');
      const late = await enter(neverUsed.code);
      assert.equal(late.accepted, false, 'never used in its first 24 h');
      await advanceTo(start + 48 * HOUR - 10 * MIN);
      await opens(activated.code, 'activated code, at the end of its window');
    });
  });
}
