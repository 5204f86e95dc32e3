import { type Kysely, sql } from 'kysely';

// Fewer index entries per job. Every create enqueues one job, and each index of `jobs` is one more page the
// commit writes (on SQLite, to the WAL: the largest cost of a create there). Two of the seven served one
// statement each, and a narrower index serves it as well (test/store/query-plans.test.ts EXPLAINs both on
// both dialects, and checks that they plan through the index named here):
//
//   jobs_due (status, run_at)   dropped   only the /metrics queue scan (src/metrics/queue.ts) read by it. It
//                                         now reads pending jobs along 007's jobs_pending_due (status, due,
//                                         job_id), earliest `due` first, and running ones along jobs_leased
//                                         (status, locked_until) — partial indexes every job is in anyway
//                                         while it is open, and never once it is done.
//   jobs_by_device              now partial: (device_id) WHERE status = 'pending' AND run_at = 9007199254740991
//     (device_id, status)       — the jobs parked until a bridge comes back (PARKED_RUN_AT in
//                               src/store/repos/jobs.ts, Number.MAX_SAFE_INTEGER), which wakeParkedJobs
//                               wakes, is all it is read for. Every job used to have an entry (a null
//                               device_id for all but bridge jobs); now only a parked one does, until woken.
//                               Renamed jobs_parked_by_device to say so.
//
// The predicate is written out, not taken from PARKED_RUN_AT: a migration keeps meaning what it meant. A
// planner matches a partial index only to literals in the query, so wakeParkedJobs writes both as literals;
// should PARKED_RUN_AT ever change, the plan test finds wakeParkedJobs off this index.
const PARKED = sql<boolean>`status = 'pending' and run_at = 9007199254740991`;

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('jobs_due').execute();
  await db.schema.dropIndex('jobs_by_device').execute();
  await db.schema.createIndex('jobs_parked_by_device').on('jobs').column('device_id').where(PARKED).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('jobs_parked_by_device').execute();
  await db.schema.createIndex('jobs_by_device').on('jobs').columns(['device_id', 'status']).execute();
  await db.schema.createIndex('jobs_due').on('jobs').columns(['status', 'run_at']).execute();
}
