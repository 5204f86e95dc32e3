import { randomBytes } from 'node:crypto';
import { open, seal } from '../codeserver/sealed-box.ts';
import type { SeamEvent } from '../domain/seam/events.ts';
import { type WebhookRecord, wantsEvent } from '../domain/webhooks.ts';
import type { Db } from '../store/index.ts';
import { enqueueJob } from '../store/repos/jobs.ts';
import {
  insertDeliveries,
  insertWebhook,
  liveWebhookRows,
  type WebhookRow,
} from '../store/repos/webhooks.ts';
import { uuidv7 } from './ids.ts';
import type { Services } from './services.ts';
import { checkWebhookUrl } from './webhook-sender.ts';

export const WEBHOOK_DELIVERY_JOB = 'webhook.deliver';

const secretContext = (webhookId: string) => `webhook_secret|${webhookId}`;

export function webhookRecordOf(row: WebhookRow, masterKey: Uint8Array): WebhookRecord {
  return {
    webhook_id: row.webhook_id,
    workspace_id: row.workspace_id,
    url: row.url,
    event_types: JSON.parse(row.event_types),
    secret: open(masterKey, row.sealed_secret, secretContext(row.webhook_id)).toString('utf8'),
    created_at: row.created_at,
  };
}

/** `whsec_` + base64 of 24 random bytes: the format @seamapi/webhook (svix) expects. */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64')}`;
}

export async function createWebhook(
  services: Pick<Services, 'store' | 'masterKey' | 'network'>,
  workspaceId: string,
  input: { url: string; event_types: string[] },
  now: number,
): Promise<WebhookRecord> {
  await checkWebhookUrl(input.url, services.network);
  const webhook_id = uuidv7();
  const secret = generateWebhookSecret();
  await insertWebhook(services.store.db, {
    webhook_id,
    workspace_id: workspaceId,
    url: input.url,
    event_types: JSON.stringify(input.event_types),
    sealed_secret: seal(services.masterKey, Buffer.from(secret), secretContext(webhook_id)),
    created_at: now,
    deleted_at: null,
  });
  return {
    webhook_id,
    workspace_id: workspaceId,
    url: input.url,
    event_types: input.event_types,
    secret,
    created_at: now,
  };
}

/** A Svix-style message id; every attempt of one delivery carries it, so receivers can drop duplicates. */
function messageId(): string {
  return `msg_${uuidv7().replaceAll('-', '')}`;
}

/** Schedules a delivery's next attempt (a durable job at `at`, workspace clock). */
export async function scheduleDeliveryAttempt(
  tx: Db,
  workspaceId: string,
  deliveryId: string,
  at: number,
  now: number,
) {
  await enqueueJob(tx, {
    job_id: uuidv7(),
    workspace_id: workspaceId,
    kind: WEBHOOK_DELIVERY_JOB,
    payload: { delivery_id: deliveryId },
    run_at: at,
    created_at: now,
  });
}

/**
 * The outbox: for each event, a delivery per subscribed webhook of its workspace, written in the caller's
 * transaction (the one that writes the event), with its first attempt due at once.
 */
export async function queueDeliveries(tx: Db, events: SeamEvent[]): Promise<void> {
  const hooksByWorkspace = new Map<string, WebhookRow[]>();
  for (const event of events) {
    let hooks = hooksByWorkspace.get(event.workspace_id);
    if (!hooks) {
      hooks = await liveWebhookRows(tx, event.workspace_id);
      hooksByWorkspace.set(event.workspace_id, hooks);
    }
    const now = Date.parse(event.created_at);
    const rows = hooks
      .filter((h) => wantsEvent(JSON.parse(h.event_types), event.event_type))
      .map((h) => ({
        delivery_id: messageId(),
        webhook_id: h.webhook_id,
        workspace_id: event.workspace_id,
        event_id: event.event_id,
        status: 'pending' as const,
        next_attempt_at: now,
        last_status_code: null,
        last_error: null,
        created_at: now,
        updated_at: now,
      }));
    await insertDeliveries(tx, rows);
    for (const row of rows) await scheduleDeliveryAttempt(tx, row.workspace_id, row.delivery_id, now, now);
  }
}
