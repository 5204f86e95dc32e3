import { type Kysely, PostgresAdapter, sql } from 'kysely';

// Fewer index writes per create, and a lock's live codes in order on Postgres. Every create inserts into
// access_codes, action_attempts, events (one or two) and jobs, and every index of those tables is one more page
// the commit dirties. test/store/query-plans.test.ts EXPLAINs every statement of a request mix on both dialects;
// the indexes dropped here serve none of them on that dialect, nor any other statement in src/ — so from here
// on the two dialects keep different index sets (the queries stay the same):
//
//   access_codes_live_by_workspace  dropped    /access_codes/list requires device_id or access_code_ids; the
//                                              first reads access_codes_live_by_device, the second the primary
//                                              key (listAccessCodes keeps the workspace out of both indexes'
//                                              reach). No other statement lists a workspace's codes.
//   access_codes_live_by_device     Postgres: now partial, (device_id, created_at, access_code_id) WHERE
//                                   removed_at IS NULL. Postgres does not take `removed_at IS NULL` in an index
//                                   key as a constant, so with 009's (device_id, removed_at, created_at, …) it
//                                   sorted a lock's live codes for /access_codes/list?device_id=. SQLite keeps
//                                   009's, which already gives it the order.
//   access_codes_live_by_pin        Postgres, new, partial (device_id, code, created_at) WHERE removed_at IS NULL:
//                                   "is this PIN live on this lock?" (every create) without a sort. 009's
//                                   access_codes_by_pin stays on both: the keypad looks up removed codes too.
//   events_by_device                SQLite, dropped   without statistics SQLite reads every /events/list
//   events_by_access_code           SQLite, dropped   filter along events_by_workspace's window (EXPLAINed
//                                                     for since/between × every combination of filters);
//                                                     Postgres, with statistics, uses them.
//
// Partial indexes also cost less on Postgres beyond the insert: removing a code (a new row version) adds no
// entry to them, and they stay the size of the live codes, not of the history.
//
// Kept although they look redundant: jobs_due (status, run_at) orders the /metrics queue scan
// (src/metrics/queue.ts); jobs_by_device wakes a bridge's parked jobs (src/store/repos/jobs.ts).
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('access_codes_live_by_workspace').execute();
  if (isPostgres(db)) {
    await db.schema.dropIndex('access_codes_live_by_device').execute();
    await db.schema
      .createIndex('access_codes_live_by_device')
      .on('access_codes')
      .columns(['device_id', 'created_at', 'access_code_id'])
      .where(sql<boolean>`removed_at is null`)
      .execute();
    await db.schema
      .createIndex('access_codes_live_by_pin')
      .on('access_codes')
      .columns(['device_id', 'code', 'created_at'])
      .where(sql<boolean>`removed_at is null`)
      .execute();
  } else {
    await db.schema.dropIndex('events_by_device').execute();
    await db.schema.dropIndex('events_by_access_code').execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  if (isPostgres(db)) {
    await db.schema.dropIndex('access_codes_live_by_pin').execute();
    await db.schema.dropIndex('access_codes_live_by_device').execute();
    await db.schema
      .createIndex('access_codes_live_by_device')
      .on('access_codes')
      .columns(['device_id', 'removed_at', 'created_at', 'access_code_id'])
      .execute();
  } else {
    await db.schema
      .createIndex('events_by_device')
      .on('events')
      .columns(['device_id', 'created_at', 'event_id'])
      .execute();
    await db.schema.createIndex('events_by_access_code').on('events').columns(['access_code_id']).execute();
  }
  await db.schema
    .createIndex('access_codes_live_by_workspace')
    .on('access_codes')
    .columns(['workspace_id', 'removed_at', 'created_at', 'access_code_id'])
    .execute();
}

function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}
