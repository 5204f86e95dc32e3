import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call } from '../api.ts';
import { workspaceNow } from '../lib/clock.ts';
import { formatInstant } from '../lib/format.ts';
import type { AccessCode, SeamEvent } from '../types.ts';

const POLL_MS = 3000;
const SHOWN = 60;
const LOOK_BACK_MS = 24 * 3_600_000;

interface Props {
  deviceId: string;
  codes: readonly AccessCode[];
  /** Bumped by the page after an action, to poll at once instead of waiting. */
  refreshKey: number;
  /** Called when events arrived (the codes may have changed). */
  onNewEvents: (events: SeamEvent[]) => void;
}

/** The device's events since a day ago (workspace clock), newest first, polled every few seconds. */
export function EventsFeed({ deviceId, codes, refreshKey, onNewEvents }: Props) {
  const [events, setEvents] = useState<SeamEvent[]>([]);
  const [error, setError] = useState<ApiError | null>(null);
  const since = useRef(new Date(workspaceNow() - LOOK_BACK_MS).toISOString());
  const seen = useRef(new Set<string>());
  const notify = useRef(onNewEvents);
  notify.current = onNewEvents;
  const inFlight = useRef<Promise<void> | null>(null);

  const poll = () => {
    // One request at a time; a refresh asked for meanwhile runs after it.
    const run = async () => {
      try {
        const answer = await call<{ events: SeamEvent[] }>('/events/list', {
          device_id: deviceId,
          since: since.current,
          limit: 500,
        });
        setError(null);
        const fresh = answer.events.filter((e) => !seen.current.has(e.event_id));
        if (fresh.length === 0) return;
        for (const e of fresh) seen.current.add(e.event_id);
        // Oldest first from the API; `since` is inclusive, so the last instant is asked again (deduplicated).
        since.current = answer.events[answer.events.length - 1]?.created_at ?? since.current;
        setEvents((old) => [...fresh.reverse(), ...old].slice(0, SHOWN));
        notify.current(fresh);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        setError(e);
      }
    };
    inFlight.current = (inFlight.current ?? Promise.resolve()).then(run);
    return inFlight.current;
  };

  useEffect(() => {
    void poll();
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => clearInterval(timer);
  }, [deviceId]);
  useEffect(() => {
    if (refreshKey > 0) void poll();
  }, [refreshKey]);

  const nameOf = (id: string | undefined) =>
    id === undefined ? undefined : (codes.find((c) => c.access_code_id === id)?.name ?? undefined);

  return (
    <section class="panel events" aria-labelledby="events-title">
      <h2 id="events-title">Events</h2>
      {error === null ? null : (
        <p class="notice error">
          Could not load events: <code>{error.type}</code> {error.message}
        </p>
      )}
      {events.length === 0 ? (
        <p class="muted">No events in the last day.</p>
      ) : (
        <ol class="event-list" aria-label="Events, newest first">
          {events.map((e) => (
            <li
              key={e.event_id}
              class={`event ev-${e.event_type.replace('.', '-')}`}
              data-event-type={e.event_type}
            >
              <span class="event-type">{e.event_type}</span>
              <span class="event-time">{formatInstant(e.occurred_at)}</span>
              <span class="event-detail">
                {describe(e)}
                {nameOf(e.access_code_id) ? ` · ${nameOf(e.access_code_id)}` : ''}
              </span>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function describe(e: SeamEvent): string {
  if (e.event_type === 'lock.access_denied') return `refused: ${e.reason?.reason_code ?? 'unknown'}`;
  if (e.event_type === 'lock.unlocked') return `unlocked by ${e.method ?? 'keypad'}`;
  return e.event_description ?? '';
}
