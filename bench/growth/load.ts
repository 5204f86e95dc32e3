// A fast loader for bench:growth (and the plan test's background data): locks, and access codes with the
// history a running Latchkey would have written for them — not through the API, but row for row what the app
// writes. Locks are made by the app itself (createVirtualLock: device, sealed lock key, sealed virtual lock).
// Codes are built with the domain's own functions (planOfflineTimeFrame, slotOf, lowestFreeVariance, the
// algoPIN engine with each lock's key, stepAt / nextStep, the Seam event and access-code shapes) and replayed
// through their lifecycle up to `now`: for each code its row in its final state, its CREATE_ACCESS_CODE action
// attempt, its events (created, set_on_device, removed_from_device, deleted) and its lifecycle jobs — done for
// the steps that passed, pending for the next one. A few codes are deleted over Bluetooth (a DELETE attempt,
// the removal events). Written with one prepared INSERT per table in large transactions on SQLite, and
// `INSERT … SELECT * FROM unnest(…)` of 5 000 rows per statement on Postgres.
//
// Each lock gets a timeline of bookings ending at most 45 days ahead: mostly hourly-bound stays (1–7 nights,
// some 2–6 h visits), some one-time-use codes, a few daily-bound long stays and permanent codes. Bookings are
// created 2 h–30 days before they start (never after `now`). Loading the newest k of a lock's bookings, then
// its older ones, grows history (removed codes) while what is live stays the same. Deterministic per seed.
//
// Not replayed (they would only add rows): keypad entries (unlock events and attempts), webhook deliveries
// (the bench workspace has no webhook), the virtual locks' memory of Bluetooth deletions, online codes.
import type SqliteDatabase from 'better-sqlite3';
import type pg from 'pg';
import { derivePin, derivePinKey, type PinParams } from '../../src/algopin/index.ts';
import { LIFECYCLE_JOB, type LifecyclePayload } from '../../src/app/access-codes/lifecycle.ts';
import { createVirtualLock } from '../../src/app/devices.ts';
import type { Services } from '../../src/app/services.ts';
import { openLockKey } from '../../src/codeserver/builtin.ts';
import { type LifecycleStep, nextStep, stepAt } from '../../src/domain/access-codes/lifecycle.ts';
import {
  type OfflineTimeFrame,
  planOfflineTimeFrame,
} from '../../src/domain/access-codes/offline-time-frame.ts';
import { lowestFreeVariance, slotOf } from '../../src/domain/access-codes/slots.ts';
import type { AccessCodeRecord, DeviceRecord } from '../../src/domain/records.ts';
import { toSeamAccessCode } from '../../src/domain/seam/access-code.ts';
import { type AccessCodeEventType, accessCodeEvent } from '../../src/domain/seam/events.ts';
import { DAY_MS, HOUR_MS } from '../../src/domain/time.ts';
import { accessCodeRow } from '../../src/store/repos/access-codes.ts';
import { eventRow } from '../../src/store/repos/events.ts';
import { prng } from '../../test/helpers/prng.ts';

export type Row = Record<string, unknown>;

/** Where rows go: a raw connection of either dialect (not Kysely: one statement per table and batch). */
export interface RowSink {
  insert(table: string, rows: Row[]): Promise<void>;
  /** Runs `work` in one transaction. */
  transaction(work: () => Promise<void>): Promise<void>;
}

// ------------------------------------------------------------------------------------------------ sinks
/** SQLite: one prepared INSERT per (table, columns), run row by row inside the caller's transaction. */
export function sqliteSink(db: SqliteDatabase.Database): RowSink {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    async insert(table, rows) {
      const first = rows[0];
      if (!first) return;
      const columns = Object.keys(first);
      const key = `${table}(${columns.join(',')})`;
      let statement = statements.get(key);
      if (!statement) {
        statement = db.prepare(
          `insert into ${table} (${columns.join(', ')}) values (${columns.map(() => '?').join(', ')})`,
        );
        statements.set(key, statement);
      }
      for (const row of rows) statement.run(columns.map((c) => row[c]));
    },
    async transaction(work) {
      db.exec('begin');
      try {
        await work();
        db.exec('commit');
      } catch (error) {
        db.exec('rollback');
        throw error;
      }
    },
  };
}

/** Postgres: `insert … select * from unnest($1::text[], $2::int8[], …)`, 5 000 rows per statement. */
export async function postgresSink(client: pg.Client): Promise<RowSink> {
  const { rows: columns } = await client.query<{
    table_name: string;
    column_name: string;
    data_type: string;
  }>(
    `select table_name, column_name, data_type from information_schema.columns where table_schema = current_schema()`,
  );
  const types = new Map(columns.map((c) => [`${c.table_name}.${c.column_name}`, c.data_type]));
  const arrayType = (table: string, column: string) => {
    const type = types.get(`${table}.${column}`);
    if (type === undefined) throw new Error(`no column ${table}.${column}`);
    return type === 'bigint' ? 'int8[]' : type === 'integer' ? 'int4[]' : 'text[]';
  };
  return {
    async insert(table, rows) {
      const first = rows[0];
      if (!first) return;
      const names = Object.keys(first);
      for (let i = 0; i < rows.length; i += 5000) {
        const batch = rows.slice(i, i + 5000);
        await client.query(
          `insert into ${table} (${names.join(', ')}) select * from unnest(${names
            .map((c, j) => `$${j + 1}::${arrayType(table, c)}`)
            .join(', ')})`,
          names.map((c) => batch.map((r) => r[c])),
        );
      }
    },
    async transaction(work) {
      await client.query('begin');
      try {
        await work();
        await client.query('commit');
      } catch (error) {
        await client.query('rollback');
        throw error;
      }
    },
  };
}

// ------------------------------------------------------------------------------------------------ ids

let idCounter = 0;
/**
 * A UUIDv7 for an instant in the past, as src/app/ids.ts makes for the present (48-bit ms, 12-bit counter,
 * random bits): history loaded here sorts by time like the ids a running server would have made.
 */
export function uuidv7At(ms: number, random: () => number = Math.random): string {
  idCounter = (idCounter + 1) & 0xfff;
  const hex = (n: number, digits: number) => Math.floor(n).toString(16).padStart(digits, '0').slice(-digits);
  const r = () => hex(random() * 0x10000, 4);
  const time = hex(ms, 12);
  const variant = hex(0x8000 | Math.floor(random() * 0x4000), 4);
  return `${time.slice(0, 8)}-${time.slice(8)}-7${hex(idCounter, 3)}-${variant}-${r()}${r()}${r()}`;
}

// ------------------------------------------------------------------------------------------------ locks
export interface Lock {
  device: DeviceRecord;
  /** derivePinKey(lock key, epoch): the code server's PIN key for this lock. */
  pinKey: Buffer;
}

const TIME_ZONES = [null, null, 'America/New_York', 'Europe/Berlin', 'Asia/Singapore', 'Australia/Sydney'];

/**
 * `count` virtual locks made by the app (createVirtualLock), in transactions of 500 through `services`'s
 * store; one in five with a bridge, most in a time zone. Returns each with its PIN key.
 */
export async function createLocks(
  services: Pick<Services, 'store' | 'providers' | 'masterKey'>,
  workspace: { workspace_id: string; connected_account_id: string },
  count: number,
  now: number,
  name: (i: number) => string = (i) => `growth lock ${i}`,
): Promise<Lock[]> {
  const locks: Lock[] = [];
  const db = services.store.db;
  for (let from = 0; from < count; from += 500) {
    const made = await db.transaction().execute(async (tx) => {
      const out: DeviceRecord[] = [];
      for (let i = from; i < Math.min(count, from + 500); i++) {
        out.push(
          await createVirtualLock(services, tx, {
            workspace_id: workspace.workspace_id,
            connected_account_id: workspace.connected_account_id,
            name: name(i),
            has_bridge: i % 5 === 4,
            time_zone: TIME_ZONES[i % TIME_ZONES.length] ?? null,
            now,
          }),
        );
      }
      return out;
    });
    for (const device of made) locks.push(await lockOf(services, device));
  }
  return locks;
}

/** A lock made earlier, with its PIN key read back from the code server's registry. */
export async function lockOf(
  services: Pick<Services, 'store' | 'masterKey'>,
  device: DeviceRecord,
): Promise<Lock> {
  const key = await openLockKey(services.store.db, services.masterKey, device);
  if (key === null) throw new Error(`lock ${device.device_id} has no key`);
  return { device, pinKey: derivePinKey(key, device.key_epoch) };
}

// ------------------------------------------------------------------------------------------------ codes
export interface Booking {
  starts_at?: number;
  ends_at?: number;
  is_one_time_use: boolean;
  /** When the client created it (workspace clock). */
  created_at: number;
  /** Deleted over Bluetooth at this instant, if before the code's end. */
  deleted_at?: number;
  name: string;
}

/**
 * The newest `count` bookings of a lock, newest first, from its own seed: the same lock and seed always give
 * the same sequence, so a later stage can skip the ones an earlier stage loaded.
 */
export function bookingsOf(seed: number, count: number, now: number): Booking[] {
  const random = prng(seed);
  const hours = (n: number) => Math.round(n) * HOUR_MS;
  const out: Booking[] = [];
  // The last booking ends 0–45 days ahead, on the hour (check-out at 11:00 local time, give or take).
  let cursor = Math.floor(now / HOUR_MS) * HOUR_MS + hours(random() * 45 * 24);
  for (let i = 0; i < count; i++) {
    const kind = random();
    const gap = hours(random() * 48);
    const end = cursor - gap;
    let booking: Booking;
    const lead = hours(2 + random() * 30 * 24);
    const createdAt = (start: number) => Math.min(start - lead, now - Math.floor(random() * HOUR_MS));
    if (kind < 0.01) {
      // A permanent code (a cleaner's, an owner's): created at some point, deleted over Bluetooth later.
      const created = end - hours(random() * 60 * 24);
      booking = {
        is_one_time_use: false,
        created_at: Math.min(created, now - HOUR_MS),
        name: `permanent ${i}`,
      };
      if (random() < 0.9) booking.deleted_at = Math.min(end, now - 1);
      cursor = created;
    } else if (kind < 0.03) {
      const days = 29 + Math.floor(random() * 60);
      const start = end - days * DAY_MS;
      booking = {
        starts_at: start,
        ends_at: end,
        is_one_time_use: false,
        created_at: createdAt(start),
        name: `long stay ${i}`,
      };
      cursor = start;
    } else if (kind < 0.09) {
      const start = end - 24 * HOUR_MS;
      booking = {
        starts_at: start,
        is_one_time_use: true,
        created_at: createdAt(start),
        name: `one-time ${i}`,
      };
      cursor = start;
    } else {
      const length = kind < 0.19 ? hours(2 + random() * 4) : hours(24 * (1 + Math.floor(random() * 7)));
      const start = end - length;
      booking = {
        starts_at: start,
        ends_at: end,
        is_one_time_use: false,
        created_at: createdAt(start),
        name: `stay ${i}`,
      };
      cursor = start;
      // Now and then a guest's code is deleted over Bluetooth before its end.
      if (random() < 0.02) booking.deleted_at = start + Math.floor(random() * length);
    }
    out.push(booking);
  }
  return out;
}

/** Rows for the tables a code's life writes to. */
export interface CodeRows {
  access_codes: Row[];
  action_attempts: Row[];
  events: Row[];
  jobs: Row[];
}

export const emptyRows = (): CodeRows => ({ access_codes: [], action_attempts: [], events: [], jobs: [] });

const ALGOPIN_WARNING = {
  warning_code: 'igloo_algopin_must_be_used_within_24_hours',
  message: 'Algopins must be used within 24 hours.',
};

export interface CodeWriter {
  /** Taken variances per lock and slot, across every booking written (the unique index would refuse a clash). */
  taken: Map<string, Map<string, number[]>>;
  /** Whether `jobs` has migration 007's real-clock `due` column (written as the app writes it). */
  jobsHaveDue: boolean;
  /** The workspace clock's offset from real time (0 outside the sandbox's time travel). */
  clockOffsetMs: number;
}

/**
 * A booking's code, as createOfflineAccessCode makes it at `booking.created_at`, replayed through its
 * lifecycle (the jobs run at their instants, a Bluetooth delete at its own) up to `now`; its rows are added
 * to `out`. Returns the code in its state at `now`, or null when its slot was full (the client got a 409).
 */
export function writeCode(
  writer: CodeWriter,
  lock: Lock,
  booking: Booking,
  now: number,
  out: CodeRows,
  random: () => number,
): AccessCodeRecord | null {
  const { device } = lock;
  const c = booking.created_at;
  const frame = planOfflineTimeFrame({
    starts_at: booking.starts_at,
    ends_at: booking.ends_at,
    is_one_time_use: booking.is_one_time_use,
    now: c,
  });
  const slot = slotOf(frame, device.time_zone);
  const slots = writer.taken.get(device.device_id) ?? new Map<string, number[]>();
  writer.taken.set(device.device_id, slots);
  const taken = slots.get(slot.slot_key) ?? [];
  const variance = lowestFreeVariance(slot.capacity, taken);
  if (variance === null) return null;
  slots.set(slot.slot_key, [...taken, variance]);
  const step0 = stepAt(frame, c) as 'unset' | 'setting' | 'set';
  const code: AccessCodeRecord = {
    access_code_id: uuidv7At(c, random),
    workspace_id: device.workspace_id,
    device_id: device.device_id,
    name: booking.name,
    code: derivePin(lock.pinKey, pinParams(frame, variance)),
    common_code_key: null,
    type: frame.type,
    kind: frame.kind,
    is_offline: true,
    is_one_time_use: frame.kind === 'one_time',
    starts_at: frame.starts_at,
    ends_at: frame.ends_at,
    status: step0,
    slot_key: slot.slot_key,
    variance,
    warnings: frame.longer_than_24_hours ? [{ ...ALGOPIN_WARNING, created_at: c }] : [],
    errors: [],
    created_at: c,
    removed_at: null,
    programmed_code: null,
    delete_requested: false,
  };
  out.action_attempts.push(
    attemptRow(code, 'CREATE_ACCESS_CODE', { access_code: toSeamAccessCode(code) }, c, random),
  );
  const event = (type: AccessCodeEventType, at: number, occurred: number) =>
    out.events.push(
      eventRow(
        accessCodeEvent(
          { event_id: uuidv7At(at, random), occurred_at: occurred, created_at: at },
          type,
          device,
          code,
        ),
      ),
    );
  event('access_code.created', c, c);
  if (step0 === 'set') event('access_code.set_on_device', c, c);

  // The chain of lifecycle jobs: each step's job is written when the previous step ran.
  let step: LifecycleStep = step0;
  let at = c;
  const deleted = booking.deleted_at !== undefined && booking.deleted_at < now ? booking.deleted_at : null;
  for (;;) {
    const next = nextStep(code, step);
    if (deleted !== null && (next === null || deleted < next.at) && code.removed_at === null) {
      // Deleted over Bluetooth: removed at once, with its events and a DELETE attempt; the pending job (if
      // any) later finds the code removed and does nothing.
      code.removed_at = deleted;
      event('access_code.removed_from_device', deleted, deleted);
      event('access_code.deleted', deleted, deleted);
      out.action_attempts.push(attemptRow(code, 'DELETE_ACCESS_CODE', {}, deleted, random));
    }
    if (next === null) break;
    const ran = next.at <= now;
    const payload: LifecyclePayload = { access_code_id: code.access_code_id, step: next.step };
    out.jobs.push(jobRow(writer, code, payload, next.at, at, ran, random));
    if (!ran || code.removed_at !== null) break;
    // The runner polls every 250 ms: the step is recorded a moment after its instant.
    const executed = next.at + Math.floor(random() * 250);
    if (next.step === 'removed') {
      code.removed_at = next.at;
      event('access_code.removed_from_device', executed, next.at);
      event('access_code.deleted', executed, next.at);
    } else {
      code.status = next.step;
      if (next.step === 'set') event('access_code.set_on_device', executed, next.at);
    }
    step = next.step;
    at = executed;
  }
  out.access_codes.push(accessCodeRow(code));
  return code;
}

function pinParams(frame: OfflineTimeFrame, variance: number): PinParams {
  return {
    kind: frame.kind,
    startHour: frame.startHour,
    variance,
    ...(frame.kind === 'hourly' ? { durationHours: frame.durationHours } : {}),
    ...(frame.kind === 'daily' ? { durationDays: frame.durationDays } : {}),
  };
}

// The row shapes of src/store/repos (insertActionAttempt, enqueueJob); codes and events use the repos' own.
function attemptRow(
  code: AccessCodeRecord,
  action_type: string,
  result: Record<string, unknown>,
  at: number,
  random: () => number,
): Row {
  return {
    action_attempt_id: uuidv7At(at, random),
    workspace_id: code.workspace_id,
    device_id: code.device_id,
    action_type,
    status: 'success',
    result: JSON.stringify(result),
    error: null,
    created_at: at,
    updated_at: at,
  };
}

function jobRow(
  writer: CodeWriter,
  code: AccessCodeRecord,
  payload: LifecyclePayload,
  runAt: number,
  createdAt: number,
  done: boolean,
  random: () => number,
): Row {
  return {
    job_id: uuidv7At(createdAt, random),
    workspace_id: code.workspace_id,
    kind: LIFECYCLE_JOB,
    payload: JSON.stringify(payload),
    run_at: runAt,
    created_at: createdAt,
    device_id: null,
    status: done ? 'done' : 'pending',
    // A job that ran was claimed once (attempts + 1) and completed (lease cleared).
    attempts: done ? 1 : 0,
    locked_until: null,
    last_error: null,
    ...(writer.jobsHaveDue ? { due: runAt - writer.clockOffsetMs } : {}),
  };
}

/** Writes `rows` table by table (parents first: codes before the events and jobs that name them). */
export async function flush(sink: RowSink, rows: CodeRows): Promise<number> {
  // In primary-key order (UUIDv7: time order), so each B-tree is appended to in runs rather than at random.
  const sorted = (list: Row[], key: string) =>
    list.sort((a, b) => ((a[key] as string) < (b[key] as string) ? -1 : 1));
  await sink.insert('access_codes', sorted(rows.access_codes, 'access_code_id'));
  await sink.insert('action_attempts', sorted(rows.action_attempts, 'action_attempt_id'));
  await sink.insert('events', sorted(rows.events, 'event_id'));
  await sink.insert('jobs', sorted(rows.jobs, 'job_id'));
  return rows.access_codes.length + rows.action_attempts.length + rows.events.length + rows.jobs.length;
}

/**
 * Loads bookings `skip .. skip + count` (newest first) of each lock: `counts[i]` for lock i. Transactions of
 * 200 locks. Returns the codes live at `now` among those written, and how many rows were written.
 */
export async function loadHistory(
  sink: RowSink,
  writer: CodeWriter,
  locks: Lock[],
  range: (i: number) => { skip: number; count: number },
  now: number,
  seed: number,
): Promise<{ live: AccessCodeRecord[]; codes: number; rows: number }> {
  const live: AccessCodeRecord[] = [];
  let codes = 0;
  let written = 0;
  for (let from = 0; from < locks.length; from += 200) {
    const rows = emptyRows();
    for (let i = from; i < Math.min(locks.length, from + 200); i++) {
      const lock = locks[i] as Lock;
      const { skip, count } = range(i);
      if (count <= 0) continue;
      const random = prng(seed * 7919 + i * 104729 + skip);
      // Oldest first, as they were created (slot variances are handed out in creation order).
      const bookings = bookingsOf(seed + i, skip + count, now)
        .slice(skip)
        .reverse();
      for (const booking of bookings) {
        const code = writeCode(writer, lock, booking, now, rows, random);
        if (code) {
          codes += 1;
          if (code.removed_at === null) live.push(code);
        }
      }
    }
    await sink.transaction(async () => {
      written += await flush(sink, rows);
    });
  }
  return { live, codes, rows: written };
}
