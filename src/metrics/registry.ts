import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

// The process's metrics: one registry, made once when this module is first imported, so building several
// apps in one process (tests do) never registers a metric twice. Every app of the process records into the
// same counters; the job-queue gauges, read from an app's own database at scrape time, live apart
// (`queue.ts`). Labels are bounded, and never carry keys, PINs, workspace or device ids.

export const registry = new Registry();

// Node's process metrics: CPU, resident memory, heap, event-loop lag, GC, open handles.
collectDefaultMetrics({ register: registry });

/** Route patterns (never raw URLs) of requests that matched no route share this label. */
export const UNMATCHED_ROUTE = 'unmatched';

export const httpRequestDuration = new Histogram({
  name: 'latchkey_http_request_duration_seconds',
  help: 'HTTP requests by method, route pattern and status code, and how long they took',
  labelNames: ['method', 'route', 'status_code'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: [registry],
});

const accessCodesCreated = new Counter({
  name: 'latchkey_access_codes_created_total',
  help: 'Access codes created (committed), by kind and whether they are offline codes',
  labelNames: ['kind', 'is_offline'] as const,
  registers: [registry],
});

// Every series exists from the start (at 0), so rate() sees the first code of a kind.
for (const kind of ['hourly', 'daily', 'one_time', 'permanent'])
  accessCodesCreated.inc({ kind, is_offline: 'true' }, 0);
accessCodesCreated.inc({ kind: 'online', is_offline: 'false' }, 0);

/** Counts created access codes. Call only once the transaction that created them has committed. */
export function countAccessCodesCreated(codes: Iterable<{ kind: string; is_offline: boolean }>): void {
  for (const c of codes) accessCodesCreated.inc({ kind: c.kind, is_offline: String(c.is_offline) });
}

/**
 * What became of one webhook delivery attempt: `succeeded` (a 2xx), `retry` (failed, the next attempt is
 * scheduled) or `gave_up` (failed, and it was the last attempt: the delivery is failed).
 */
export type WebhookAttemptOutcome = 'succeeded' | 'retry' | 'gave_up';

const webhookAttempts = new Counter({
  name: 'latchkey_webhook_attempts_total',
  help: 'Webhook delivery attempts by outcome: succeeded, retry (failed, retried later), gave_up (failed, last attempt)',
  labelNames: ['outcome'] as const,
  registers: [registry],
});
for (const outcome of ['succeeded', 'retry', 'gave_up'] as const) webhookAttempts.inc({ outcome }, 0);

/** Counts one delivery attempt. Call once the attempt's outcome is recorded (its transaction committed). */
export function countWebhookAttempt(outcome: WebhookAttemptOutcome): void {
  webhookAttempts.inc({ outcome });
}
