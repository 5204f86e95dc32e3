import pg from 'pg';

// The correctness oracle of the scale-out test and of `npm run bench:scale`: what must hold of a Postgres
// database that several `latchkey serve` processes wrote to, read straight from its tables (contract §4 and
// the webhook outbox). It never imports the product's code: the rules are restated here from the contract.
//
//  - slot limits: at no instant did a (device, slot) hold more live codes than its capacity;
//  - the cap: at no instant did a device hold more than 199 live codes;
//  - no PIN twice: two codes of one device with the same PIN were never live at the same time;
//  - lifecycle: each code has each event of each transition that its window and the workspace clock call for
//    exactly once (created; set_on_device at its start; removed_from_device and deleted at its end), at the
//    instant of the transition, and its stored status agrees;
//  - jobs: none failed, none running, none due and still pending, and each ran exactly once (attempts = 1);
//  - webhooks: each event a webhook subscribes to has exactly one delivery for it, which succeeded at its first
//    and only attempt, and the receiver got exactly one request per delivery (svix-id), carrying that event.
//
// "At no instant" is checked by a sweep over each code's live interval [created_at, removed_at) on the
// workspace clock: a server decides a limit while the code is still stored as live (removal is recorded at the
// code's end even when its job runs later), so a server that kept the limit passes this check, and one that
// let a code too many in at time t fails it.

/** Contract §4: codes per slot, by the offline kind named in the slot key (`<kind>:<slot>`). */
export const SLOT_CAPACITY: Readonly<Record<string, number>> = {
  hourly: 3,
  daily: 3,
  one_time: 5,
  permanent: 3,
};
export const MAX_LIVE_CODES = 199;
/** Contract §4: `setting` from 60 minutes before the start. */
const SETTING_LEAD_MS = 3_600_000;
/** A transition this close to the checked instant may or may not have happened yet: not judged. */
const AMBIGUOUS_MS = 60_000;

const LIFECYCLE_TYPES = [
  'access_code.created',
  'access_code.set_on_device',
  'access_code.removed_from_device',
  'access_code.deleted',
] as const;

/** One request the webhook receiver got. */
export interface Delivered {
  /** The URL path it was sent to (which webhook). */
  path: string;
  /** The `svix-id` header: the delivery id. */
  svixId: string;
  /** `event_id` of the event in the body. */
  eventId: string;
}

export interface InvariantReport {
  violations: string[];
  counts: Record<string, number>;
}

const num = (v: unknown): number => Number(v);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

async function withClient<T>(databaseUrl: string, f: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    return await f(client);
  } finally {
    await client.end();
  }
}

/**
 * The cheap part, for sampling while a load runs: devices over the cap and slots over their capacity right now
 * (live codes only). `client` stays open between samples.
 */
export async function limitsNow(client: pg.Client): Promise<string[]> {
  const violations: string[] = [];
  const cap = await client.query(
    `select device_id, count(*)::int as n from access_codes where removed_at is null
     group by device_id having count(*) > $1`,
    [MAX_LIVE_CODES],
  );
  for (const r of cap.rows)
    violations.push(`device ${r.device_id} holds ${r.n} live codes (> ${MAX_LIVE_CODES})`);
  const slots = await client.query(
    `select device_id, slot_key, count(*)::int as n from access_codes
     where removed_at is null and slot_key is not null group by device_id, slot_key
     having count(*) > case split_part(slot_key, ':', 1) when 'one_time' then 5 else 3 end`,
  );
  for (const r of slots.rows)
    violations.push(`slot ${r.slot_key} of device ${r.device_id} holds ${r.n} live codes`);
  return violations;
}

interface Interval {
  from: number;
  to: number; // Infinity while live
}

/** The largest number of intervals live at once, looked at each interval's start (where a limit is decided). */
function maxOverlap(intervals: Interval[]): { n: number; at: number } {
  const starts = intervals.map((i) => i.from).sort((a, b) => a - b);
  const ends = intervals.map((i) => i.to).sort((a, b) => a - b);
  let best = { n: 0, at: Number.NaN };
  let e = 0;
  for (let s = 0; s < starts.length; s++) {
    const t = starts[s] as number;
    while (e < ends.length && (ends[e] as number) <= t) e++;
    // Every interval that started at or before t (ties included) minus those already over.
    let started = s + 1;
    while (started < starts.length && starts[started] === t) started++;
    const live = started - e;
    if (live > best.n) best = { n: live, at: t };
  }
  return best;
}

/** Items by key, in order (Object.groupBy is Node 21+). */
export function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

interface CodeRow {
  access_code_id: string;
  device_id: string;
  workspace_id: string;
  code: string | null;
  kind: string;
  status: string;
  slot_key: string | null;
  starts_at: number | null;
  ends_at: number | null;
  created_at: number;
  removed_at: number | null;
}

/**
 * Checks everything above on the database at `databaseUrl`, now (each workspace's clock read from the
 * database), against the requests the webhook receiver got. Call it once the job runners have drained.
 * `maxViolations` bounds the list (the counts still cover everything).
 */
export async function checkInvariants(
  databaseUrl: string,
  received: readonly Delivered[],
  options: { maxViolations?: number } = {},
): Promise<InvariantReport> {
  const max = options.maxViolations ?? 50;
  const violations: string[] = [];
  let hidden = 0;
  const fail = (message: string) => {
    if (violations.length < max) violations.push(message);
    else hidden += 1;
  };
  const counts: Record<string, number> = {};

  await withClient(databaseUrl, async (client) => {
    const realNow = Date.now();
    const offsets = new Map<string, number>(
      (await client.query('select workspace_id, clock_offset_ms from workspaces')).rows.map((r) => [
        r.workspace_id as string,
        num(r.clock_offset_ms),
      ]),
    );
    const clockOf = (workspaceId: string | null) => realNow + (offsets.get(workspaceId ?? '') ?? 0);

    // ------------------------------------------------------------------------------------ codes and limits
    const codes: CodeRow[] = (
      await client.query(
        `select access_code_id, device_id, workspace_id, code, kind, status, slot_key, starts_at, ends_at,
                created_at, removed_at from access_codes`,
      )
    ).rows.map((r) => ({
      ...r,
      starts_at: numOrNull(r.starts_at),
      ends_at: numOrNull(r.ends_at),
      created_at: num(r.created_at),
      removed_at: numOrNull(r.removed_at),
    }));
    counts.codes = codes.length;
    counts.live_codes = codes.filter((c) => c.removed_at === null).length;
    const interval = (c: CodeRow): Interval => ({
      from: c.created_at,
      to: c.removed_at ?? Number.POSITIVE_INFINITY,
    });

    let deviceMax = 0;
    for (const [device, list] of groupBy(codes, (c) => c.device_id)) {
      const peak = maxOverlap(list.map(interval));
      deviceMax = Math.max(deviceMax, peak.n);
      if (peak.n > MAX_LIVE_CODES)
        fail(
          `device ${device}: ${peak.n} live codes at ${new Date(peak.at).toISOString()} (cap ${MAX_LIVE_CODES})`,
        );
    }
    counts.max_live_codes_on_a_device = deviceMax;

    let slots = 0;
    let fullSlots = 0;
    for (const [key, list] of groupBy(
      codes.filter((c) => c.slot_key !== null),
      (c) => `${c.device_id} ${c.slot_key}`,
    )) {
      slots += 1;
      const kind = (list[0]?.slot_key ?? '').split(':')[0] ?? '';
      const capacity = SLOT_CAPACITY[kind];
      if (capacity === undefined) {
        fail(`slot ${key}: unknown kind ${kind}`);
        continue;
      }
      const peak = maxOverlap(list.map(interval));
      if (peak.n === capacity) fullSlots += 1;
      if (peak.n > capacity)
        fail(
          `slot ${key}: ${peak.n} live codes at ${new Date(peak.at).toISOString()} (capacity ${capacity})`,
        );
    }
    counts.slots = slots;
    counts.full_slots = fullSlots;

    let samePin = 0;
    for (const [key, list] of groupBy(
      codes.filter((c) => c.code !== null),
      (c) => `${c.device_id} ${c.code}`,
    )) {
      if (list.length < 2) continue;
      const peak = maxOverlap(list.map(interval));
      if (peak.n > 1) {
        samePin += 1;
        fail(
          `device ${key.split(' ')[0]}: ${peak.n} live codes share one PIN at ${new Date(peak.at).toISOString()}`,
        );
      }
    }
    counts.pins_shared_while_live = samePin;

    // ------------------------------------------------------------------------------------ lifecycle
    const events = (
      await client.query(
        `select event_id, workspace_id, event_type, access_code_id, occurred_at from events
         where access_code_id is not null`,
      )
    ).rows.map((r) => ({
      event_id: r.event_id as string,
      event_type: r.event_type as string,
      access_code_id: r.access_code_id as string,
      occurred_at: num(r.occurred_at),
    }));
    counts.access_code_events = events.length;
    const eventsByCode = groupBy(events, (e) => e.access_code_id);
    let judged = 0;
    let ambiguous = 0;
    const byCode = new Map(codes.map((c) => [c.access_code_id, c]));
    for (const id of eventsByCode.keys())
      if (!byCode.has(id)) fail(`events for an unknown access code ${id}`);
    for (const c of codes) {
      if (c.kind === 'online') continue; // reconciled through a bridge: not part of this load
      const now = clockOf(c.workspace_id);
      const setAt = Math.max(c.starts_at ?? c.created_at, c.created_at);
      const instants = [setAt, c.ends_at, c.starts_at === null ? null : c.starts_at - SETTING_LEAD_MS];
      if (instants.some((t) => t !== null && t > c.created_at && Math.abs(t - now) < AMBIGUOUS_MS)) {
        ambiguous += 1;
        continue;
      }
      judged += 1;
      const isSet = setAt <= now && c.code !== null;
      const isRemoved = c.ends_at !== null && c.ends_at <= now;
      const expected: Record<string, { n: number; at?: number }> = {
        'access_code.created': { n: 1, at: c.created_at },
        'access_code.set_on_device': isSet ? { n: 1, at: setAt } : { n: 0 },
        'access_code.removed_from_device': isRemoved ? { n: 1, at: c.ends_at as number } : { n: 0 },
        'access_code.deleted': isRemoved ? { n: 1, at: c.ends_at as number } : { n: 0 },
      };
      const mine = eventsByCode.get(c.access_code_id) ?? [];
      for (const type of LIFECYCLE_TYPES) {
        const got = mine.filter((e) => e.event_type === type);
        const want = expected[type] as { n: number; at?: number };
        if (got.length !== want.n) {
          fail(`code ${c.access_code_id} (${c.kind}): ${got.length} × ${type}, expected ${want.n}`);
        } else if (want.at !== undefined && got[0] && got[0].occurred_at !== want.at) {
          fail(
            `code ${c.access_code_id}: ${type} occurred at ${new Date(got[0].occurred_at).toISOString()}, ` +
              `expected ${new Date(want.at).toISOString()}`,
          );
        }
      }
      for (const e of mine)
        if (!(LIFECYCLE_TYPES as readonly string[]).includes(e.event_type))
          fail(`code ${c.access_code_id}: unexpected ${e.event_type}`);
      if (isRemoved) {
        if (c.removed_at !== c.ends_at)
          fail(`code ${c.access_code_id}: removed_at ${c.removed_at}, ends ${c.ends_at}`);
      } else {
        const step =
          c.starts_at !== null && now < c.starts_at - SETTING_LEAD_MS
            ? 'unset'
            : c.starts_at !== null && now < c.starts_at
              ? 'setting'
              : 'set';
        if (c.removed_at !== null) fail(`code ${c.access_code_id}: removed before its end`);
        else if (c.status !== step) fail(`code ${c.access_code_id}: status ${c.status}, expected ${step}`);
      }
    }
    counts.codes_judged = judged;
    counts.codes_at_a_transition_not_judged = ambiguous;

    // ------------------------------------------------------------------------------------ jobs
    const jobs = (
      await client.query('select job_id, workspace_id, kind, status, run_at, attempts, last_error from jobs')
    ).rows;
    counts.jobs = jobs.length;
    counts.jobs_done = 0;
    counts.jobs_pending_not_due = 0;
    for (const j of jobs) {
      const due = num(j.run_at) <= clockOf(j.workspace_id);
      const what = `job ${j.job_id} (${j.kind})`;
      if (j.status === 'done') {
        counts.jobs_done += 1;
        if (num(j.attempts) !== 1)
          fail(`${what} ran ${j.attempts} times${j.last_error ? ` (last error: ${j.last_error})` : ''}`);
      } else if (j.status === 'pending' && !due) counts.jobs_pending_not_due += 1;
      else
        fail(`${what} is ${j.status}${due ? ' and due' : ''}, attempts ${j.attempts}, error ${j.last_error}`);
    }

    // ------------------------------------------------------------------------------------ webhooks
    const hooks = (
      await client.query(
        'select webhook_id, workspace_id, url, event_types from webhooks where deleted_at is null',
      )
    ).rows.map((r) => ({
      webhook_id: r.webhook_id as string,
      workspace_id: r.workspace_id as string,
      path: new URL(r.url as string).pathname,
      types: JSON.parse(r.event_types as string) as string[],
    }));
    const allEvents = (await client.query('select event_id, workspace_id, event_type from events')).rows as {
      event_id: string;
      workspace_id: string;
      event_type: string;
    }[];
    const deliveries = (
      await client.query('select delivery_id, webhook_id, event_id, status, attempts from webhook_deliveries')
    ).rows;
    const attempts = (
      await client.query('select delivery_id, attempt_number, status_code from webhook_attempts')
    ).rows;
    const attemptsByDelivery = groupBy(attempts, (a) => a.delivery_id as string);
    const receivedById = groupBy([...received], (r) => r.svixId);
    const deliveriesByHook = groupBy(deliveries, (d) => d.webhook_id as string);
    counts.webhooks = hooks.length;
    counts.deliveries = deliveries.length;
    counts.received = received.length;
    const known = new Set<string>();
    for (const hook of hooks) {
      const wanted = allEvents.filter(
        (e) =>
          e.workspace_id === hook.workspace_id &&
          (hook.types.includes('*') || hook.types.includes(e.event_type)),
      );
      const mine = deliveriesByHook.get(hook.webhook_id) ?? [];
      const perEvent = groupBy(mine, (d) => d.event_id as string);
      for (const e of wanted) {
        const n = perEvent.get(e.event_id)?.length ?? 0;
        if (n !== 1) fail(`webhook ${hook.path}: ${n} deliveries of event ${e.event_id} (${e.event_type})`);
      }
      const wantedIds = new Set(wanted.map((e) => e.event_id));
      for (const d of mine) {
        known.add(d.delivery_id);
        const what = `webhook ${hook.path}, delivery ${d.delivery_id}`;
        if (!wantedIds.has(d.event_id))
          fail(`${what}: of event ${d.event_id}, which it does not subscribe to`);
        const tries = attemptsByDelivery.get(d.delivery_id) ?? [];
        if (d.status !== 'succeeded' || num(d.attempts) !== 1 || tries.length !== 1)
          fail(`${what}: ${d.status} after ${d.attempts} attempts (${tries.length} attempt rows)`);
        else if (!(num(tries[0]?.status_code) >= 200 && num(tries[0]?.status_code) < 300))
          fail(`${what}: attempt answered ${tries[0]?.status_code}`);
        const got = receivedById.get(d.delivery_id) ?? [];
        if (got.length !== 1) fail(`${what}: received ${got.length} times`);
        for (const r of got) {
          if (r.path !== hook.path) fail(`${what}: received at ${r.path}`);
          if (r.eventId !== d.event_id) fail(`${what}: carried event ${r.eventId}, not ${d.event_id}`);
        }
      }
    }
    for (const id of receivedById.keys())
      if (!known.has(id)) fail(`received svix-id ${id}, which is no delivery`);
  });

  if (hidden > 0) violations.push(`… and ${hidden} more`);
  return { violations, counts };
}

/**
 * Waits until no job is running or due (on its workspace's clock) in two polls in a row, or `timeoutMs` passes.
 * Resolves with how many were left (0 when drained).
 */
export async function drainJobs(databaseUrl: string, timeoutMs: number): Promise<number> {
  return withClient(databaseUrl, async (client) => {
    const deadline = Date.now() + timeoutMs;
    let quiet = 0;
    for (;;) {
      const { rows } = await client.query(
        `select count(*)::int as n from jobs j left join workspaces w on w.workspace_id = j.workspace_id
         where j.status = 'running'
            or (j.status = 'pending' and j.run_at <= $1::bigint + coalesce(w.clock_offset_ms, 0))`,
        [Date.now()],
      );
      const left = num(rows[0]?.n);
      quiet = left === 0 ? quiet + 1 : 0;
      if (quiet >= 2) return 0;
      if (Date.now() > deadline) return left;
      await new Promise((r) => setTimeout(r, 200));
    }
  });
}
