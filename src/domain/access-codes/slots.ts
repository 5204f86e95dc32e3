// Which igloohome slot an offline code occupies, and what to tell a client whose slot is full.
// A slot is (kind, start hour) — or (daily, local calendar day) — on one device. Its capacity is the
// kind's variance count: each code in a slot needs its own variance to get a distinct PIN. The store
// counts occupancy (per device) and calls these; nothing here reads a clock or storage.

import { ACTIVATION_WINDOW_HOURS, type CodeKind, KIND_LIMITS } from '../../algopin/spec.ts';
import { MAX_ACTIVE_CODES } from '../seam/device.ts';
import { DAY_MS, HOUR_MS, isoUtc } from '../time.ts';
import { KIND_LABELS, type OfflineTimeFrame } from './offline-time-frame.ts';
import { AccessCodeRuleError } from './rule-error.ts';

export interface SlotRef {
  kind: CodeKind;
  /** Equal keys (on one device) share a slot: `hourly:<ISO hour>`, `daily:<YYYY-MM-DD>`, … */
  slot_key: string;
  /** The start hour (daily: the code's rounded start, not local midnight). */
  slot_starts_at: number;
  /** How many codes the slot holds: the kind's max variance. */
  capacity: number;
}

/**
 * The slot a code with this (rounded) start occupies. Hourly-bound, one-time-use and permanent codes
 * share a slot per UTC start hour; daily-bound codes per calendar day in the lock's time zone
 * (`location.time_zone`, UTC when null). An unknown IANA zone throws RangeError (from Intl).
 */
export function slotOf(
  frame: Pick<OfflineTimeFrame, 'kind' | 'starts_at'>,
  timeZone: string | null,
): SlotRef {
  const hour = Math.floor(frame.starts_at / HOUR_MS) * HOUR_MS;
  const where = frame.kind === 'daily' ? localDate(hour, timeZone ?? 'UTC') : isoUtc(hour);
  return {
    kind: frame.kind,
    slot_key: `${frame.kind}:${where}`,
    slot_starts_at: hour,
    capacity: KIND_LIMITS[frame.kind].maxVariance,
  };
}

const dateFormats = new Map<string, Intl.DateTimeFormat>();

/** YYYY-MM-DD of an instant in an IANA zone. Formatters are cached: building one is the slow part. */
function localDate(ms: number, timeZone: string): string {
  let format = dateFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    dateFormats.set(timeZone, format);
  }
  const parts = format.formatToParts(ms);
  const part = (type: string) => parts.find((p) => p.type === type)?.value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/** The variance a new code in a slot gets: the lowest of 1..capacity not taken, or null when full. */
export function lowestFreeVariance(capacity: number, taken: readonly number[]): number | null {
  for (let v = 1; v <= capacity; v++) if (!taken.includes(v)) return v;
  return null;
}

/** How many nearby starts a slot-full answer looks at for room (the dashboard's preview uses the same). */
export const NEARBY_SLOT_CANDIDATES = 6;

export interface NearbyOptions {
  timeZone: string | null;
  /** The workspace clock: candidates that would already be over are left out. */
  now: number;
  /** How many candidates to return (fewer only if the search bound is hit). */
  count: number;
}

/**
 * Alternative slots for a code whose own slot is full, nearest first, alternating later/earlier: ±1 h,
 * ±2 h, … (±1 day, ±2 days, … at the same UTC time for daily-bound). Same kind and same length, so the
 * client moves starts_at and ends_at by the same amount. Left out: earlier starts whose end is not in
 * the future or (codes > 24 h) whose activation window is over — they could never open the lock — and
 * for daily-bound, starts landing on a local day already listed (24 h across a DST change can).
 * Permanent codes always start at the current hour, so only later hours (when a retry lands) are offered.
 */
export function nearbySlotStarts(
  frame: Pick<OfflineTimeFrame, 'kind' | 'starts_at' | 'ends_at' | 'longer_than_24_hours'>,
  { timeZone, now, count }: NearbyOptions,
): SlotRef[] {
  const step = frame.kind === 'daily' ? DAY_MS : HOUR_MS;
  const length = frame.ends_at === null ? null : frame.ends_at - frame.starts_at;
  const usable = (start: number) =>
    (length === null || start + length > now) &&
    (!frame.longer_than_24_hours || start + ACTIVATION_WINDOW_HOURS * HOUR_MS > now);
  const seen = new Set([slotOf(frame, timeZone).slot_key]);
  const out: SlotRef[] = [];
  // Later starts are always usable, so count + a few DST duplicates is reached long before this bound.
  for (let k = 1; k <= 2 * count + 2 && out.length < count; k++) {
    const starts = [frame.starts_at + k * step];
    if (frame.kind !== 'permanent') starts.push(frame.starts_at - k * step);
    for (const start of starts) {
      if (out.length === count || !usable(start)) continue;
      const slot = slotOf({ kind: frame.kind, starts_at: start }, timeZone);
      if (seen.has(slot.slot_key)) continue;
      seen.add(slot.slot_key);
      out.push(slot);
    }
  }
  return out;
}

export interface FreeSlot {
  starts_at: number;
  free_variances: number;
}

/**
 * 409 `offline_code_slot_full`. `free` is what the store found for the nearbySlotStarts candidates,
 * nearest first; slots with no free variance are dropped from the answer.
 */
export function slotFullError(slot: SlotRef, free: readonly FreeSlot[]): AccessCodeRuleError {
  const label = KIND_LABELS[slot.kind];
  const open = free.filter((f) => f.free_variances > 0);
  const where =
    slot.kind === 'daily'
      ? `starting on ${slot.slot_key.slice('daily:'.length)} (the lock's local date)`
      : `starting at ${isoUtc(slot.slot_starts_at)}`;
  const per = slot.kind === 'daily' ? 'per calendar day' : 'per start hour';
  const nearest = open[0];
  const advice =
    nearest === undefined
      ? 'No nearby start has room either; choose a start further away.'
      : slot.kind === 'permanent'
        ? `Permanent codes start at the current hour; retry at or after ${isoUtc(nearest.starts_at)}.`
        : `The nearest start with room is ${isoUtc(nearest.starts_at)} (${nearest.free_variances} free); ` +
          'move starts_at there and ends_at by the same amount.';
  return new AccessCodeRuleError(
    409,
    'offline_code_slot_full',
    `This lock already has ${slot.capacity} ${label} offline codes ${where}, the most igloohome allows ` +
      `${per}. ${advice}`,
    {
      kind: slot.kind,
      slot_starts_at: isoUtc(slot.slot_starts_at),
      slot_key: slot.slot_key,
      capacity: slot.capacity,
      nearby_free_slots: open.map((f) => ({
        starts_at: isoUtc(f.starts_at),
        free_variances: f.free_variances,
      })),
    },
  );
}

/** 409 `max_access_codes_reached`: the lock's PIN memory (online and offline together) is full. */
export function maxCodesError(count: number, max: number = MAX_ACTIVE_CODES): AccessCodeRuleError {
  return new AccessCodeRuleError(
    409,
    'max_access_codes_reached',
    `This device already has ${count} live access codes, online and offline together; an igloohome lock ` +
      `holds at most ${max}. Delete an online code, or wait for a time-bound code to end, then retry.`,
    { active_access_code_count: count, max_active_access_code_count: max },
  );
}
