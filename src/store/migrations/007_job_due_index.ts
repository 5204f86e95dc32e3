import { type Kysely, sql } from 'kysely';

// Claiming due jobs by an index. A job's `run_at` is on its workspace's clock (real time + clock_offset_ms),
// so "due" used to be `run_at <= now + offset`, a join no index serves: every poll read every pending job.
// `due` is the same instant on the real clock (run_at − the workspace's offset), written at enqueue and moved
// with the clock when a sandbox workspace's offset moves (shiftWorkspaceJobs, in advance_clock's transaction);
// a runner claims `status = 'pending' AND due <= now` in index order and stops at its batch size.
//
// The indexes are partial, over the rows a runner can still claim, so the done and failed jobs (the bulk of
// the table, kept as history) cost them nothing:
//   jobs_pending_due       (status, due, job_id)  pending   a runner claiming every kind but a few
//   jobs_pending_kind_due  (kind, due, job_id)    pending   a runner of a few kinds (webhooks): it must not
//                                                           walk a backlog of other kinds' due jobs
//   jobs_leased            (status, locked_until) running   leases that ran out (their process died)
//   jobs_open_by_workspace (workspace_id)         pending, running   the jobs advance_clock moves
// (`status` leads two of them although it is constant there: SQLite's planner would otherwise prefer the
// equality on `status` of the older `jobs_due (status, run_at)` and sort every due job. `jobs_due` stays: the
// queue metrics read pending jobs in `run_at` order.)
// `lease_token` names the claim that holds a running job: only its holder may renew, complete or fail it.
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('jobs').addColumn('due', 'bigint').execute();
  await db.schema.alterTable('jobs').addColumn('lease_token', 'text').execute();
  await sql`
    update jobs set due = run_at - coalesce(
      (select w.clock_offset_ms from workspaces w where w.workspace_id = jobs.workspace_id), 0)
  `.execute(db);
  await db.schema
    .createIndex('jobs_pending_due')
    .on('jobs')
    .columns(['status', 'due', 'job_id'])
    .where(sql.ref('status'), '=', sql.lit('pending'))
    .execute();
  await db.schema
    .createIndex('jobs_pending_kind_due')
    .on('jobs')
    .columns(['kind', 'due', 'job_id'])
    .where(sql.ref('status'), '=', sql.lit('pending'))
    .execute();
  await db.schema
    .createIndex('jobs_leased')
    .on('jobs')
    .columns(['status', 'locked_until'])
    .where(sql.ref('status'), '=', sql.lit('running'))
    .execute();
  await db.schema
    .createIndex('jobs_open_by_workspace')
    .on('jobs')
    .column('workspace_id')
    .where(sql<boolean>`status in ('pending', 'running')`)
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const index of [
    'jobs_open_by_workspace',
    'jobs_leased',
    'jobs_pending_kind_due',
    'jobs_pending_due',
  ]) {
    await db.schema.dropIndex(index).execute();
  }
  await db.schema.alterTable('jobs').dropColumn('lease_token').execute();
  await db.schema.alterTable('jobs').dropColumn('due').execute();
}
