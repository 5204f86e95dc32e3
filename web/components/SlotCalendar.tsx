import { useState } from 'preact/hooks';
import type { CodeKind } from '../../src/algopin/spec.ts';
import {
  DAY,
  formatDay,
  formatInstant,
  HOUR,
  parseUtcInput,
  toUtcInput,
  utcDayStart,
} from '../lib/format.ts';
import { CAPACITY, KIND_LABELS, type SlotRef, slotOccupancy, slotsAt } from '../lib/rules.ts';
import type { AccessCode } from '../types.ts';

const HOURS = Array.from({ length: 24 }, (_, h) => h);
const DAYS = Array.from({ length: 7 }, (_, d) => d);
/** The kinds counted per UTC start hour, with the short names the cells use. */
const HOURLY_KINDS: readonly { kind: Exclude<CodeKind, 'daily'>; short: string }[] = [
  { kind: 'hourly', short: 'H' },
  { kind: 'one_time', short: '1×' },
  { kind: 'permanent', short: 'P' },
];

interface Props {
  codes: readonly AccessCode[];
  timeZone: string | null;
  now: number;
  /** The slot the create form's draft would take: outlined. */
  highlight: SlotRef | null;
  colorOf: (id: string) => number;
  /** A click on an hour: the form's starts_at moves there. */
  onPickHour: (hourStart: number) => void;
}

/**
 * A week of slots from a chosen day: one column per UTC day, one row per UTC start hour (the unit the lock
 * counts), each cell showing hourly-bound, one-time-use and permanent occupancy against 3 / 5 / 3, and a row
 * of daily-bound occupancy per lock-local day against 3. Full slots are marked; each code's window is drawn
 * as a bar in its colour.
 */
export function SlotCalendar({ codes, timeZone, now, highlight, colorOf, onPickHour }: Props) {
  const [weekStart, setWeekStart] = useState(() => utcDayStart(now));
  const used = slotOccupancy(codes, timeZone);
  const weekEnd = weekStart + 7 * DAY;
  const visible = codes.filter(
    (c) =>
      c.starts_at !== null &&
      Date.parse(c.starts_at) < weekEnd &&
      (c.ends_at === null || Date.parse(c.ends_at) > weekStart),
  );

  return (
    <section class="calendar" aria-labelledby="calendar-title">
      <div class="section-head">
        <h2 id="calendar-title">Slot calendar</h2>
        <div class="calendar-controls">
          <button type="button" class="small" onClick={() => setWeekStart(weekStart - 7 * DAY)}>
            ← Week
          </button>
          <label>
            Week from{' '}
            <input
              type="date"
              value={toUtcInput(weekStart).slice(0, 10)}
              onInput={(e) => {
                const ms = parseUtcInput(`${e.currentTarget.value}T00:00`);
                if (ms !== undefined) setWeekStart(ms);
              }}
            />
          </label>
          <button type="button" class="small" onClick={() => setWeekStart(weekStart + 7 * DAY)}>
            Week →
          </button>
          <button type="button" class="small" onClick={() => setWeekStart(utcDayStart(now))}>
            Today
          </button>
        </div>
      </div>
      <p class="muted legend-text">
        Hours in UTC (the lock counts whole UTC hours). Per start hour: <b>H</b> hourly-bound of{' '}
        {CAPACITY.hourly}, <b>1×</b> one-time-use of {CAPACITY.one_time}, <b>P</b> permanent of{' '}
        {CAPACITY.permanent}; daily-bound per local day ({timeZone ?? 'UTC'}) of {CAPACITY.daily}. Click an
        hour to start a new code there.
      </p>
      <div class="cal-grid">
        <div class="cal-corner" />
        {DAYS.map((d) => (
          <div key={d} class="cal-dayhead">
            {formatDay(weekStart + d * DAY)}
          </div>
        ))}

        <div class="cal-rowhead">daily</div>
        {DAYS.map((d) => {
          const slot = slotsAt(weekStart + d * DAY + 12 * HOUR, timeZone).daily;
          const count = used.get(slot.slot_key) ?? 0;
          const full = count >= slot.capacity;
          const date = slot.slot_key.slice('daily:'.length);
          return (
            <div
              key={d}
              class={`cal-daily${full ? ' full' : ''}${highlight?.slot_key === slot.slot_key ? ' preview' : ''}`}
              data-slot={slot.slot_key}
              data-full={full ? 'daily' : undefined}
              title={`daily-bound codes starting on ${date} (${timeZone ?? 'UTC'}): ${count} of ${slot.capacity}`}
            >
              <span class="sr-only">daily-bound codes starting on </span>
              <span class="muted">{date}</span> {count}/{slot.capacity}
              {full ? <span class="full-tag">full</span> : null}
            </div>
          );
        })}

        <div class="cal-hours" aria-hidden="true">
          {HOURS.map((h) => (
            <div key={h} class="cal-hour">
              {String(h).padStart(2, '0')}:00
            </div>
          ))}
        </div>
        {DAYS.map((d) => {
          const dayStart = weekStart + d * DAY;
          return (
            <div key={d} class="cal-day">
              {HOURS.map((h) => {
                const hourStart = dayStart + h * HOUR;
                const slots = slotsAt(hourStart, timeZone);
                const counts = HOURLY_KINDS.map(({ kind, short }) => {
                  const slot = slots[kind];
                  const count = used.get(slot.slot_key) ?? 0;
                  return { kind, short, slot, count, full: count >= slot.capacity };
                });
                const full = counts.filter((c) => c.full);
                const isPreview = counts.some((c) => c.slot.slot_key === highlight?.slot_key);
                const label =
                  `${formatInstant(hourStart)}: ` +
                  counts
                    .map(
                      (c) =>
                        `${KIND_LABELS[c.kind]} ${c.count} of ${c.slot.capacity}${c.full ? ' (full)' : ''}`,
                    )
                    .join(', ');
                return (
                  <button
                    key={h}
                    type="button"
                    tabIndex={-1}
                    class={`cal-cell${full.length > 0 ? ' full' : ''}${isPreview ? ' preview' : ''}${hourStart + HOUR <= now ? ' past' : ''}`}
                    data-hour={new Date(hourStart).toISOString()}
                    data-full={full.length > 0 ? full.map((c) => c.kind).join(' ') : undefined}
                    aria-label={label}
                    title={label}
                    onClick={() => onPickHour(hourStart)}
                  >
                    {counts
                      .filter((c) => c.count > 0)
                      .map((c) => (
                        <span key={c.kind} class={`occ occ-${c.kind}${c.full ? ' occ-full' : ''}`}>
                          {c.short} {c.count}/{c.slot.capacity}
                        </span>
                      ))}
                  </button>
                );
              })}
              {visible.map((code, lane) => {
                const start = Math.max(Date.parse(code.starts_at as string), dayStart);
                const end = Math.min(
                  code.ends_at === null ? Number.POSITIVE_INFINITY : Date.parse(code.ends_at),
                  dayStart + DAY,
                );
                if (end <= start) return null;
                return (
                  <div
                    key={code.access_code_id}
                    class={`cal-bar c${colorOf(code.access_code_id)}`}
                    data-code-window={code.access_code_id}
                    aria-hidden="true"
                    style={{
                      top: `${((start - dayStart) / DAY) * 100}%`,
                      height: `${((end - start) / DAY) * 100}%`,
                      right: `${2 + (lane % 8) * 5}px`,
                    }}
                  />
                );
              })}
              {now >= dayStart && now < dayStart + DAY ? (
                <div
                  class="cal-now"
                  style={{ top: `${((now - dayStart) / DAY) * 100}%` }}
                  aria-hidden="true"
                />
              ) : null}
            </div>
          );
        })}
      </div>
      {visible.length > 0 ? (
        <ul class="cal-legend" aria-label="Code windows this week">
          {visible.map((code) => (
            <li key={code.access_code_id}>
              <span class={`swatch c${colorOf(code.access_code_id)}`} aria-hidden="true" />
              {code.name ?? '(unnamed)'}
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted">No code windows this week.</p>
      )}
    </section>
  );
}
