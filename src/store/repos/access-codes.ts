import { type Selectable, sql } from 'kysely';
import type { AccessCodeRecord, AccessCodeStatus } from '../../domain/records.ts';
import type { Db } from '../index.ts';
import { decodeCursorOrThrow, type ListOptions } from '../list-options.ts';
import { afterCursor, type Page, toPage } from '../pagination.ts';
import { precompiled } from '../precompiled.ts';
import type { AccessCodeTable } from '../schema.ts';

function toRecord(r: Selectable<AccessCodeTable>): AccessCodeRecord {
  return {
    ...r,
    is_offline: r.is_offline === 1,
    is_one_time_use: r.is_one_time_use === 1,
    delete_requested: r.delete_requested === 1,
    warnings: JSON.parse(r.warnings),
    errors: JSON.parse(r.errors),
  };
}

type AccessCodeRow = Omit<AccessCodeTable, 'programmed_code' | 'delete_requested'> & {
  programmed_code: string | null;
  delete_requested: number;
};

/** The row a code is stored as (exported for the growth bench's loader, which writes rows in bulk). */
export function accessCodeRow(c: AccessCodeRecord): AccessCodeRow {
  return {
    access_code_id: c.access_code_id,
    workspace_id: c.workspace_id,
    device_id: c.device_id,
    name: c.name,
    code: c.code,
    common_code_key: c.common_code_key,
    type: c.type,
    kind: c.kind,
    is_offline: c.is_offline ? 1 : 0,
    is_one_time_use: c.is_one_time_use ? 1 : 0,
    starts_at: c.starts_at,
    ends_at: c.ends_at,
    status: c.status,
    slot_key: c.slot_key,
    variance: c.variance,
    warnings: JSON.stringify(c.warnings),
    errors: JSON.stringify(c.errors),
    created_at: c.created_at,
    removed_at: c.removed_at,
    programmed_code: c.programmed_code,
    delete_requested: c.delete_requested ? 1 : 0,
  };
}

// The statements of the create and get paths are precompiled (see precompiled.ts).
const insertRow = precompiled((db, row: AccessCodeRow) => db.insertInto('access_codes').values(row));

export async function insertAccessCode(db: Db, c: AccessCodeRecord): Promise<void> {
  await insertRow(db, accessCodeRow(c));
}

/** A live code (not removed) of the workspace. */
export async function getAccessCode(
  db: Db,
  workspaceId: string,
  accessCodeId: string,
): Promise<AccessCodeRecord | null> {
  const [row] = (await liveCodeById(db, { workspaceId, accessCodeId })).rows;
  return row ? toRecord(row) : null;
}
const liveCodeById = precompiled((db, p: { workspaceId: string; accessCodeId: string }) =>
  db
    .selectFrom('access_codes')
    .selectAll()
    .where('workspace_id', '=', p.workspaceId)
    .where('access_code_id', '=', p.accessCodeId)
    .where('removed_at', 'is', null),
);

/** Any code by id, removed or not (jobs need to see that a code is gone). */
export async function getAccessCodeById(db: Db, accessCodeId: string): Promise<AccessCodeRecord | null> {
  const row = await db
    .selectFrom('access_codes')
    .selectAll()
    .where('access_code_id', '=', accessCodeId)
    .executeTakeFirst();
  return row ? toRecord(row) : null;
}

export async function findLiveCodeOnDevice(
  db: Db,
  workspaceId: string,
  deviceId: string,
  code: string,
): Promise<AccessCodeRecord | null> {
  const [row] = (await liveCodeByPin(db, { workspaceId, deviceId, code })).rows;
  return row ? toRecord(row) : null;
}
const liveCodeByPin = precompiled((db, p: { workspaceId: string; deviceId: string; code: string }) =>
  db
    .selectFrom('access_codes')
    .selectAll()
    .where('workspace_id', '=', p.workspaceId)
    .where('device_id', '=', p.deviceId)
    .where('code', '=', p.code)
    .where('removed_at', 'is', null)
    // No LIMIT: a device has at most one live code per PIN, and `LIMIT ?` made SQLite's seek twice as slow.
    .orderBy('created_at'),
);

/** The most recent code with this PIN on a device, removed or not: what a lock's synced log maps a PIN to. */
export async function findLatestCodeOnDevice(
  db: Db,
  deviceId: string,
  code: string,
): Promise<AccessCodeRecord | null> {
  const row = await db
    .selectFrom('access_codes')
    .selectAll()
    .where('device_id', '=', deviceId)
    .where('code', '=', code)
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  return row ? toRecord(row) : null;
}

const liveCodeCount = precompiled((db, p: { deviceId: string }) =>
  db
    .selectFrom('access_codes')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('device_id', '=', p.deviceId)
    .where('removed_at', 'is', null),
);

export async function countLiveCodes(db: Db, deviceId: string): Promise<number> {
  const [row] = (await liveCodeCount(db, { deviceId })).rows;
  return Number(row?.n ?? 0);
}

const slotVariances = precompiled((db, p: { deviceId: string; slotKey: string }) =>
  db
    .selectFrom('access_codes')
    .select(['slot_key', 'variance'])
    .where('device_id', '=', p.deviceId)
    .where('slot_key', '=', p.slotKey),
);

/** Variances already used in each of these slots of a device (removed codes included: see the migration). */
export async function takenVariances(
  db: Db,
  deviceId: string,
  slotKeys: string[],
): Promise<Map<string, number[]>> {
  const taken = new Map<string, number[]>(slotKeys.map((k) => [k, []]));
  if (slotKeys.length === 0) return taken;
  // One slot (every create): the precompiled statement; several (a full slot's 409 names free ones nearby).
  const [only] = slotKeys;
  const rows =
    slotKeys.length === 1 && only !== undefined
      ? (await slotVariances(db, { deviceId, slotKey: only })).rows
      : await db
          .selectFrom('access_codes')
          .select(['slot_key', 'variance'])
          .where('device_id', '=', deviceId)
          .where('slot_key', 'in', slotKeys)
          .execute();
  for (const r of rows) {
    if (r.slot_key !== null && r.variance !== null) taken.get(r.slot_key)?.push(r.variance);
  }
  return taken;
}

export interface AccessCodeFilters {
  device_id?: string | undefined;
  access_code_ids?: string[] | undefined;
}

export async function listAccessCodes(
  db: Db,
  workspaceId: string,
  filters: AccessCodeFilters,
  options: ListOptions,
): Promise<Page<AccessCodeRecord>> {
  const cursor = decodeCursorOrThrow(options.pageCursor);
  // With a device, its index must drive the query: both indexes match two equalities and the list order, and
  // without statistics SQLite took the workspace's and read every live code of the workspace. `workspace_id || ''`
  // (same value, no index) still confines the query to the workspace, on both dialects. With ids, likewise: the
  // primary key must find the few codes named (then sorted), and SQLite walked the workspace's live codes in
  // list order instead. (Migration 010 then dropped the workspace's index: no query is left for it.)
  const narrowed = filters.device_id || filters.access_code_ids;
  let q = db
    .selectFrom('access_codes')
    .selectAll()
    .where(
      narrowed ? sql<string>`${sql.ref('workspace_id')} || ''` : sql.ref('workspace_id'),
      '=',
      workspaceId,
    )
    .where('removed_at', 'is', null);
  if (filters.device_id) q = q.where('device_id', '=', filters.device_id);
  if (filters.access_code_ids) q = q.where('access_code_id', 'in', [...filters.access_code_ids, '']);
  if (cursor) q = q.where(afterCursor('access_code_id', cursor));
  const rows = await q
    .orderBy('created_at')
    .orderBy('access_code_id')
    .limit(options.limit + 1)
    .execute();
  return toPage(rows, options.limit, (r) => ({ created_at: r.created_at, id: r.access_code_id }), toRecord);
}

export async function setAccessCodeStatus(
  db: Db,
  accessCodeId: string,
  status: AccessCodeStatus,
): Promise<void> {
  await db.updateTable('access_codes').set({ status }).where('access_code_id', '=', accessCodeId).execute();
}

/** Returns false when the code was already removed (someone else got there first). */
export async function markAccessCodeRemoved(db: Db, accessCodeId: string, at: number): Promise<boolean> {
  const result = await db
    .updateTable('access_codes')
    .set({ removed_at: at })
    .where('access_code_id', '=', accessCodeId)
    .where('removed_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export type AccessCodeChanges = Partial<
  Pick<
    AccessCodeRecord,
    | 'name'
    | 'code'
    | 'type'
    | 'starts_at'
    | 'ends_at'
    | 'status'
    | 'warnings'
    | 'errors'
    | 'programmed_code'
    | 'delete_requested'
  >
>;

export async function updateAccessCode(
  db: Db,
  accessCodeId: string,
  changes: AccessCodeChanges,
): Promise<void> {
  const { warnings, errors, delete_requested, ...plain } = changes;
  await db
    .updateTable('access_codes')
    .set({
      ...plain,
      ...(warnings === undefined ? {} : { warnings: JSON.stringify(warnings) }),
      ...(errors === undefined ? {} : { errors: JSON.stringify(errors) }),
      ...(delete_requested === undefined ? {} : { delete_requested: delete_requested ? 1 : 0 }),
    })
    .where('access_code_id', '=', accessCodeId)
    .execute();
}

/** Live codes of a device with their PINs (to generate one that is not taken). */
export async function liveCodesOnDevice(db: Db, deviceId: string): Promise<Set<string>> {
  const rows = await db
    .selectFrom('access_codes')
    .select('code')
    .where('device_id', '=', deviceId)
    .where('removed_at', 'is', null)
    .execute();
  return new Set(rows.flatMap((r) => (r.code === null ? [] : [r.code])));
}

/** The PIN of a live code with this common_code_key in the workspace (same key, same code). */
export async function findCodeByCommonKey(db: Db, workspaceId: string, key: string): Promise<string | null> {
  const row = await db
    .selectFrom('access_codes')
    .select('code')
    .where('workspace_id', '=', workspaceId)
    .where('common_code_key', '=', key)
    .where('removed_at', 'is', null)
    .orderBy('created_at')
    .executeTakeFirst();
  return row?.code ?? null;
}
