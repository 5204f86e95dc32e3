import { uuidv7 } from '../app/ids.ts';
import { postWebhook } from '../app/webhook-sender.ts';
import { scheduleDeliveryAttempt } from '../app/webhooks.ts';
import { open } from '../codeserver/sealed-box.ts';
import { DELIVERY_TIMEOUT_MS, deliveryHeaders, retryDelay } from '../domain/webhooks.ts';
import { countWebhookAttempt } from '../metrics/registry.ts';
import { getDeliveryForSending, insertAttempt, updateDeliveryRow } from '../store/repos/webhooks.ts';
import type { JobHandler } from './runner.ts';

/**
 * One attempt at one delivery: POST the raw event, signed, and record the outcome. A failure schedules the
 * next attempt on Seam's schedule (workspace clock, so sandbox time travel moves it too); after the last one
 * the delivery is failed. At-least-once: every attempt of a delivery carries the same `svix-id`.
 */
export const deliverWebhook: JobHandler = async (job, ctx) => {
  const { delivery_id } = job.payload as { delivery_id: string };
  const { store, masterKey, network } = ctx.services;
  const d = await getDeliveryForSending(store.db, delivery_id);
  if (d?.status !== 'pending') return;
  if (d.deleted_at !== null) {
    await updateDeliveryRow(store.db, delivery_id, {
      status: 'failed',
      next_attempt_at: null,
      last_error: 'webhook deleted',
      updated_at: ctx.now,
    });
    return;
  }
  const secret = open(masterKey, d.sealed_secret, `webhook_secret|${d.webhook_id}`).toString('utf8');
  // The signature's timestamp is the wall clock, never a workspace's (or a test's pinned) clock: receivers
  // check it against their own clock (±5 min).
  const headers = deliveryHeaders(secret, delivery_id, Math.floor(Date.now() / 1000), d.body);
  const outcome = await postWebhook(d.url, headers, d.body, {
    timeoutMs: DELIVERY_TIMEOUT_MS,
    policy: network,
  });
  const attempt = d.attempts + 1;
  const succeeded = outcome.error === null;
  await store.db.transaction().execute(async (tx) => {
    await insertAttempt(tx, {
      attempt_id: uuidv7(),
      delivery_id,
      attempt_number: attempt,
      attempted_at: ctx.now,
      status_code: outcome.status_code,
      error: outcome.error,
      duration_ms: outcome.duration_ms,
    });
    const delay = succeeded ? null : retryDelay(attempt);
    const next = delay === null ? null : ctx.now + delay;
    await updateDeliveryRow(tx, delivery_id, {
      status: succeeded ? 'succeeded' : next === null ? 'failed' : 'pending',
      attempts: attempt,
      next_attempt_at: next,
      last_status_code: outcome.status_code,
      last_error: outcome.error,
      updated_at: ctx.now,
    });
    if (next !== null) await scheduleDeliveryAttempt(tx, d.workspace_id, delivery_id, next, ctx.now);
  });
  countWebhookAttempt(succeeded ? 'succeeded' : retryDelay(attempt) === null ? 'gave_up' : 'retry');
};
