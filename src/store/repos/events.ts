import type { Selectable } from 'kysely';
import type { SeamEvent } from '../../domain/seam/events.ts';
import type { Db } from '../index.ts';
import { precompiled } from '../precompiled.ts';
import type { EventTable } from '../schema.ts';

// Most changes write one or two events: one precompiled single-row insert each (see precompiled.ts).
const insertRow = precompiled((db, row: EventTable) => db.insertInto('events').values(row));

export async function insertEvents(db: Db, events: SeamEvent[]): Promise<void> {
  for (const e of events) await insertRow(db, eventRow(e));
}

/** The row an event is stored as (exported for the growth bench's loader, which writes rows in bulk). */
export function eventRow(e: SeamEvent): Selectable<EventTable> {
  return {
    event_id: e.event_id,
    workspace_id: e.workspace_id,
    event_type: e.event_type,
    device_id: e.device_id ?? null,
    access_code_id: e.access_code_id ?? null,
    occurred_at: Date.parse(e.occurred_at),
    created_at: Date.parse(e.created_at),
    body: JSON.stringify(e),
  };
}

export interface EventFilters {
  since?: number | undefined;
  between?: [number, number] | undefined;
  device_ids?: string[] | undefined;
  access_code_ids?: string[] | undefined;
  event_types?: string[] | undefined;
  event_ids?: string[] | undefined;
}

/** Events of a workspace in the order they were recorded (event ids are UUIDv7). */
export async function listEvents(
  db: Db,
  workspaceId: string,
  filters: EventFilters,
  limit: number,
): Promise<SeamEvent[]> {
  let q = db.selectFrom('events').select('body').where('workspace_id', '=', workspaceId);
  if (filters.since !== undefined) q = q.where('created_at', '>=', filters.since);
  if (filters.between) {
    q = q.where('created_at', '>=', filters.between[0]).where('created_at', '<=', filters.between[1]);
  }
  if (filters.device_ids) q = q.where('device_id', 'in', [...filters.device_ids, '']);
  if (filters.access_code_ids) q = q.where('access_code_id', 'in', [...filters.access_code_ids, '']);
  if (filters.event_types) q = q.where('event_type', 'in', [...filters.event_types, '']);
  if (filters.event_ids) q = q.where('event_id', 'in', [...filters.event_ids, '']);
  const rows = await q.orderBy('created_at').orderBy('event_id').limit(limit).execute();
  return rows.map((r) => JSON.parse(r.body));
}

export async function getEvent(db: Db, workspaceId: string, eventId: string): Promise<SeamEvent | null> {
  const row = await db
    .selectFrom('events')
    .select('body')
    .where('workspace_id', '=', workspaceId)
    .where('event_id', '=', eventId)
    .executeTakeFirst();
  return row ? JSON.parse(row.body) : null;
}
