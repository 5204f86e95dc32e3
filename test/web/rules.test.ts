import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type CodeDraft,
  offlineKindOf,
  previewOfflineCode,
  slotOccupancy,
  slotOfCode,
} from '../../web/lib/rules.ts';
import type { AccessCode } from '../../web/types.ts';
import { testDialects } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';

// The dashboard's create-form preview (web/lib/rules.ts) against the real server: for each draft, the preview's
// verdict — the kind and rounded window, or the exact error — must be what /access_codes/create then answers,
// with the device's codes as /access_codes/list gives them. Slot-full answers included (their message names the
// nearest free starts, which the preview works out from the listed codes).

const HOUR = 3_600_000;
const T0 = Date.UTC(2030, 0, 7, 8, 20);
const at = (day: number, hh: number, mm = 0) => Date.UTC(2030, 0, day, hh, mm);
const iso = (ms: number) => new Date(ms).toISOString();

const sqlite = testDialects().find((d) => d.name === 'sqlite');
assert.ok(sqlite);

describe('create-form preview = the server’s answer (sqlite)', () => {
  let server: TestServer;
  let deviceId: string;

  before(async () => {
    server = await startTestServer(sqlite);
    server.clock.now = T0;
    const front = server.sandbox.devices.find((d) => d.name === 'Front Door');
    assert.ok(front);
    deviceId = front.device_id;
  });
  after(() => server.close());

  async function codes(): Promise<AccessCode[]> {
    const r = await call(server, '/access_codes/list', { body: { device_id: deviceId } });
    assert.equal(r.status, 200, r.text);
    return r.json.access_codes;
  }

  /** Previews the draft, creates it, and checks that both agree; returns the created code (or null). */
  async function agree(draft: CodeDraft, why: string): Promise<AccessCode | null> {
    const listed = await codes();
    const preview = previewOfflineCode(draft, { now: T0, timeZone: null, codes: listed });
    const r = await call(server, '/access_codes/create', {
      body: {
        device_id: deviceId,
        name: why,
        is_offline_access_code: true,
        ...(draft.starts_at === undefined ? {} : { starts_at: iso(draft.starts_at) }),
        ...(draft.ends_at === undefined ? {} : { ends_at: iso(draft.ends_at) }),
        ...(draft.is_one_time_use ? { is_one_time_use: true } : {}),
        max_time_rounding: draft.max_time_rounding,
      },
    });
    if (preview.error !== null) {
      assert.equal(r.status, preview.error.status, `${why}: ${r.text}`);
      assert.equal(r.json.error.type, preview.error.type, why);
      assert.equal(r.json.error.message, preview.error.message, why);
      assert.deepEqual(r.json.error.data, preview.error.data, why);
      return null;
    }
    assert.equal(r.status, 200, `${why}: the preview said yes, the server: ${r.text}`);
    const code: AccessCode = r.json.access_code;
    assert.ok(preview.frame);
    assert.equal(code.starts_at, iso(preview.frame.starts_at), why);
    assert.equal(code.ends_at, preview.frame.ends_at === null ? null : iso(preview.frame.ends_at), why);
    assert.equal(offlineKindOf(code), preview.frame.kind, why);
    assert.equal(slotOfCode(code, null)?.slot_key, preview.slot?.slot_key, why);
    return code;
  }

  const base = { is_one_time_use: false, max_time_rounding: '1hour' as const };

  it('agrees on kinds, rounding and time-frame errors', async () => {
    await agree({ ...base, starts_at: at(7, 10, 15), ends_at: at(7, 13, 40) }, 'hourly, rounded');
    assert.equal(
      await agree({ ...base, starts_at: at(8, 9), ends_at: at(8 + 30, 15, 30) }, 'daily, needs 1d'),
      null,
    );
    const daily = await agree(
      { ...base, starts_at: at(8, 9), ends_at: at(8 + 30, 15, 30), max_time_rounding: '1d' },
      'daily with 1d',
    );
    assert.equal(daily && offlineKindOf(daily), 'daily');
    const oneTime = await agree({ ...base, starts_at: at(7, 12, 5), is_one_time_use: true }, 'one-time');
    assert.equal(oneTime && offlineKindOf(oneTime), 'one_time');
    const permanent = await agree(base, 'permanent');
    assert.equal(permanent && offlineKindOf(permanent), 'permanent');
    assert.equal(await agree({ ...base, starts_at: at(7, 11) }, 'only starts_at'), null);
    assert.equal(await agree({ ...base, starts_at: at(6, 1), ends_at: at(7, 8) }, 'already ended'), null);
    assert.equal(await agree({ ...base, starts_at: at(7, 11), ends_at: at(7, 10) }, 'backwards'), null);
    assert.equal(
      await agree({ ...base, starts_at: at(7, 11), ends_at: at(7 + 400, 11) }, 'longer than 367 days'),
      null,
    );
    assert.equal(
      await agree({ ...base, starts_at: at(5, 1), ends_at: at(9, 1) }, 'activation window over'),
      null,
    );
  });

  it('agrees on full slots, with the same nearby free starts', async () => {
    // Three hourly codes at 15:00 (and one at 16:00, so the nearby list has a partly used slot), then a 4th.
    for (const n of [1, 2, 3]) {
      assert.ok(await agree({ ...base, starts_at: at(7, 15), ends_at: at(7, 16) }, `15:00 #${n}`));
    }
    assert.ok(await agree({ ...base, starts_at: at(7, 16), ends_at: at(7, 17) }, '16:00 #1'));
    assert.equal(await agree({ ...base, starts_at: at(7, 15), ends_at: at(7, 16) }, '15:00 #4'), null);
    // Five one-time codes at 20:00, then a 6th.
    for (const n of [1, 2, 3, 4, 5]) {
      assert.ok(await agree({ ...base, starts_at: at(7, 20), is_one_time_use: true }, `one-time #${n}`));
    }
    assert.equal(
      await agree({ ...base, starts_at: at(7, 20, 30), is_one_time_use: true }, 'one-time #6'),
      null,
    );

    const used = slotOccupancy(await codes(), null);
    assert.equal(used.get(`hourly:${iso(at(7, 15))}`), 3);
    assert.equal(used.get(`one_time:${iso(at(7, 20))}`), 5);
    assert.equal(used.get(`hourly:${iso(at(7, 15) + HOUR)}`), 1);
  });
});
