import type { ActionAttemptRecord } from '../../domain/records.ts';
import type { Db } from '../index.ts';
import { decodeCursorOrThrow, type ListOptions } from '../list-options.ts';
import { afterCursor, type Page, toPage } from '../pagination.ts';
import { precompiled } from '../precompiled.ts';
import type { ActionAttemptTable } from '../schema.ts';

function toRecord(r: ActionAttemptTable): ActionAttemptRecord {
  return {
    ...r,
    result: r.result === null ? null : JSON.parse(r.result),
    error: r.error === null ? null : JSON.parse(r.error),
  };
}

function jsonOrNull(value: unknown): string | null {
  return value === null ? null : JSON.stringify(value);
}

function toRow(a: ActionAttemptRecord): ActionAttemptTable {
  return { ...a, result: jsonOrNull(a.result), error: jsonOrNull(a.error) };
}

const insertRow = precompiled((db, row: ActionAttemptTable) => db.insertInto('action_attempts').values(row));

export async function insertActionAttempt(db: Db, a: ActionAttemptRecord): Promise<void> {
  await insertRow(db, toRow(a));
}

/** Moves a pending attempt to its outcome; an attempt that already finished is left as it is. */
export async function finishActionAttempt(
  db: Db,
  actionAttemptId: string,
  outcome: Pick<ActionAttemptRecord, 'status' | 'result' | 'error'>,
  now: number,
): Promise<boolean> {
  const result = await db
    .updateTable('action_attempts')
    .set({
      status: outcome.status,
      result: jsonOrNull(outcome.result),
      error: jsonOrNull(outcome.error),
      updated_at: now,
    })
    .where('action_attempt_id', '=', actionAttemptId)
    .where('status', '=', 'pending')
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function getActionAttempt(
  db: Db,
  workspaceId: string,
  actionAttemptId: string,
): Promise<ActionAttemptRecord | null> {
  const row = await db
    .selectFrom('action_attempts')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('action_attempt_id', '=', actionAttemptId)
    .executeTakeFirst();
  return row ? toRecord(row) : null;
}

export interface ActionAttemptFilters {
  action_attempt_ids?: string[] | undefined;
  device_id?: string | undefined;
}

export async function listActionAttempts(
  db: Db,
  workspaceId: string,
  filters: ActionAttemptFilters,
  options: ListOptions,
): Promise<Page<ActionAttemptRecord>> {
  const cursor = decodeCursorOrThrow(options.pageCursor);
  let q = db.selectFrom('action_attempts').selectAll().where('workspace_id', '=', workspaceId);
  if (filters.action_attempt_ids) {
    q = q.where('action_attempt_id', 'in', [...filters.action_attempt_ids, '']);
  }
  if (filters.device_id) q = q.where('device_id', '=', filters.device_id);
  if (cursor) q = q.where(afterCursor('action_attempt_id', cursor));
  const rows = await q
    .orderBy('created_at')
    .orderBy('action_attempt_id')
    .limit(options.limit + 1)
    .execute();
  return toPage(
    rows,
    options.limit,
    (r) => ({ created_at: r.created_at, id: r.action_attempt_id }),
    toRecord,
  );
}
