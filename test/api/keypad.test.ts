import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { testDialects } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';

// What the virtual lock enforces (contract §4 "What the lock enforces", docs/algopin.md §6), driven through
// the sandbox routes of contract §5 over raw HTTP. The server's real clock is pinned, so the workspace clock
// moves only by advance_clock and every instant below is exact. Each test gets its own sandbox workspace
// (own clock, own locks), so the keypad lockout of one never leaks into another.

const MIN = 60_000;
const HOUR = 60 * MIN;
/** docs/algopin.md §1: the clock-drift grace at both ends of a window (and of the activation window). */
const GRACE = 15 * MIN;
/** docs/algopin.md §6.6: wrong PINs allowed before the first lockout. */
const FREE_FAILURES = 5;
/** 10 digits whose descriptor is out of range: never an algoPIN, always a wrong PIN (algopin.md §5). */
const WRONG_PIN = '9999999999';

type Api = { url: string; apiKey: string };

interface Sandbox {
  api: Api;
  deviceId: string;
  /** The workspace clock (ms), as the last advance_clock answered it. */
  now: number;
  /** A whole hour at least two hours after the workspace's start. */
  base: number;
}

interface KeypadResult {
  accepted: boolean;
  reason_code?: string;
}

for (const dialect of testDialects()) {
  describe(`keypad and the lock's rules (${dialect.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect);
    });
    after(() => server.close());

    async function sandbox(): Promise<Sandbox> {
      const ws = await server.createOtherWorkspace(true);
      const deviceId = ws.devices.find((d) => !d.has_bridge)?.device_id;
      assert.ok(deviceId, 'the sandbox has a keypad-only lock');
      const now = server.clock.now;
      return {
        api: { url: server.url, apiKey: ws.api_key },
        deviceId,
        now,
        base: Math.ceil(now / HOUR) * HOUR + 2 * HOUR,
      };
    }

    /** Moves the workspace clock to exactly `target` (the real clock is pinned). */
    async function advanceTo(sb: Sandbox, target: number): Promise<void> {
      const by = target - sb.now;
      assert.ok(by > 0, 'time only moves forward');
      const r = await call(sb.api, '/workspaces/simulate/advance_clock', { body: { by: `PT${by / 1000}S` } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.now, new Date(target).toISOString());
      sb.now = target;
    }

    async function create(
      sb: Sandbox,
      body: { starts_at: number; ends_at?: number; is_one_time_use?: boolean },
      deviceId = sb.deviceId,
    ) {
      const r = await call(sb.api, '/access_codes/create', {
        body: {
          device_id: deviceId,
          is_offline_access_code: true,
          ...(body.is_one_time_use ? { is_one_time_use: true } : {}),
          starts_at: new Date(body.starts_at).toISOString(),
          ...(body.ends_at === undefined ? {} : { ends_at: new Date(body.ends_at).toISOString() }),
        },
      });
      assert.equal(r.status, 200, r.text);
      assert.match(r.json.access_code.code, /^\d{8,10}$/);
      return r.json.access_code as {
        access_code_id: string;
        code: string;
        warnings: { warning_code: string }[];
      };
    }

    async function enter(sb: Sandbox, code: string, deviceId = sb.deviceId): Promise<KeypadResult> {
      const r = await call(sb.api, '/locks/simulate/keypad_code_entry', {
        body: { device_id: deviceId, code },
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.action_attempt.action_type, 'SIMULATE_KEYPAD_CODE_ENTRY');
      assert.equal(r.json.action_attempt.status, 'success');
      assert.equal(r.json.action_attempt.error, null);
      return r.json.action_attempt.result;
    }

    async function opens(sb: Sandbox, code: string, why: string) {
      const result = await enter(sb, code);
      assert.equal(result.accepted, true, `${why}: ${JSON.stringify(result)}`);
      assert.equal(result.reason_code, undefined);
    }

    async function refused(sb: Sandbox, code: string, reason: string, why: string) {
      const result = await enter(sb, code);
      assert.equal(result.accepted, false, `${why}: opened`);
      assert.equal(result.reason_code, reason, why);
    }

    async function setDrift(sb: Sandbox, drift: string, deviceId = sb.deviceId) {
      const r = await call(sb.api, '/locks/simulate/set_clock_drift', {
        body: { device_id: deviceId, drift },
      });
      assert.equal(r.status, 200, r.text);
      return r.json.virtual_lock as { clock_drift_ms: number; lock_time: string };
    }

    // biome-ignore lint/suspicious/noExplicitAny: events are read ad hoc
    async function events(sb: Sandbox, filters: Record<string, unknown> = {}): Promise<any[]> {
      const r = await call(sb.api, '/events/list', {
        body: { since: '2000-01-01T00:00:00Z', device_id: sb.deviceId, ...filters },
      });
      assert.equal(r.status, 200, r.text);
      return r.json.events;
    }

    it('opens an hourly code inside its window and within the grace at each end, never beyond', async () => {
      const sb = await sandbox();
      const start = sb.base;
      const end = start + 2 * HOUR;
      const code = await create(sb, { starts_at: start, ends_at: end });

      await advanceTo(sb, start - GRACE - MIN);
      await refused(sb, code.code, 'unknown_code', 'before its start, beyond the grace');
      await advanceTo(sb, start - GRACE + MIN);
      await opens(sb, code.code, 'before its start, within the grace');
      await advanceTo(sb, start + 30 * MIN);
      await opens(sb, code.code, 'inside its window');
      await advanceTo(sb, end - MIN);
      await opens(sb, code.code, 'at the end of its window');
      await advanceTo(sb, end + GRACE - MIN);
      await opens(sb, code.code, 'after its end, within the grace');
      await advanceTo(sb, end + GRACE + MIN);
      await refused(sb, code.code, 'expired_code', 'after its end, beyond the grace');

      const log = await events(sb, { event_types: ['lock.unlocked', 'lock.access_denied'] });
      assert.deepEqual(
        log.map((e) => [e.event_type, e.reason?.reason_code ?? null]),
        [
          ['lock.access_denied', 'unknown_code'],
          ['lock.unlocked', null],
          ['lock.unlocked', null],
          ['lock.unlocked', null],
          ['lock.unlocked', null],
          ['lock.access_denied', 'expired_code'],
        ],
      );
      const unlocked = log.find((e) => e.event_type === 'lock.unlocked');
      assert.equal(unlocked.method, 'keycode');
      assert.equal(unlocked.access_code_id, code.access_code_id);
      assert.equal(unlocked.device_id, sb.deviceId);
      assert.equal(log.at(-1).access_code_id, code.access_code_id, 'the lock named the code it recognised');
    });

    it('opens a one-time-use code exactly once; another code of the same slot still opens once', async () => {
      const sb = await sandbox();
      const first = await create(sb, { starts_at: sb.base, is_one_time_use: true });
      const second = await create(sb, { starts_at: sb.base, is_one_time_use: true });
      assert.notEqual(first.code, second.code);
      assert.equal(first.code.length, 8);

      await advanceTo(sb, sb.base + 10 * MIN);
      await opens(sb, first.code, 'first use');
      await refused(sb, first.code, 'expired_code', 'second use');
      await advanceTo(sb, sb.base + 5 * HOUR);
      await refused(sb, first.code, 'expired_code', 'a later use, still inside its 24 h');
      await opens(sb, second.code, 'the other code of the slot');
      await refused(sb, second.code, 'expired_code', 'the other code, second use');

      const denied = await events(sb, { event_type: 'lock.access_denied' });
      assert.equal(denied.length, 3);
      assert.ok(denied.every((e) => e.reason.reason_code === 'expired_code'));
      assert.equal(denied[0].access_code_id, first.access_code_id);
    });

    it('refuses a code longer than 24 h that missed its first 24 h; one used in time works to its end', async () => {
      const sb = await sandbox();
      const start = sb.base;
      const end = start + 48 * HOUR;
      const early = await create(sb, { starts_at: start, ends_at: end });
      const lastMinute = await create(sb, { starts_at: start, ends_at: end });
      const never = await create(sb, { starts_at: start, ends_at: end });
      for (const c of [early, lastMinute, never]) {
        assert.ok(c.warnings.some((w) => w.warning_code === 'igloo_algopin_must_be_used_within_24_hours'));
      }

      await advanceTo(sb, start + HOUR);
      await opens(sb, early.code, 'first use within 24 h: activates');
      await advanceTo(sb, start + 24 * HOUR + GRACE - MIN);
      await opens(sb, lastMinute.code, 'first use at the activation deadline (within the grace)');
      await advanceTo(sb, start + 24 * HOUR + GRACE + MIN);
      await refused(sb, never.code, 'expired_code', 'first use after the activation window');
      await opens(sb, early.code, 'activated code after 24 h');
      await advanceTo(sb, start + 40 * HOUR);
      await refused(sb, never.code, 'unknown_code', 'long after the activation window');
      await opens(sb, early.code, 'activated code, day two');
      await opens(sb, lastMinute.code, 'activated at the deadline, day two');
      await advanceTo(sb, end - MIN);
      await opens(sb, early.code, 'activated code at the end of its window');
      await advanceTo(sb, end + GRACE + MIN);
      await refused(sb, early.code, 'expired_code', 'activated code after its end');
    });

    it('locks the keypad after 5 free wrong PINs, with backoff; a correct PIN resets nothing', async () => {
      const sb = await sandbox();
      const code = await create(sb, { starts_at: sb.base, ends_at: sb.base + 3 * HOUR });
      await advanceTo(sb, sb.base + 5 * MIN);

      for (let i = 1; i <= FREE_FAILURES; i++) {
        await refused(sb, WRONG_PIN, 'unknown_code', `wrong PIN ${i}`);
      }
      await opens(sb, code.code, 'five wrong PINs are free');
      await refused(sb, WRONG_PIN, 'unknown_code', 'sixth wrong PIN (locks for 1 min)');
      const sixth = sb.now;
      await refused(sb, code.code, 'too_many_attempts', 'right PIN while locked');
      await advanceTo(sb, sixth + MIN - 1000);
      await refused(sb, code.code, 'too_many_attempts', 'right PIN, 1 s before the lock ends');
      await advanceTo(sb, sixth + MIN);
      await opens(sb, code.code, 'the 1-minute lock is over (refusals while locked were not counted)');

      await refused(sb, WRONG_PIN, 'unknown_code', 'seventh wrong PIN');
      const seventh = sb.now;
      await refused(
        sb,
        code.code,
        'too_many_attempts',
        'the seventh wrong PIN locks again: the correct PIN did not reset the counter',
      );
      await advanceTo(sb, seventh + MIN + 1000);
      await refused(sb, code.code, 'too_many_attempts', 'the backoff doubled: 2 min this time');
      await advanceTo(sb, seventh + 2 * MIN);
      await opens(sb, code.code, 'the 2-minute lock is over');

      const denied = await events(sb, { event_type: 'lock.access_denied' });
      const reasons = denied.map((e) => e.reason.reason_code);
      assert.equal(reasons.filter((r) => r === 'too_many_attempts').length, 4);
      assert.equal(reasons.filter((r) => r === 'unknown_code').length, 7);
      const locked = denied.find((e) => e.reason.reason_code === 'too_many_attempts');
      assert.equal(locked.access_code_id, code.access_code_id);
    });

    it('forgets a code deleted over Bluetooth: gone from the API, and its PIN blocklisted on the lock', async () => {
      const sb = await sandbox();
      const start = sb.base;
      const gone = await create(sb, { starts_at: start, ends_at: start + 2 * HOUR });
      const kept = await create(sb, { starts_at: start, ends_at: start + 2 * HOUR });
      const future = await create(sb, { starts_at: start + 4 * HOUR, ends_at: start + 6 * HOUR });
      await advanceTo(sb, start + 10 * MIN);
      await opens(sb, gone.code, 'before the delete');

      const del = await call(sb.api, '/locks/simulate/bluetooth_delete_code', {
        body: { device_id: sb.deviceId, access_code_id: gone.access_code_id },
      });
      assert.equal(del.status, 200, del.text);
      assert.equal(del.json.action_attempt.status, 'success');
      assert.equal(del.json.action_attempt.action_type, 'DELETE_ACCESS_CODE');

      const get = await call(sb.api, '/access_codes/get', { body: { access_code_id: gone.access_code_id } });
      assert.equal(get.status, 404);
      assert.equal(get.json.error.type, 'access_code_not_found');
      const listed = await call(sb.api, '/access_codes/list', { body: { device_id: sb.deviceId } });
      assert.deepEqual(
        listed.json.access_codes.map((c: { access_code_id: string }) => c.access_code_id).sort(),
        [kept.access_code_id, future.access_code_id].sort(),
      );
      const removal = await events(sb, {
        access_code_id: gone.access_code_id,
        event_types: ['access_code.removed_from_device', 'access_code.deleted'],
      });
      assert.deepEqual(
        removal.map((e) => e.event_type),
        ['access_code.removed_from_device', 'access_code.deleted'],
      );

      await refused(sb, gone.code, 'blocklisted_code', 'after the Bluetooth delete');
      await opens(sb, kept.code, 'another code of the same slot');
      const again = await call(sb.api, '/locks/simulate/bluetooth_delete_code', {
        body: { device_id: sb.deviceId, access_code_id: gone.access_code_id },
      });
      assert.equal(again.status, 404);
      assert.equal(again.json.error.type, 'access_code_not_found');

      // The API's delete still refuses offline codes, and changes nothing.
      const apiDelete = await call(sb.api, '/access_codes/delete', {
        body: { access_code_id: kept.access_code_id },
      });
      assert.equal(apiDelete.status, 400);
      assert.equal(apiDelete.json.error.type, 'cannot_delete_offline_access_code');
      assert.match(apiDelete.json.error.message, /Bluetooth/i);
      const stillThere = await call(sb.api, '/access_codes/get', {
        body: { access_code_id: kept.access_code_id },
      });
      assert.equal(stillThere.status, 200);
      await opens(sb, kept.code, 'after the refused API delete');

      // A code deleted before it starts is refused when it would have started, and never reported as set.
      const early = await call(sb.api, '/locks/simulate/bluetooth_delete_code', {
        body: { device_id: sb.deviceId, access_code_id: future.access_code_id },
      });
      assert.equal(early.status, 200, early.text);
      await advanceTo(sb, start + 4 * HOUR + 10 * MIN);
      await refused(sb, future.code, 'blocklisted_code', 'a code deleted before its start');
      await advanceTo(sb, start + 7 * HOUR);
      const futureEvents = await events(sb, { access_code_id: future.access_code_id });
      assert.deepEqual(
        futureEvents.map((e) => e.event_type),
        [
          'access_code.created',
          'access_code.removed_from_device',
          'access_code.deleted',
          'lock.access_denied',
        ],
        'no set_on_device for a deleted code; the refusal names it',
      );
      const goneEvents = await events(sb, {
        access_code_id: gone.access_code_id,
        event_type: 'access_code.deleted',
      });
      assert.equal(goneEvents.length, 1, 'the end of the window removes nothing twice');
    });

    it('tolerates clock drift within the 15-minute grace at both ends of a window', async () => {
      const sb = await sandbox();
      const start = sb.base;
      const end = start + 2 * HOUR;
      const code = await create(sb, { starts_at: start, ends_at: end });

      // The lock runs 10 min fast: a guest 20 min early meets a lock that reads 10 min early.
      await advanceTo(sb, start - 20 * MIN);
      await setDrift(sb, 'PT0S');
      await refused(sb, code.code, 'unknown_code', '20 min early on a true clock');
      const fast = await setDrift(sb, 'PT10M');
      assert.equal(fast.clock_drift_ms, 10 * MIN);
      assert.equal(fast.lock_time, new Date(sb.now + 10 * MIN).toISOString());
      await opens(sb, code.code, '20 min early, lock 10 min fast');

      // The lock runs 10 min slow: at the true start it reads 10 min before it, within the grace.
      await advanceTo(sb, start);
      await setDrift(sb, '-PT10M');
      await opens(sb, code.code, 'at the true start, lock 10 min slow');

      // 10 min fast at the true end: the lock reads 10 min past it, within the grace.
      await advanceTo(sb, end - MIN);
      await setDrift(sb, 'PT10M');
      await opens(sb, code.code, 'at the true end, lock 10 min fast');

      // 10 min slow, 20 min after the true end: the lock reads 10 min past it.
      await advanceTo(sb, end + 20 * MIN);
      await setDrift(sb, 'PT0S');
      await refused(sb, code.code, 'expired_code', '20 min late on a true clock');
      await setDrift(sb, '-PT10M');
      await opens(sb, code.code, '20 min late, lock 10 min slow');
    });

    it('refuses codes inside their true window when the drift exceeds the grace', async () => {
      const sb = await sandbox();
      const start = sb.base;
      const end = start + 2 * HOUR;
      const code = await create(sb, { starts_at: start, ends_at: end });

      await advanceTo(sb, start + 30 * MIN);
      await setDrift(sb, '-PT2H');
      await refused(sb, code.code, 'unknown_code', 'lock 2 h slow: the code has not started for it');
      await advanceTo(sb, end - 30 * MIN);
      await setDrift(sb, 'PT2H');
      await refused(sb, code.code, 'expired_code', 'lock 2 h fast: the code has ended for it');
      await setDrift(sb, 'PT0S');
      await opens(sb, code.code, 'the clock set right again');
    });

    it('answers malformed input with 400 invalid_input and leaves the lock untouched', async () => {
      const sb = await sandbox();
      const code = await create(sb, { starts_at: sb.base, ends_at: sb.base + 2 * HOUR });
      await advanceTo(sb, sb.base + 5 * MIN);
      for (let i = 1; i <= FREE_FAILURES; i++) await refused(sb, WRONG_PIN, 'unknown_code', `wrong PIN ${i}`);
      const before = await events(sb);

      const bad: [string, Record<string, unknown>, string][] = [
        ['/locks/simulate/keypad_code_entry', { device_id: sb.deviceId, code: 'abc' }, 'code'],
        ['/locks/simulate/keypad_code_entry', { device_id: sb.deviceId, code: '' }, 'code'],
        ['/locks/simulate/keypad_code_entry', { device_id: sb.deviceId, code: 1234567890 }, 'code'],
        ['/locks/simulate/keypad_code_entry', { device_id: 'front-door', code: code.code }, 'device_id'],
        ['/locks/simulate/keypad_code_entry', { code: code.code }, 'device_id'],
        ['/locks/simulate/set_clock_drift', { device_id: sb.deviceId, drift: 'P1M' }, 'drift'],
        ['/locks/simulate/set_clock_drift', { device_id: sb.deviceId, drift: 'PT' }, 'drift'],
        ['/locks/simulate/set_clock_drift', { device_id: sb.deviceId, drift: 'P400D' }, 'drift'],
        [
          '/locks/simulate/bluetooth_delete_code',
          { device_id: sb.deviceId, access_code_id: 'x' },
          'access_code_id',
        ],
        ['/workspaces/simulate/advance_clock', { by: '-PT1H' }, 'by'],
        ['/workspaces/simulate/advance_clock', { by: 'P1Y' }, 'by'],
      ];
      for (const [path, body, field] of bad) {
        const r = await call(sb.api, path, { body });
        assert.equal(r.status, 400, `${path} ${JSON.stringify(body)}: ${r.text}`);
        assert.equal(r.json.error.type, 'invalid_input');
        assert.ok(r.json.error.validation_errors?.[field], `${path} names ${field}: ${r.text}`);
      }

      assert.equal((await events(sb)).length, before.length, 'no event was recorded');
      const workspace = await call(sb.api, '/workspaces/simulate/advance_clock', { body: { by: 'PT1S' } });
      assert.equal(workspace.json.now, new Date(sb.now + 1000).toISOString(), 'the clock did not move');
      sb.now += 1000;
      // A sixth wrong PIN would lock the keypad, and a month of drift would end the code: the right PIN opens.
      await opens(sb, code.code, 'the lockout counter and the clock did not move');
      const codes = await call(sb.api, '/access_codes/list', { body: { device_id: sb.deviceId } });
      assert.equal(codes.json.access_codes.length, 1, 'nothing was deleted');
    });

    it('refuses every sandbox route in a non-sandbox workspace with 400 workspace_not_sandbox', async () => {
      const production = await server.createOtherWorkspace(false);
      const api = { url: server.url, apiKey: production.api_key };
      const deviceId = randomUUID();
      const routes: [string, Record<string, unknown>][] = [
        ['/locks/simulate/keypad_code_entry', { device_id: deviceId, code: '1234567890' }],
        ['/locks/simulate/bluetooth_delete_code', { device_id: deviceId, access_code_id: randomUUID() }],
        ['/locks/simulate/set_clock_drift', { device_id: deviceId, drift: 'PT10M' }],
        ['/workspaces/simulate/advance_clock', { by: 'PT1H' }],
        ['/devices/simulate/create', { name: 'Real door' }],
      ];
      for (const [path, body] of routes) {
        const r = await call(api, path, { body });
        assert.equal(r.status, 400, `${path}: ${r.text}`);
        assert.equal(r.json.error.type, 'workspace_not_sandbox', path);
      }
      const ws = await call(api, '/workspaces/get');
      assert.equal(ws.status, 200);
      assert.equal(ws.json.workspace.is_sandbox, false);
      const events = await call(api, '/events/list', { body: { since: '2000-01-01T00:00:00Z' } });
      assert.deepEqual(events.json.events, []);
    });

    it('answers unknown and other-workspace devices and codes with 404', async () => {
      const mine = await sandbox();
      const theirs = await sandbox();
      const theirCode = await create(theirs, { starts_at: theirs.base, ends_at: theirs.base + 2 * HOUR });
      const myCode = await create(mine, { starts_at: mine.base, ends_at: mine.base + 2 * HOUR });
      for (const deviceId of [randomUUID(), theirs.deviceId]) {
        for (const [path, body] of [
          ['/locks/simulate/keypad_code_entry', { device_id: deviceId, code: theirCode.code }],
          ['/locks/simulate/set_clock_drift', { device_id: deviceId, drift: 'PT10M' }],
          [
            '/locks/simulate/bluetooth_delete_code',
            { device_id: deviceId, access_code_id: theirCode.access_code_id },
          ],
        ] as const) {
          const r = await call(mine.api, path, { body });
          assert.equal(r.status, 404, `${path}: ${r.text}`);
          assert.equal(r.json.error.type, 'device_not_found', path);
        }
      }
      // My device, but a code that is unknown, another workspace's, or another device's of mine.
      const backDoor = await call(mine.api, '/devices/list', { body: {} });
      const otherDeviceId = backDoor.json.devices.find(
        (d: { device_id: string }) => d.device_id !== mine.deviceId,
      ).device_id;
      for (const [deviceId, accessCodeId] of [
        [mine.deviceId, randomUUID()],
        [mine.deviceId, theirCode.access_code_id],
        [otherDeviceId, myCode.access_code_id],
      ]) {
        const r = await call(mine.api, '/locks/simulate/bluetooth_delete_code', {
          body: { device_id: deviceId, access_code_id: accessCodeId },
        });
        assert.equal(r.status, 404, r.text);
        assert.equal(r.json.error.type, 'access_code_not_found');
      }
      // Nothing happened to either lock: both codes still open in their windows.
      await advanceTo(theirs, theirs.base + 10 * MIN);
      await opens(theirs, theirCode.code, 'their code');
      await advanceTo(mine, mine.base + 10 * MIN);
      await opens(mine, myCode.code, 'my code');
      assert.equal((await events(mine, { event_type: 'access_code.deleted' })).length, 0);
    });
  });
}
