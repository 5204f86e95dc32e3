import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { allEvents, type Client, DAY, HOUR, listCodes, simulateLock } from '../api/access-codes.helpers.ts';
import {
  createWebhook,
  listDeliveries,
  type Receiver,
  type SeamWebhookObject,
  startReceiver,
  svixId,
  verified,
} from '../api/webhooks.helpers.ts';
import { requirePostgres, type TestDatabase } from '../helpers/databases.ts';
import { prng } from '../helpers/prng.ts';
import { call } from '../helpers/server.ts';
import { children, killAll, serve, stop } from '../helpers/server-process.ts';
import { checkInvariants, drainJobs, groupBy, limitsNow } from './invariants.ts';

// Issue 9, item 4 (scale-out), the CI-sized correctness half: two real `latchkey serve` processes on one fresh
// Postgres database (started together on the empty database) take one concurrent load — 306 creates in flight at
// once, shuffled, alternating between the processes — then a sandbox clock jump asked of both processes at once,
// with two webhooks on a real receiver (every event; the lifecycle events only):
//  - slot limits (contract §4): many creates aimed at a few hourly, one-time-use, daily and permanent slots of
//    one lock → exactly each slot's capacity succeeds, every other one is 409 offline_code_slot_full, no PIN twice;
//  - the 199 cap: 230 creates on distinct slots of one lock → exactly 199 succeed, 31 are 409
//    max_access_codes_reached; sampled from the database while the load runs, no lock ever holds more;
//  - lifecycle: after advance_clock 100 h past the first start, each code has each event of each transition the
//    clock passed exactly once and at its instant (created; set_on_device at its start; removed_from_device and
//    deleted at its end), none of the others, is in the state its planned window puts it in at that instant,
//    and both processes list the rest in the right status. Which cap-lock codes exist depends on which creates
//    won the race, so four codes on the slots lock, created one by one before the load, put at least one code
//    in each of removed, set, setting and unset whatever the race did;
//  - webhooks: each event reaches each subscribed endpoint exactly once (one request per svix-id, one successful
//    attempt per delivery), and /webhooks/deliveries/list on either process says the same;
//  - the database agrees (test/scale/invariants.ts): no job failed or ran twice, limits held at every instant.
// The bench of a similar load at 1, 2 and 3 processes is `npm run bench:scale` (not run in CI).
// The plan's shuffle is seeded and printed; LATCHKEY_SCALE_SEED=<n> replays one.

const postgres = requirePostgres();

type Step = 'removed' | 'set' | 'setting' | 'unset';
const STEPS: readonly Step[] = ['removed', 'set', 'setting', 'unset'];

interface Planned {
  group: string;
  /** The state its code is in once the clock is advanced to the target (by construction of its window). */
  lands: Step;
  /** How many of the group's requests must succeed. */
  capacity: number;
  /** The error type of the others (all 409). */
  refusal: 'offline_code_slot_full' | 'max_access_codes_reached';
  device: 'slots' | 'cap';
  body: Record<string, unknown>;
}

interface Outcome extends Planned {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: response bodies are read ad hoc
  json: any;
  text: string;
}

const iso = (ms: number) => new Date(ms).toISOString();
/** advance_clock takes the workspace to half past the hour 100 h after the load's first start. */
const TARGET_AFTER_BASE = 100 * HOUR + HOUR / 2;
/** Contract §4: a one-time-use code lasts 24 h from its start hour; `setting` from 60 min before the start. */
const ONE_TIME_MS = 24 * HOUR;
/** A code's state at `t` by its window (null: no start / no end). */
function stepAt(starts: number | null, ends: number | null, t: number): Step {
  if (starts !== null && t < starts - HOUR) return 'unset';
  if (starts !== null && t < starts) return 'setting';
  if (ends === null || t < ends) return 'set';
  return 'removed';
}
/** The state the code a create body asks for is in at `t`. */
function landsAt(body: Record<string, unknown>, t: number): Step {
  const starts = typeof body.starts_at === 'string' ? Date.parse(body.starts_at) : null;
  const ends =
    body.is_one_time_use === true && starts !== null
      ? starts + ONE_TIME_MS
      : typeof body.ends_at === 'string'
        ? Date.parse(body.ends_at)
        : null;
  return stepAt(starts, ends, t);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LIFECYCLE_HOOK_TYPES = [
  'access_code.set_on_device',
  'access_code.removed_from_device',
  'access_code.deleted',
];

describe('scale-out: two `latchkey serve` processes on one Postgres under one concurrent load', {
  skip: postgres ? false : 'LATCHKEY_TEST_DATABASE_URL is unset: no Postgres to share',
}, () => {
  const seed = Number(process.env.LATCHKEY_SCALE_SEED ?? randomBytes(4).readUInt32BE(0));
  const apiKey = `seam_scale_${randomBytes(12).toString('hex')}`;
  let database: TestDatabase | undefined;
  let dataDir: string | undefined;
  let receiver: Receiver | undefined;
  let apis: Client[] = [];
  let hooks: { all: SeamWebhookObject; lifecycle: SeamWebhookObject };
  let slotsLock: string;
  let capLock: string;
  let outcomes: Outcome[] = [];
  /** The first start hour of the load (3 h ahead of the clock when it runs). */
  let base = 0;
  const won = (device?: 'slots' | 'cap') =>
    outcomes.filter((o) => o.status === 200 && (device === undefined || o.device === device));

  before(
    async () => {
      process.once('exit', killAll);
      console.log(`scale-out test seed: ${seed} (LATCHKEY_SCALE_SEED=${seed} replays it)`);
      database = await (postgres as NonNullable<typeof postgres>).create();
      dataDir = mkdtempSync(join(tmpdir(), 'latchkey-scale-'));
      receiver = await startReceiver();
      const env = {
        DATABASE_URL: database.url,
        LATCHKEY_MASTER_KEY: randomBytes(32).toString('hex'),
        LATCHKEY_BOOTSTRAP_API_KEY: apiKey,
        LATCHKEY_DATA_DIR: dataDir,
        LATCHKEY_RATE_LIMIT: '0',
        LATCHKEY_WEBHOOK_ALLOW_PRIVATE: 'true', // the receiver is on 127.0.0.1
      };
      // Both start at once on the empty database: migrations and the first-start seed race too.
      const served = await Promise.all([serve(env), serve(env)]);
      apis = served.map((s) => ({ url: s.url, apiKey }));
    },
    // Above serve's own start-up wait (SERVE_START_TIMEOUT_MS, 90 s; both start in parallel), so a slow start
    // reports serve's error with the child's output rather than the hook's timeout.
    { timeout: 120_000 },
  );

  after(async () => {
    await Promise.all([...children].map((c) => stop(c)));
    process.removeListener('exit', killAll);
    await receiver?.close();
    await database?.drop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('both processes serve the one sandbox, seeded once', async () => {
    const [a, b] = apis as [Client, Client];
    const lists = await Promise.all(apis.map((api) => call(api, '/devices/list', { body: {} })));
    for (const r of lists) assert.equal(r.status, 200, r.text);
    const ids = lists.map((r) => r.json.devices.map((d: { device_id: string }) => d.device_id).sort());
    assert.equal(ids[0]?.length, 2, 'seeded once: Front Door and Back Door');
    assert.deepEqual(ids[0], ids[1]);
    // One webhook for everything, one for the lifecycle only, created on different processes.
    const r = receiver as Receiver;
    hooks = {
      all: await createWebhook(a, { url: r.url('/all') }),
      lifecycle: await createWebhook(b, { url: r.url('/lifecycle'), event_types: LIFECYCLE_HOOK_TYPES }),
    };
    slotsLock = await simulateLock(a, 'Scale slots');
    capLock = await simulateLock(b, 'Scale cap');
  });

  it('306 creates at once across both: each slot fills to its capacity exactly, one lock to exactly 199, no PIN twice', {
    timeout: 60_000,
  }, async () => {
    const now = Date.now(); // the workspace clock (a fresh sandbox: offset 0)
    base = Math.ceil(now / HOUR) * HOUR + 3 * HOUR;
    const dayStart = Math.floor(now / DAY) * DAY + 2 * DAY;
    const target = base + TARGET_AFTER_BASE;
    const plan: Planned[] = [];
    const add = (
      p: Omit<Planned, 'body' | 'lands'>,
      n: number,
      body: (j: number) => Record<string, unknown>,
    ) => {
      for (let j = 0; j < n; j++) {
        const b = { is_offline_access_code: true, ...body(j) };
        plan.push({ ...p, lands: landsAt(b, target), body: b });
      }
    };
    const slot = (group: string, capacity: number) =>
      ({ group, capacity, refusal: 'offline_code_slot_full', device: 'slots' }) as const;
    for (let h = 0; h < 4; h++) {
      const start = base + h * HOUR;
      // Hourly-bound, 1 to 3 h: one slot per start hour whatever the length.
      add(slot(`hourly ${iso(start)}`, 3), 10, (j) => ({
        starts_at: iso(start),
        ends_at: iso(start + ((j % 3) + 1) * HOUR),
      }));
    }
    for (let h = 0; h < 2; h++) {
      const start = base + h * HOUR;
      add(slot(`one-time-use ${iso(start)}`, 5), 10, () => ({
        starts_at: iso(start),
        is_one_time_use: true,
      }));
    }
    // Daily-bound, 29 days, starting at different hours of one UTC day: one slot (the lock has no time zone).
    add(slot(`daily ${iso(dayStart).slice(0, 10)}`, 3), 8, (j) => ({
      starts_at: iso(dayStart + (j % 6) * HOUR),
      ends_at: iso(dayStart + (j % 6) * HOUR + 29 * DAY),
    }));
    add(slot('permanent', 3), 8, () => ({})); // the current hour's slot
    // The cap: 230 codes on distinct hourly slots of one lock.
    add({ group: 'cap', capacity: 199, refusal: 'max_access_codes_reached', device: 'cap' }, 230, (j) => ({
      starts_at: iso(base + j * HOUR),
      ends_at: iso(base + (j + 2) * HOUR),
    }));
    // Not part of the race: one code on the slots lock per state at the target, each alone in its hourly slot
    // (2 h windows like the cap lock's, 98, 99, 101 and 102 h after the first start), created one by one
    // before the load and each required to succeed. The cap lock's codes in those states depend on which of
    // its 230 creates win; these do not.
    const fixed: Outcome[] = [];
    for (const [i, [lands, hour]] of (
      [
        ['removed', 98],
        ['set', 99],
        ['setting', 101],
        ['unset', 102],
      ] as const
    ).entries()) {
      const body = {
        is_offline_access_code: true,
        starts_at: iso(base + hour * HOUR),
        ends_at: iso(base + (hour + 2) * HOUR),
      };
      assert.equal(landsAt(body, target), lands, `the fixed ${lands} code's window`);
      const r = await call(apis[i % apis.length] as Client, '/access_codes/create', {
        body: { device_id: slotsLock, ...body },
      });
      assert.equal(r.status, 200, `the fixed ${lands} code: ${r.text}`);
      fixed.push({
        group: `fixed ${lands}`,
        lands,
        capacity: 1,
        refusal: 'offline_code_slot_full',
        device: 'slots',
        body,
        status: r.status,
        json: r.json,
        text: r.text,
      });
    }

    const random = prng(seed);
    for (let i = plan.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [plan[i], plan[j]] = [plan[j] as Planned, plan[i] as Planned];
    }

    // While the load runs, sample the database: no lock over the cap, no slot over its capacity.
    const sampler = new pg.Client({ connectionString: (database as TestDatabase).url });
    await sampler.connect();
    let loading = true;
    let samples = 0;
    const sampled: string[] = [];
    const sampling = (async () => {
      while (loading) {
        sampled.push(...(await limitsNow(sampler)));
        samples += 1;
        await sleep(20);
      }
    })();
    const t0 = performance.now();
    try {
      const raced = await Promise.all(
        plan.map(async (p, i) => {
          const api = apis[i % apis.length] as Client;
          const device_id = p.device === 'slots' ? slotsLock : capLock;
          const r = await call(api, '/access_codes/create', { body: { device_id, ...p.body } });
          return { ...p, status: r.status, json: r.json, text: r.text };
        }),
      );
      outcomes = [...fixed, ...raced];
    } finally {
      loading = false;
      await sampling;
      await sampler.end();
    }
    const ms = performance.now() - t0;
    console.log(
      `  ${plan.length} creates across 2 processes in ${ms.toFixed(0)} ms; ${samples} database samples`,
    );
    assert.deepEqual(sampled, [], 'a sample of the database saw a limit exceeded');
    assert.ok(samples > 0);

    for (const o of outcomes) {
      if (o.status === 200) continue;
      assert.equal(o.status, 409, `${o.group}: ${o.text}`);
      assert.equal(o.json?.error?.type, o.refusal, `${o.group}: ${o.text}`);
    }
    for (const [group, list] of groupBy(outcomes, (o) => o.group)) {
      const winners = list.filter((o) => o.status === 200);
      const capacity = list[0]?.capacity as number;
      if (group === 'permanent') {
        // The slot is the current hour: should the load straddle an hour, each hour is a slot of its own.
        const perHour = [...groupBy(winners, (o) => o.json.access_code.starts_at).values()];
        assert.ok(
          perHour.every((w) => w.length <= capacity),
          'no permanent slot over 3',
        );
        assert.ok(
          perHour.some((w) => w.length === capacity),
          'the permanent slot filled',
        );
        continue;
      }
      assert.equal(winners.length, capacity, `${group}: exactly ${capacity} of ${list.length} succeed`);
      if (group.startsWith('hourly') || group.startsWith('one-time-use')) {
        const starts = new Set(winners.map((o) => o.json.access_code.starts_at));
        assert.deepEqual([...starts], [group.split(' ')[1]], `${group}: every winner in its slot`);
      }
    }
    for (const device of ['slots', 'cap'] as const) {
      const pins = won(device).map((o) => o.json.access_code.code as string);
      assert.equal(new Set(pins).size, pins.length, `${device} lock: a PIN was issued twice`);
    }
    // Both processes list the same live codes: exactly the acknowledged ones.
    for (const api of apis) {
      for (const [device, lock] of [
        ['slots', slotsLock],
        ['cap', capLock],
      ] as const) {
        const listed = await listCodes(api, lock);
        assert.deepEqual(
          listed.map((c) => c.access_code_id).sort(),
          won(device)
            .map((o) => o.json.access_code.access_code_id)
            .sort(),
          `${device} lock listed on ${api.url}`,
        );
      }
    }
    assert.equal(won('cap').length, 199);
  });

  it('advance_clock from both processes at once: each code has each event of each transition passed exactly once', {
    timeout: 90_000,
  }, async () => {
    assert.ok(outcomes.length > 0, 'the load ran');
    const [a, b] = apis as [Client, Client];
    const t0 = performance.now();
    // To half past the hour 100 h after the first start: the capped lock's codes of its first 99 hours end, those
    // of the next 2 are set, the next one's is `setting`, the rest still unset (of those that won the race); the
    // hourly and one-time-use codes end; the 29-day and permanent ones are set; the fixed codes are one in each
    // state. Asked of both processes at the same moment (half each): each runs due jobs at once, and the pollers
    // of both join in.
    const target = base + TARGET_AFTER_BASE;
    const total = Math.round((target - Date.now()) / 1000); // a fresh sandbox: its clock is real time
    const halves = [Math.floor(total / 2), total - Math.floor(total / 2)];
    const advanced = await Promise.all(
      [a, b].map((api, i) =>
        call(api, '/workspaces/simulate/advance_clock', { body: { by: `PT${halves[i]}S` } }),
      ),
    );
    for (const r of advanced) assert.equal(r.status, 200, r.text);
    const left = await drainJobs((database as TestDatabase).url, 60_000);
    assert.equal(left, 0, `${left} jobs still due or running after 60 s`);
    console.log(`  advance_clock ×2 and the job drain: ${(performance.now() - t0).toFixed(0)} ms`);
    const now = Date.now() + total * 1000; // the workspace clock, ± the seconds this test takes: all
    // transitions are on the hour, the clock at half past.

    const events = (await allEvents(a)).filter((e) => String(e.event_type).startsWith('access_code.'));
    const byCode = groupBy(events, (e) => e.access_code_id as string);
    const winners = won();
    const codes = winners.map((o) => o.json.access_code);
    assert.deepEqual(
      [...byCode.keys()].sort(),
      codes.map((c) => c.access_code_id).sort(),
      'events of exactly the acknowledged codes (a refused create stores nothing)',
    );
    const tally: Record<Step, number> = { removed: 0, set: 0, setting: 0, unset: 0 };
    /** The same, from what each accepted create was planned to be at the target. */
    const planned: Record<Step, number> = { removed: 0, set: 0, setting: 0, unset: 0 };
    const live = new Map<string, string>();
    for (const o of winners) {
      const c = o.json.access_code;
      planned[o.lands] += 1;
      const mine = byCode.get(c.access_code_id) ?? [];
      const at = (type: string) => Date.parse(mine.find((e) => e.event_type === type)?.occurred_at);
      const created = at('access_code.created');
      const starts = Date.parse(c.starts_at);
      const ends = c.ends_at ? Date.parse(c.ends_at) : null;
      const setAt = Math.max(starts, created);
      const expected = ['access_code.created'];
      if (setAt <= now) expected.push('access_code.set_on_device');
      if (ends !== null && ends <= now)
        expected.push('access_code.removed_from_device', 'access_code.deleted');
      assert.deepEqual(
        mine.map((e) => e.event_type).sort(),
        expected.sort(),
        `code ${c.access_code_id} (${c.starts_at} → ${c.ends_at}): each transition passed, once`,
      );
      if (setAt <= now) assert.equal(at('access_code.set_on_device'), setAt, 'set at its start');
      const step = stepAt(starts, ends, now);
      assert.equal(
        step,
        o.lands,
        `code ${c.access_code_id} of ${o.group} (${c.starts_at} → ${c.ends_at}): its planned state`,
      );
      tally[step] += 1;
      if (step === 'removed') {
        assert.equal(at('access_code.removed_from_device'), ends, 'removed at its end');
        assert.equal(at('access_code.deleted'), ends);
      } else live.set(c.access_code_id, step);
    }
    console.log(`  lifecycle: ${JSON.stringify(tally)}`);
    assert.deepEqual(tally, planned, 'the states are those the accepted creates were planned to land in');
    // Guaranteed by the fixed codes, whichever creates won the race: each state is exercised.
    const fixedCodes = winners.filter((o) => o.group.startsWith('fixed '));
    assert.deepEqual(fixedCodes.map((o) => o.lands).sort(), [...STEPS].sort(), 'one fixed code per state');
    for (const step of STEPS) assert.ok(tally[step] > 0, `no code ${step}: ${JSON.stringify(tally)}`);
    // Both processes list exactly the codes not yet removed, each in its status.
    for (const api of apis) {
      const listed = [...(await listCodes(api, slotsLock)), ...(await listCodes(api, capLock))];
      assert.deepEqual(
        new Map(listed.map((c) => [c.access_code_id, c.status])),
        live,
        `live codes and statuses on ${api.url}`,
      );
    }
  });

  it('each event reaches each subscribed endpoint exactly once; the delivery history on both processes agrees', {
    timeout: 60_000,
  }, async () => {
    const r = receiver as Receiver;
    const [a] = apis as [Client];
    const events = await allEvents(a);
    const lifecycleEvents = events.filter((e) => LIFECYCLE_HOOK_TYPES.includes(e.event_type));
    assert.ok(events.length < 1000, `${events.length} events (deliveries/list shows 1000 at most)`);
    await r.waitFor(
      () => r.at('/all').length >= events.length && r.at('/lifecycle').length >= lifecycleEvents.length,
      30_000,
      'every delivery',
    );
    await sleep(1_000); // time for a duplicate to show up
    for (const [path, hook, expected] of [
      ['/all', hooks.all, events],
      ['/lifecycle', hooks.lifecycle, lifecycleEvents],
    ] as const) {
      const got = r.at(path);
      const perId = groupBy(got, svixId);
      const twice = [...perId].filter(([, list]) => list.length > 1);
      assert.deepEqual(
        twice.map(([id]) => id),
        [],
        `${path}: a delivery was attempted twice`,
      );
      assert.equal(got.length, expected.length, `${path}: one request per event`);
      const delivered = got.map((x) => verified(hook.secret, x)); // signature checked by @seamapi/webhook
      assert.deepEqual(
        delivered.map((e) => e.event_id).sort(),
        expected.map((e) => e.event_id).sort(),
        `${path}: each event once`,
      );
      for (const api of apis) {
        const ds = await listDeliveries(api, hook.webhook_id, { limit: 1000 });
        assert.equal(ds.length, expected.length, `${path}: deliveries listed on ${api.url}`);
        const bad = ds.filter(
          (d) =>
            d.status !== 'succeeded' ||
            d.attempt_count !== 1 ||
            d.attempts.length !== 1 ||
            d.attempts[0]?.status_code !== 200,
        );
        assert.deepEqual(bad, [], `${path}: every delivery succeeded at its one attempt`);
        assert.deepEqual(ds.map((d) => d.delivery_id).sort(), [...perId.keys()].sort(), `${path}: ids agree`);
        const eventOf = new Map(got.map((x, i) => [svixId(x), delivered[i].event_id as string]));
        assert.ok(
          ds.every((d) => eventOf.get(d.delivery_id) === d.event_id),
          `${path}: each delivery carried its event`,
        );
      }
    }
  });

  it('the database agrees: limits held at every instant, each transition and delivery once, no job ran twice', async () => {
    const received = (receiver as Receiver).received.map((x) => ({
      path: x.path,
      svixId: svixId(x),
      eventId: JSON.parse(x.body).event_id as string,
    }));
    const report = await checkInvariants((database as TestDatabase).url, received);
    console.log(`  invariants: ${JSON.stringify(report.counts)}`);
    assert.deepEqual(report.violations, []);
    assert.equal(report.counts.max_live_codes_on_a_device, 199);
    assert.equal(report.counts.codes_at_a_transition_not_judged, 0);
  });

  it('both processes stop cleanly on SIGTERM', { timeout: 30_000 }, async () => {
    const codes = await Promise.all([...children].map((c) => stop(c)));
    assert.deepEqual(codes, [0, 0]);
  });
});
