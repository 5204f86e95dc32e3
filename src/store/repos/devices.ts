import type { Selectable } from 'kysely';
import type { DeviceRecord } from '../../domain/records.ts';
import { type DeviceCapabilityFlag, hasCapability } from '../../domain/seam/device.ts';
import type { Db, Dialect } from '../index.ts';
import { decodeCursorOrThrow, type ListOptions } from '../list-options.ts';
import { afterCursor, type Page, toPage } from '../pagination.ts';
import { precompiled } from '../precompiled.ts';
import type { DeviceTable } from '../schema.ts';

function toRecord(r: Selectable<DeviceTable>): DeviceRecord {
  return {
    ...r,
    device_type: 'igloohome_lock',
    has_bridge: r.has_bridge === 1,
    bridge_online: r.bridge_online === 1,
    custom_metadata: JSON.parse(r.custom_metadata),
  };
}

export async function insertDevice(db: Db, d: DeviceRecord): Promise<void> {
  await db
    .insertInto('devices')
    .values({
      ...d,
      has_bridge: d.has_bridge ? 1 : 0,
      bridge_online: d.bridge_online ? 1 : 0,
      custom_metadata: JSON.stringify(d.custom_metadata),
    })
    .execute();
}

const deviceById = precompiled((db, p: { workspaceId: string; deviceId: string }) =>
  db
    .selectFrom('devices')
    .selectAll()
    .where('workspace_id', '=', p.workspaceId)
    .where('device_id', '=', p.deviceId),
);
const deviceByIdForUpdate = precompiled((db, p: { workspaceId: string; deviceId: string }) =>
  db
    .selectFrom('devices')
    .selectAll()
    .where('workspace_id', '=', p.workspaceId)
    .where('device_id', '=', p.deviceId)
    .forUpdate(),
);

export async function getDevice(db: Db, workspaceId: string, deviceId: string): Promise<DeviceRecord | null> {
  const [row] = (await deviceById(db, { workspaceId, deviceId })).rows;
  return row ? toRecord(row) : null;
}

/** The device row, locked until the transaction ends on Postgres: creates on one device are serialized. */
export async function getDeviceForUpdate(
  db: Db,
  dialect: Dialect,
  workspaceId: string,
  deviceId: string,
): Promise<DeviceRecord | null> {
  // SQLite has one writer at a time: the transaction itself serializes, and it has no FOR UPDATE.
  const query = dialect === 'postgres' ? deviceByIdForUpdate : deviceById;
  const [row] = (await query(db, { workspaceId, deviceId })).rows;
  return row ? toRecord(row) : null;
}

export async function getDeviceByName(
  db: Db,
  workspaceId: string,
  name: string,
): Promise<DeviceRecord | null> {
  const row = await db
    .selectFrom('devices')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('name', '=', name)
    .orderBy('created_at')
    .executeTakeFirst();
  return row ? toRecord(row) : null;
}

export interface DeviceFilters {
  device_ids?: string[] | undefined;
  connected_account_ids?: string[] | undefined;
  device_types?: string[] | undefined;
  manufacturer?: string | undefined;
  search?: string | undefined;
  include_if?: DeviceCapabilityFlag[] | undefined;
  exclude_if?: DeviceCapabilityFlag[] | undefined;
  created_before?: number | undefined;
}

/** Escapes LIKE wildcards so a search for `50%` finds the literal text. */
function likePattern(text: string): string {
  return `%${text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export async function listDevices(
  db: Db,
  workspaceId: string,
  filters: DeviceFilters,
  options: ListOptions,
): Promise<Page<DeviceRecord>> {
  const cursor = decodeCursorOrThrow(options.pageCursor);
  let q = db.selectFrom('devices').selectAll().where('workspace_id', '=', workspaceId);
  if (filters.device_ids) q = q.where('device_id', 'in', nonEmpty(filters.device_ids));
  if (filters.connected_account_ids) {
    q = q.where('connected_account_id', 'in', nonEmpty(filters.connected_account_ids));
  }
  if (filters.device_types) q = q.where('device_type', 'in', nonEmpty(filters.device_types));
  // Every device this server manages is an igloohome lock.
  if (filters.manufacturer !== undefined && filters.manufacturer !== 'igloohome')
    q = q.where((eb) => eb.lit(false));
  if (filters.search) {
    const pattern = likePattern(filters.search);
    q = q.where((eb) =>
      eb.or([
        eb(eb.fn('lower', ['name']), 'like', eb.val(pattern)),
        eb('device_id', '=', filters.search ?? ''),
        eb('provider_device_id', '=', filters.search ?? ''),
      ]),
    );
  }
  if (filters.created_before !== undefined) q = q.where('created_at', '<', filters.created_before);
  // Capability flags derive from columns (has_bridge); the few that vary are filtered in SQL below.
  for (const [flags, wanted] of [
    [filters.include_if, true],
    [filters.exclude_if, false],
  ] as const) {
    for (const flag of flags ?? []) {
      const withBridge = hasCapability({ ...SAMPLE_DEVICE, has_bridge: true }, flag);
      const withoutBridge = hasCapability({ ...SAMPLE_DEVICE, has_bridge: false }, flag);
      const allowed = [withBridge === wanted ? 1 : null, withoutBridge === wanted ? 0 : null].filter(
        (v): v is number => v !== null,
      );
      q = q.where('has_bridge', 'in', allowed.length > 0 ? allowed : [-1]);
    }
  }
  if (cursor) q = q.where(afterCursor('device_id', cursor));
  const rows = await q
    .orderBy('created_at')
    .orderBy('device_id')
    .limit(options.limit + 1)
    .execute();
  return toPage(rows, options.limit, (r) => ({ created_at: r.created_at, id: r.device_id }), toRecord);
}

/** `IN ()` is a syntax error in SQL: an empty filter list matches nothing. */
function nonEmpty(values: string[]): string[] {
  return values.length > 0 ? values : [''];
}

const SAMPLE_DEVICE: DeviceRecord = {
  device_id: '',
  workspace_id: '',
  connected_account_id: '',
  device_type: 'igloohome_lock',
  name: '',
  model_name: '',
  has_bridge: false,
  bridge_online: true,
  time_zone: null,
  provider_device_id: '',
  key_epoch: 0,
  custom_metadata: {},
  created_at: 0,
};

export async function setBridgeOnline(db: Db, deviceId: string, online: boolean): Promise<void> {
  await db
    .updateTable('devices')
    .set({ bridge_online: online ? 1 : 0 })
    .where('device_id', '=', deviceId)
    .execute();
}
