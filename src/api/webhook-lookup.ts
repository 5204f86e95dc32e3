import { webhookRecordOf } from '../app/webhooks.ts';
import type { WebhookRecord } from '../domain/webhooks.ts';
import { unknownEventTypes } from '../domain/webhooks.ts';
import { getWebhookRow } from '../store/repos/webhooks.ts';
import { ApiError, notFound } from './errors.ts';
import type { RouteContext } from './route.ts';

/** A live webhook of the workspace, or 404 `webhook_not_found`. */
export async function findWebhook(ctx: RouteContext, webhookId: string): Promise<WebhookRecord> {
  const row = await getWebhookRow(ctx.store.db, ctx.workspace.workspace_id, webhookId);
  if (!row) throw notFound('webhook', 'Webhook not found.', { webhook_id: webhookId });
  return webhookRecordOf(row, ctx.services.masterKey);
}

/** 400 `invalid_event_types` naming the unknown ones (Seam's error for this). */
export function checkEventTypes(types: readonly string[]): void {
  const unknown = unknownEventTypes(types);
  if (unknown.length > 0) {
    throw new ApiError(
      400,
      'invalid_event_types',
      `Unknown event types: ${unknown.join(', ')}. Use "*" for every event.`,
      { data: { invalid_event_types: unknown } },
    );
  }
}
