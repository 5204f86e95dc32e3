// Reading `/events/list` completely, and following it (`latchkey events tail`). The route filters on
// `created_at >= since` (oldest first, at most 500 a call, no cursor), so the next call starts at the last
// created_at seen and events already printed are recognised by their event_id.

import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiClient } from './http.ts';
import type { ApiObject } from './present.ts';

export const EVENTS_PAGE = 500;
/**
 * Each poll looks this far behind the newest event seen: an event is stamped when its request starts and
 * becomes visible when its transaction commits, so a slow request can land just behind a faster one.
 */
export const TAIL_LOOKBACK_MS = 5_000;
/** Without --since, `events tail` first takes in (without printing) what happened in the past day. */
const BASELINE_MS = 24 * 3_600_000;

export interface EventFilters {
  device_id?: string | undefined;
  /** One or more event types (sent as event_types). */
  event_types?: string[] | undefined;
}

const isoUtc = (ms: number) => new Date(ms).toISOString();

/**
 * Every event created at or after `since` not yet in `seen`, oldest first; each returned event is added
 * to `seen` (event_id → created_at ms).
 */
export async function fetchEventsSince(
  client: ApiClient,
  since: number,
  filters: EventFilters,
  seen: Map<string, number>,
): Promise<ApiObject[]> {
  const fresh: ApiObject[] = [];
  let from = since;
  for (;;) {
    const { events } = await client.call<{ events: ApiObject[] }>('/events/list', {
      since: isoUtc(from),
      limit: EVENTS_PAGE,
      device_id: filters.device_id,
      event_types: filters.event_types?.length ? filters.event_types : undefined,
    });
    for (const event of events) {
      if (seen.has(event.event_id)) continue;
      seen.set(event.event_id, Date.parse(event.created_at));
      fresh.push(event);
    }
    if (events.length < EVENTS_PAGE) break;
    const last = Date.parse(events[events.length - 1]?.created_at);
    // A whole page stamped with one instant: the route has no cursor to read past it.
    if (!(last > from)) break;
    from = last;
  }
  return fresh;
}

export interface TailOptions {
  client: ApiClient;
  filters: EventFilters;
  /** Print events from this instant on first; otherwise only events that appear after the start. */
  since?: number | undefined;
  intervalMs: number;
  /** Stop by itself after this long (tests, scripts); otherwise only the signal stops it. */
  forMs?: number | undefined;
  signal: AbortSignal;
  onEvent: (event: ApiObject) => void;
  /** Called once what already happened has been taken in: events from now on will be printed. */
  onReady?: () => void;
  now?: () => number;
}

export async function tailEvents(opts: TailOptions): Promise<void> {
  const now = opts.now ?? Date.now;
  const started = now();
  const seen = new Map<string, number>();
  let floor = opts.since ?? started - BASELINE_MS;
  let newest = floor;
  const take = (events: ApiObject[]) => {
    for (const event of events) newest = Math.max(newest, Date.parse(event.created_at) || newest);
    return events;
  };
  if (opts.since === undefined) {
    // What already happened is taken in silently, so that only new events are printed.
    take(await fetchEventsSince(opts.client, floor, opts.filters, seen));
  }
  // --for counts from here, so a slow start does not eat into the time spent following.
  const deadline = opts.forMs === undefined ? Number.POSITIVE_INFINITY : now() + opts.forMs;
  opts.onReady?.();
  while (!opts.signal.aborted) {
    const from = Math.max(floor, newest - TAIL_LOOKBACK_MS);
    for (const event of take(await fetchEventsSince(opts.client, from, opts.filters, seen)))
      opts.onEvent(event);
    // Forget what the next poll can no longer return.
    floor = Math.max(floor, newest - TAIL_LOOKBACK_MS);
    for (const [id, createdAt] of seen) if (createdAt < floor) seen.delete(id);
    const left = deadline - now();
    if (left <= 0 || opts.signal.aborted) break;
    try {
      await sleep(Math.min(opts.intervalMs, left), undefined, { signal: opts.signal });
    } catch {
      break; // aborted (SIGINT)
    }
  }
}
