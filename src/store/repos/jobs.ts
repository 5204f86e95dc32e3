import type { Selectable } from 'kysely';
import { sql } from 'kysely';
import type { Db, Dialect } from '../index.ts';
import type { JobTable } from '../schema.ts';

export interface JobRecord {
  job_id: string;
  workspace_id: string | null;
  kind: string;
  payload: unknown;
  run_at: number;
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

/** Call inside the transaction that makes the job necessary, so the job exists exactly when the change does. */
export async function enqueueJob(db: Db, job: NewJob): Promise<void> {
  await db
    .insertInto('jobs')
    .values({
      ...job,
      device_id: job.device_id ?? null,
      payload: JSON.stringify(job.payload),
      status: 'pending',
      locked_until: null,
      last_error: null,
    })
    .execute();
}

/**
 * Claims up to `limit` due jobs for this process: pending ones whose `run_at` has come on their workspace's
 * clock, and running ones whose lease ran out (their process died). On Postgres the candidate rows are
 * locked with `FOR UPDATE SKIP LOCKED`, so several server processes never claim the same job; SQLite has a
 * single writer, so the one statement is already atomic there.
 */
export async function claimDueJobs(
  db: Db,
  dialect: Dialect,
  realNow: number,
  leaseMs: number,
  limit: number,
  kinds: { only?: readonly string[]; except?: readonly string[] } = {},
): Promise<JobRecord[]> {
  let candidates = db
    .selectFrom('jobs as j')
    .leftJoin('workspaces as w', 'w.workspace_id', 'j.workspace_id')
    .select('j.job_id')
    .where((eb) =>
      eb.or([
        eb('j.status', '=', 'pending'),
        eb.and([eb('j.status', '=', 'running'), eb('j.locked_until', '<', realNow)]),
      ]),
    )
    .where(sql<boolean>`j.run_at <= ${realNow} + coalesce(w.clock_offset_ms, 0)`)
    .orderBy('j.run_at')
    .orderBy('j.job_id')
    .limit(limit);
  if (kinds.only) candidates = candidates.where('j.kind', 'in', [...kinds.only]);
  if (kinds.except) candidates = candidates.where('j.kind', 'not in', [...kinds.except]);
  if (dialect === 'postgres') candidates = candidates.forUpdate('j').skipLocked();
  const rows = await db
    .updateTable('jobs')
    .set((eb) => ({
      status: 'running',
      locked_until: realNow + leaseMs,
      attempts: eb('attempts', '+', 1),
    }))
    .where('job_id', 'in', candidates)
    .returningAll()
    .execute();
  return rows.map(toRecord).sort((a, b) => a.run_at - b.run_at || (a.job_id < b.job_id ? -1 : 1));
}

function toRecord(r: Selectable<JobTable>): JobRecord {
  return {
    job_id: r.job_id,
    workspace_id: r.workspace_id,
    kind: r.kind,
    payload: JSON.parse(r.payload),
    run_at: r.run_at,
    attempts: r.attempts,
  };
}

/**
 * Moves the lease of a job this process claimed (lease ending `heldUntil`) to `until`. False when the job
 * is no longer ours: our lease ran out and another process claimed it (or it is no longer running).
 */
export async function renewJobLease(
  db: Db,
  jobId: string,
  heldUntil: number,
  until: number,
): Promise<boolean> {
  const result = await db
    .updateTable('jobs')
    .set({ locked_until: until })
    .where('job_id', '=', jobId)
    .where('status', '=', 'running')
    .where('locked_until', '=', heldUntil)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function completeJob(db: Db, jobId: string): Promise<void> {
  await db
    .updateTable('jobs')
    .set({ status: 'done', locked_until: null })
    .where('job_id', '=', jobId)
    .execute();
}

/** Puts a failed job back in the queue at `retryAt` (workspace clock), or marks it failed for good. */
export async function failJob(db: Db, jobId: string, error: string, retryAt: number | null): Promise<void> {
  await db
    .updateTable('jobs')
    .set(
      retryAt === null
        ? { status: 'failed', locked_until: null, last_error: error }
        : { status: 'pending', locked_until: null, last_error: error, run_at: retryAt },
    )
    .where('job_id', '=', jobId)
    .execute();
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

/** Makes a device's parked jobs due now; they then run in the order they were made. */
export async function wakeParkedJobs(db: Db, deviceId: string, now: number): Promise<number> {
  const result = await db
    .updateTable('jobs')
    .set({ run_at: now })
    .where('device_id', '=', deviceId)
    .where('status', '=', 'pending')
    .where('run_at', '=', PARKED_RUN_AT)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}
