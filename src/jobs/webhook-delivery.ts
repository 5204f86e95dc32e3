import { uuidv7 } from '../app/ids.ts';
import { postWebhook } from '../app/webhook-sender.ts';
import { scheduleDeliveryAttempt } from '../app/webhooks.ts';
import { open } from '../codeserver/sealed-box.ts';
import { isoUtc } from '../domain/time.ts';
import { DELIVERY_TIMEOUT_MS, deliveryHeaders, retryDelay } from '../domain/webhooks.ts';
import { countWebhookAttempt } from '../metrics/registry.ts';
import {
  claimDeliveryAttempt,
  finishDeliveryAttempt,
  getDeliveryForSending,
  insertAttempt,
  lastRecordedAttempt,
} from '../store/repos/webhooks.ts';
import type { JobHandler } from './runner.ts';

/**
 * How long a taken attempt counts as in flight: the POST's timeout, plus room for recording its outcome on a
 * busy database. Past it with no outcome, its runner is presumed dead and another may take the next attempt.
 */
export const ATTEMPT_IN_FLIGHT_MS = DELIVERY_TIMEOUT_MS + 60_000;

/**
 * One attempt at one delivery: POST the raw event, signed, and record the outcome. A failure schedules the
 * next attempt on Seam's schedule (workspace clock, so sandbox time travel moves it too); after the last one
 * the delivery is failed. At-least-once: every attempt of a delivery carries the same `svix-id`.
 *
 * The attempt is taken on the delivery row before the POST (`claimDeliveryAttempt`), so two runners holding a
 * job for the same delivery — a process that lost the job's lease while still in it, and the one that took
 * the job over — never both POST: the second sees the attempt in flight and retries later (its job stays
 * open, to take over should the first never record an outcome).
 */
export const deliverWebhook: JobHandler = async (job, ctx) => {
  const { delivery_id } = job.payload as { delivery_id: string };
  const { store, masterKey, network } = ctx.services;
  const d = await getDeliveryForSending(store.db, delivery_id);
  if (d?.status !== 'pending') return;
  // A delivery's job runs at its next_attempt_at. A later one means the delivery moved on since this job was
  // written: an attempt was taken (by another runner, or by this job's earlier try), or a failed attempt
  // scheduled the next with a job of its own.
  if (d.next_attempt_at !== null && d.next_attempt_at > job.run_at) {
    if ((await lastRecordedAttempt(store.db, delivery_id)) >= d.attempts) return;
    if (d.next_attempt_at > ctx.now) {
      throw new Error(
        `attempt ${d.attempts} is in flight (until ${isoUtc(d.next_attempt_at)}); not sending it again`,
      );
    }
    // Its window passed with no outcome: the runner that took it died. Take the next attempt.
  }
  if (d.deleted_at !== null) {
    await finishDeliveryAttempt(store.db, delivery_id, d.attempts, {
      status: 'failed',
      next_attempt_at: null,
      last_error: 'webhook deleted',
      updated_at: ctx.now,
    });
    return;
  }
  const attempt = d.attempts + 1;
  const inFlightUntil = ctx.now + ATTEMPT_IN_FLIGHT_MS;
  if (!(await claimDeliveryAttempt(store.db, delivery_id, d.attempts, ctx.now, inFlightUntil))) {
    throw new Error(`attempt ${attempt} was taken by another runner; not sending it again`);
  }
  const secret = open(masterKey, d.sealed_secret, `webhook_secret|${d.webhook_id}`).toString('utf8');
  // The signature's timestamp is the wall clock, never a workspace's (or a test's pinned) clock: receivers
  // check it against their own clock (±5 min).
  const headers = deliveryHeaders(secret, delivery_id, Math.floor(Date.now() / 1000), d.body);
  const outcome = await postWebhook(d.url, headers, d.body, {
    timeoutMs: DELIVERY_TIMEOUT_MS,
    policy: network,
  });
  const succeeded = outcome.error === null;
  await store.db.transaction().execute(async (tx) => {
    const delay = succeeded ? null : retryDelay(attempt);
    const next = delay === null ? null : ctx.now + delay;
    // Only while this is still the delivery's latest attempt: a runner that took over after the window (this
    // process stalled) owns the delivery now. The attempt row is history and is written either way.
    const latest = await finishDeliveryAttempt(tx, delivery_id, attempt, {
      status: succeeded ? 'succeeded' : next === null ? 'failed' : 'pending',
      next_attempt_at: next,
      last_status_code: outcome.status_code,
      last_error: outcome.error,
      updated_at: ctx.now,
    });
    await insertAttempt(tx, {
      attempt_id: uuidv7(),
      delivery_id,
      attempt_number: attempt,
      attempted_at: ctx.now,
      status_code: outcome.status_code,
      error: outcome.error,
      duration_ms: outcome.duration_ms,
    });
    if (latest && next !== null)
      await scheduleDeliveryAttempt(tx, d.workspace_id, delivery_id, next, ctx.now);
  });
  countWebhookAttempt(succeeded ? 'succeeded' : retryDelay(attempt) === null ? 'gave_up' : 'retry');
};
