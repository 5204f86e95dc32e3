import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Db } from '../index.ts';
import { precompiled } from '../precompiled.ts';
import type { WebhookAttemptTable, WebhookDeliveryTable, WebhookTable } from '../schema.ts';

export type WebhookRow = Selectable<WebhookTable>;
export type DeliveryRow = Selectable<WebhookDeliveryTable>;

export async function insertWebhook(db: Db, row: WebhookTable): Promise<void> {
  await db.insertInto('webhooks').values(row).execute();
}

export async function getWebhookRow(
  db: Db,
  workspaceId: string,
  webhookId: string,
): Promise<WebhookRow | null> {
  const row = await db
    .selectFrom('webhooks')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('webhook_id', '=', webhookId)
    .where('deleted_at', 'is', null)
    .executeTakeFirst();
  return row ?? null;
}

// Every event looks its workspace's webhooks up: precompiled (see precompiled.ts).
const liveWebhooks = precompiled((db, p: { workspaceId: string }) =>
  db
    .selectFrom('webhooks')
    .selectAll()
    .where('workspace_id', '=', p.workspaceId)
    .where('deleted_at', 'is', null)
    .orderBy('created_at')
    .orderBy('webhook_id'),
);

export async function liveWebhookRows(db: Db, workspaceId: string): Promise<WebhookRow[]> {
  return (await liveWebhooks(db, { workspaceId })).rows;
}

export async function updateWebhookRow(
  db: Db,
  webhookId: string,
  changes: Partial<Pick<WebhookTable, 'url' | 'event_types' | 'deleted_at'>>,
): Promise<void> {
  await db.updateTable('webhooks').set(changes).where('webhook_id', '=', webhookId).execute();
}

export async function insertDeliveries(db: Db, rows: Insertable<WebhookDeliveryTable>[]): Promise<void> {
  if (rows.length > 0) await db.insertInto('webhook_deliveries').values(rows).execute();
}

/** A delivery with what sending it needs: its webhook (even if deleted since) and the event body. */
export async function getDeliveryForSending(db: Db, deliveryId: string) {
  return (
    (await db
      .selectFrom('webhook_deliveries as d')
      .innerJoin('webhooks as w', 'w.webhook_id', 'd.webhook_id')
      .innerJoin('events as e', 'e.event_id', 'd.event_id')
      .select([
        'd.delivery_id',
        'd.workspace_id',
        'd.status',
        'd.attempts',
        'd.next_attempt_at',
        'w.webhook_id',
        'w.url',
        'w.sealed_secret',
        'w.deleted_at',
        'e.body',
      ])
      .where('d.delivery_id', '=', deliveryId)
      .executeTakeFirst()) ?? null
  );
}

export async function getDeliveryRow(
  db: Db,
  workspaceId: string,
  deliveryId: string,
): Promise<DeliveryRow | null> {
  const row = await db
    .selectFrom('webhook_deliveries')
    .selectAll()
    .where('workspace_id', '=', workspaceId)
    .where('delivery_id', '=', deliveryId)
    .executeTakeFirst();
  return row ?? null;
}

export async function updateDeliveryRow(
  db: Db,
  deliveryId: string,
  changes: Updateable<WebhookDeliveryTable>,
): Promise<void> {
  await db.updateTable('webhook_deliveries').set(changes).where('delivery_id', '=', deliveryId).execute();
}

/**
 * Takes attempt `attempts + 1` of a pending delivery, read with `attempts` attempts: false when another runner
 * took one since. Until `inFlightUntil` (workspace clock) the delivery's `next_attempt_at` says the attempt is in
 * flight; its outcome replaces it.
 */
export async function claimDeliveryAttempt(
  db: Db,
  deliveryId: string,
  attempts: number,
  now: number,
  inFlightUntil: number,
): Promise<boolean> {
  return updatePendingAt(db, deliveryId, attempts, {
    attempts: attempts + 1,
    next_attempt_at: inFlightUntil,
    updated_at: now,
  });
}

/**
 * Writes the outcome of attempt `attempt` (the delivery's latest) while the delivery is pending and no later
 * attempt has been taken: false, and nothing written, when another runner took over since.
 */
export async function finishDeliveryAttempt(
  db: Db,
  deliveryId: string,
  attempt: number,
  changes: Updateable<WebhookDeliveryTable>,
): Promise<boolean> {
  return updatePendingAt(db, deliveryId, attempt, changes);
}

/** Applies `changes` to a delivery still pending at `attempts` attempts: false, nothing written, otherwise. */
async function updatePendingAt(
  db: Db,
  deliveryId: string,
  attempts: number,
  changes: Updateable<WebhookDeliveryTable>,
): Promise<boolean> {
  const result = await db
    .updateTable('webhook_deliveries')
    .set(changes)
    .where('delivery_id', '=', deliveryId)
    .where('status', '=', 'pending')
    .where('attempts', '=', attempts)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** The number of a delivery's latest attempt with a recorded outcome, 0 when none. */
export async function lastRecordedAttempt(db: Db, deliveryId: string): Promise<number> {
  const row = await db
    .selectFrom('webhook_attempts')
    .select('attempt_number')
    .where('delivery_id', '=', deliveryId)
    .orderBy('attempt_number', 'desc')
    .limit(1)
    .executeTakeFirst();
  return row?.attempt_number ?? 0;
}

export async function insertAttempt(db: Db, row: WebhookAttemptTable): Promise<void> {
  await db.insertInto('webhook_attempts').values(row).execute();
}

/** The most recent deliveries of a webhook with their attempts, newest first. */
export async function recentDeliveries(db: Db, webhookId: string, limit: number, status?: string) {
  let q = db.selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', webhookId);
  if (status) q = q.where('status', '=', status as DeliveryRow['status']);
  const deliveries = await q
    .orderBy('created_at', 'desc')
    .orderBy('delivery_id', 'desc')
    .limit(limit)
    .execute();
  const ids = deliveries.map((d) => d.delivery_id);
  const attempts =
    ids.length === 0
      ? []
      : await db
          .selectFrom('webhook_attempts')
          .selectAll()
          .where('delivery_id', 'in', ids)
          .orderBy('attempt_number')
          .execute();
  return deliveries.map((d) => ({
    delivery: d,
    attempts: attempts.filter((a) => a.delivery_id === d.delivery_id),
  }));
}
