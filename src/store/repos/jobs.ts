import { randomUUID } from 'node:crypto';
import type { Selectable, Updateable } from 'kysely';
import { PostgresAdapter, sql } from 'kysely';
import type { Db, Dialect } from '../index.ts';
import { precompiled } from '../precompiled.ts';
import type { JobTable } from '../schema.ts';

export interface JobRecord {
  job_id: string;
  workspace_id: string | null;
  kind: string;
  payload: unknown;
  /** On the workspace's clock. */
  run_at: number;
  /** `run_at` on the real clock, when it was claimed. */
  due: number;
  attempts: number;
}

export interface NewJob {
  /** UUIDv7, so jobs due at the same instant run in the order they were made. */
  job_id: string;
  /** The device whose bridge the job needs, if any. */
  device_id?: string | null;
  workspace_id: string | null;
  kind: string;
  payload: unknown;
  /** On the workspace's clock. */
  run_at: number;
  created_at: number;
}

/** Which job kinds a runner claims (default: all). */
export interface KindFilter {
  only?: readonly string[];
  except?: readonly string[];
}

// A job's `lease_token` is set exactly while it is running under that claim (claimDueJobs sets both; completing,
// failing or releasing a job clears both), so the statements of a claim's holder match the token alone and are
// served by the primary key.
//
// Statuses are written as literals in the claim queries: the partial indexes of migration 007 are over
// `status = 'pending'` / `'running'`, and a planner can match a literal to them, never a bound parameter.
const PENDING = sql<boolean>`status = 'pending'`;
const RUNNING = sql<boolean>`status = 'running'`;
const OPEN = sql<boolean>`status in ('pending', 'running')`;

function isPostgres(db: Db): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * The workspace's clock offset, for a job's real-clock `due` (run_at − offset). On Postgres the workspace row
 * is read FOR KEY SHARE: advance_clock holds it FOR UPDATE while it moves the offset and its workspace's jobs
 * (shiftWorkspaceJobs), so a job is written either before the move (and moved with the others) or after it
 * (and computed with the new offset) — never with the old offset after the move. Any transaction that writes
 * an event or a code already holds that lock (their foreign keys take it), so it costs nothing there.
 */
function workspaceOffset(db: Db, workspaceId: string) {
  const query = db.selectFrom('workspaces').select('clock_offset_ms').where('workspace_id', '=', workspaceId);
  return isPostgres(db) ? query.forKeyShare() : query;
}

/** Call inside the transaction that makes the job necessary, so the job exists exactly when the change does. */
export async function enqueueJob(db: Db, job: NewJob): Promise<void> {
  const row = {
    job_id: job.job_id,
    workspace_id: job.workspace_id,
    device_id: job.device_id ?? null,
    kind: job.kind,
    payload: JSON.stringify(job.payload),
    run_at: job.run_at,
    created_at: job.created_at,
  };
  // Every create enqueues a job: precompiled (src/store/precompiled.ts), one statement per workspace-or-not.
  await (row.workspace_id === null
    ? insertSystemJob(db, row)
    : insertWorkspaceJob(db, { ...row, workspace_id: row.workspace_id }));
}
type JobRow = Omit<NewJob, 'payload' | 'device_id'> & { payload: string; device_id: string | null };
const newJobValues = { status: 'pending', locked_until: null, last_error: null } as const;
const insertSystemJob = precompiled((db, row: JobRow) =>
  db.insertInto('jobs').values({ ...row, ...newJobValues, due: row.run_at }),
);
const insertWorkspaceJob = precompiled((db, row: JobRow & { workspace_id: string }) =>
  db.insertInto('jobs').values({
    ...row,
    ...newJobValues,
    due: sql<number>`${row.run_at} - coalesce((${workspaceOffset(db, row.workspace_id)}), 0)`,
  }),
);

/**
 * The pending jobs due at `realNow`, earliest first: an ordered range of the partial index
 * `jobs_pending_due (due, job_id)`, or of `jobs_pending_kind_due (kind, due, job_id)` for one kind, that
 * stops after `limit` rows — the cost of a poll does not grow with the queue. Exported for the plan tests.
 */
export function dueJobsQuery(
  db: Db,
  dialect: Dialect,
  realNow: number,
  limit: number,
  filter: { kind?: string; except?: readonly string[] } = {},
  lock = true,
) {
  let query = db
    .selectFrom('jobs')
    .select('job_id')
    .where(PENDING)
    .where('due', '<=', realNow)
    .orderBy('due')
    .orderBy('job_id')
    .limit(limit);
  if (filter.kind !== undefined) query = query.where('kind', '=', filter.kind);
  if (filter.except && filter.except.length > 0) query = query.where('kind', 'not in', [...filter.except]);
  return dialect === 'postgres' && lock ? query.forUpdate().skipLocked() : query;
}

/**
 * Running jobs whose lease ran out (their process died or stalled): `jobs_leased (status, locked_until)`.
 * Locked FOR UPDATE SKIP LOCKED on Postgres unless `lock` is false (a read-only probe).
 */
export function expiredLeasesQuery(
  db: Db,
  dialect: Dialect,
  realNow: number,
  limit: number,
  kinds: KindFilter,
  lock = true,
) {
  let query = db
    .selectFrom('jobs')
    .select('job_id')
    .where(RUNNING)
    .where('locked_until', '<', realNow)
    .orderBy('locked_until')
    .limit(limit);
  if (kinds.only) query = query.where('kind', 'in', [...kinds.only]);
  if (kinds.except && kinds.except.length > 0) query = query.where('kind', 'not in', [...kinds.except]);
  return dialect === 'postgres' && lock ? query.forUpdate().skipLocked() : query;
}

/**
 * Claims up to `limit` jobs for this process under one lease (`leaseToken`, until realNow + leaseMs): first
 * running ones whose lease ran out (their process died), then pending ones whose `due` has come, earliest
 * first. Each claim counts as an attempt. On Postgres the candidate rows are locked with `FOR UPDATE SKIP
 * LOCKED`, so several server processes never claim the same job; SQLite has a single writer, so each
 * statement is already atomic there. With `kinds.only`, each kind is claimed by its own index range, in the
 * order given (a runner rotates it, so no kind starves another).
 */
export async function claimDueJobs(
  db: Db,
  dialect: Dialect,
  realNow: number,
  leaseMs: number,
  limit: number,
  kinds: KindFilter = {},
  leaseToken: string = randomUUID(),
): Promise<JobRecord[]> {
  const claimed: JobRecord[] = [];
  // Each claim is an UPDATE; a read comes first (without row locks), so that a poll finding nothing — the usual
  // answer between bursts, and always for leases, which run out only when a process dies — writes nothing.
  const claim = async (
    probe: ReturnType<typeof dueJobsQuery>,
    candidates: ReturnType<typeof dueJobsQuery>,
  ) => {
    if ((await probe.execute()).length === 0) return;
    const rows = await db
      .updateTable('jobs')
      .set((eb) => ({
        status: 'running',
        locked_until: realNow + leaseMs,
        lease_token: leaseToken,
        attempts: eb('attempts', '+', 1),
      }))
      .where('job_id', 'in', candidates)
      .returningAll()
      .execute();
    for (const row of rows) claimed.push(toRecord(row));
  };
  await claim(
    expiredLeasesQuery(db, dialect, realNow, 1, kinds, false),
    expiredLeasesQuery(db, dialect, realNow, limit, kinds),
  );
  const pending = (filter: { kind?: string; except?: readonly string[] }) =>
    claim(
      dueJobsQuery(db, dialect, realNow, 1, filter, false),
      dueJobsQuery(db, dialect, realNow, limit - claimed.length, filter),
    );
  if (kinds.only) {
    for (const kind of kinds.only) {
      if (claimed.length >= limit) break;
      await pending({ kind });
    }
  } else if (claimed.length < limit) {
    await pending({ except: kinds.except ?? [] });
  }
  return claimed.sort((a, b) => a.due - b.due || (a.job_id < b.job_id ? -1 : 1));
}

function toRecord(r: Selectable<JobTable>): JobRecord {
  return {
    job_id: r.job_id,
    workspace_id: r.workspace_id,
    kind: r.kind,
    payload: JSON.parse(r.payload),
    run_at: r.run_at,
    due: r.due,
    attempts: r.attempts,
  };
}

/**
 * Extends the lease of the jobs a claim (`leaseToken`) still holds to `until`; returns their ids. A job
 * missing from the answer is no longer this claim's: another process claimed it after the lease ran out, or
 * it is no longer running.
 */
export async function renewJobLeases(
  db: Db,
  jobIds: readonly string[],
  leaseToken: string,
  until: number,
): Promise<string[]> {
  return updateHeldJobs(db, jobIds, leaseToken, { locked_until: until });
}

/** Puts jobs a claim holds but never started back in the queue, as if never claimed (a runner stopping). */
export async function releaseJobs(db: Db, jobIds: readonly string[], leaseToken: string): Promise<number> {
  if (jobIds.length === 0) return 0;
  const result = await db
    .updateTable('jobs')
    .set((eb) => ({
      status: 'pending',
      locked_until: null,
      lease_token: null,
      attempts: eb('attempts', '-', 1),
    }))
    .where('job_id', 'in', [...jobIds])
    .where('lease_token', '=', leaseToken)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/**
 * Marks jobs a claim (`leaseToken`) still holds done, in one statement; returns the ids it marked. A job
 * missing from the answer was taken over by another process since (it will run it again).
 */
export async function completeJobs(db: Db, jobIds: readonly string[], leaseToken: string): Promise<string[]> {
  return updateHeldJobs(db, jobIds, leaseToken, { status: 'done', locked_until: null, lease_token: null });
}

/** Applies `changes` to those of the jobs that the claim `leaseToken` still holds; returns their ids. */
async function updateHeldJobs(
  db: Db,
  jobIds: readonly string[],
  leaseToken: string,
  changes: Updateable<JobTable>,
): Promise<string[]> {
  if (jobIds.length === 0) return [];
  const rows = await db
    .updateTable('jobs')
    .set(changes)
    .where('job_id', 'in', [...jobIds])
    .where('lease_token', '=', leaseToken)
    .returning('job_id')
    .execute();
  return rows.map((r) => r.job_id);
}

/**
 * Puts a failed job back in the queue at `retryAt` (workspace clock; `due` is that instant on the real clock,
 * read from the workspace when not given), or marks it failed for good (`retryAt` null). With `leaseToken`,
 * only while that claim still holds it (see completeJobs).
 */
export async function failJob(
  db: Db,
  jobId: string,
  error: string,
  retryAt: number | null,
  options: { due?: number; leaseToken?: string } = {},
): Promise<boolean> {
  const due =
    retryAt === null
      ? null
      : (options.due ??
        sql<number>`${retryAt} - coalesce((select w.clock_offset_ms from workspaces w where w.workspace_id = jobs.workspace_id), 0)`);
  let query = db
    .updateTable('jobs')
    .set(
      due === null
        ? { status: 'failed', locked_until: null, lease_token: null, last_error: error }
        : {
            status: 'pending',
            locked_until: null,
            lease_token: null,
            last_error: error,
            run_at: retryAt as number,
            due,
          },
    )
    .where('job_id', '=', jobId);
  if (options.leaseToken !== undefined) {
    query = query.where('lease_token', '=', options.leaseToken);
  }
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * A sandbox workspace's clock moved forward by `byMs`: its open jobs come due that much sooner on the real
 * clock. Call in the transaction that moves the offset. On Postgres the workspace row is locked FOR UPDATE
 * first, which waits for every transaction that computed a job's `due` from the old offset (enqueueJob reads
 * it FOR KEY SHARE) and holds back new ones until the move commits. Returns how many jobs moved.
 */
export async function shiftWorkspaceJobs(
  db: Db,
  dialect: Dialect,
  workspaceId: string,
  byMs: number,
): Promise<number> {
  if (dialect === 'postgres') {
    await db
      .selectFrom('workspaces')
      .select('workspace_id')
      .where('workspace_id', '=', workspaceId)
      .forUpdate()
      .execute();
  }
  const result = await shiftJobsQuery(db, workspaceId, byMs).executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The statement of shiftWorkspaceJobs: `jobs_open_by_workspace (workspace_id)`. Exported for the plan tests. */
export function shiftJobsQuery(db: Db, workspaceId: string, byMs: number) {
  return db
    .updateTable('jobs')
    .set((eb) => ({ due: eb('due', '-', byMs) }))
    .where('workspace_id', '=', workspaceId)
    .where(OPEN);
}

export async function workspaceClockOffset(db: Db, workspaceId: string | null): Promise<number> {
  if (workspaceId === null) return 0;
  const row = await db
    .selectFrom('workspaces')
    .select('clock_offset_ms')
    .where('workspace_id', '=', workspaceId)
    .executeTakeFirst();
  return row?.clock_offset_ms ?? 0;
}

export async function getJob(db: Db, jobId: string) {
  return db.selectFrom('jobs').selectAll().where('job_id', '=', jobId).executeTakeFirst();
}

/** Parked jobs wait for something outside the clock (a bridge back on-line): their run_at is this. */
export const PARKED_RUN_AT = Number.MAX_SAFE_INTEGER;

/**
 * A job parked until a bridge comes back: the predicate of migration 011's partial index
 * `jobs_parked_by_device (device_id)`, as literals (a planner matches a partial index to literals, never to
 * bound parameters). Only parked jobs have an entry there, so an ordinary job costs that index nothing.
 */
const PARKED = sql<boolean>`status = 'pending' and run_at = ${sql.lit(PARKED_RUN_AT)}`;

/**
 * Makes a device's parked jobs due now (`now` on the workspace clock); they then run in the order they were
 * made. Their `due` is `now` less the workspace's current offset, which is at most real time now (the offset
 * only grows), so they are due at once whatever the clock did meanwhile. Reads `jobs_parked_by_device`.
 */
export async function wakeParkedJobs(db: Db, deviceId: string, now: number): Promise<number> {
  const result = await db
    .updateTable('jobs')
    .set({
      run_at: now,
      due: sql<number>`${now} - coalesce((select w.clock_offset_ms from workspaces w where w.workspace_id = jobs.workspace_id), 0)`,
    })
    .where('device_id', '=', deviceId)
    .where(PARKED)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
