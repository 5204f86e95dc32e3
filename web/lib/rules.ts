// What the dashboard shows about igloohome's offline-code rules, computed with the server's own pure
// functions (planOfflineTimeFrame, slotOf, nearbySlotStarts, slotFullError, maxCodesError), bundled into the
// page: the kind a requested window becomes, its rounding, the slot it takes and whether that slot has room,
// and — when the request would fail — the exact error the server would answer. The input is what the public
// API lists (the device's live codes); the server keeps the last word (it also counts variances of codes
// deleted over Bluetooth, which the API no longer lists).

import { type CodeKind, KIND_LIMITS } from '../../src/algopin/spec.ts';
import {
  formatDuration,
  KIND_LABELS,
  type MaxTimeRounding,
  type OfflineTimeFrame,
  planOfflineTimeFrame,
} from '../../src/domain/access-codes/offline-time-frame.ts';
import { AccessCodeRuleError } from '../../src/domain/access-codes/rule-error.ts';
import {
  maxCodesError,
  NEARBY_SLOT_CANDIDATES,
  nearbySlotStarts,
  type SlotRef,
  slotFullError,
  slotOf,
} from '../../src/domain/access-codes/slots.ts';
import { MAX_ACTIVE_CODES } from '../../src/domain/seam/device.ts';
import { HOUR_MS } from '../../src/domain/time.ts';
import type { AccessCode } from '../types.ts';

export { formatDuration, KIND_LABELS, MAX_ACTIVE_CODES, type MaxTimeRounding, type SlotRef };

/** Slot capacities per kind, from the engine's limits: 3 hourly, 3 daily, 5 one-time, 3 permanent. */
export const CAPACITY: Readonly<Record<CodeKind, number>> = {
  hourly: KIND_LIMITS.hourly.maxVariance,
  daily: KIND_LIMITS.daily.maxVariance,
  one_time: KIND_LIMITS.one_time.maxVariance,
  permanent: KIND_LIMITS.permanent.maxVariance,
};

/**
 * The offline kind of a listed code (the Seam object does not name it): one-time-use, permanent (ongoing),
 * else hourly-bound up to the hourly maximum, daily-bound beyond. null for online codes.
 */
export function offlineKindOf(code: AccessCode): CodeKind | null {
  if (!code.is_offline_access_code) return null;
  if (code.is_one_time_use) return 'one_time';
  if (code.type === 'ongoing' || code.ends_at === null || code.starts_at === null) return 'permanent';
  const hours = (Date.parse(code.ends_at) - Date.parse(code.starts_at)) / HOUR_MS;
  return hours <= KIND_LIMITS.hourly.duration!.max ? 'hourly' : 'daily';
}

/** "hourly-bound", "one-time-use", …, or "online". */
export function kindLabelOf(code: AccessCode): string {
  const kind = offlineKindOf(code);
  return kind === null ? 'online' : KIND_LABELS[kind];
}

/** The slot a listed offline code occupies (null for online codes). */
export function slotOfCode(code: AccessCode, timeZone: string | null): SlotRef | null {
  const kind = offlineKindOf(code);
  if (kind === null || code.starts_at === null) return null;
  return slotOf({ kind, starts_at: Date.parse(code.starts_at) }, timeZone);
}

/** slot_key → how many listed codes occupy it. */
export function slotOccupancy(codes: readonly AccessCode[], timeZone: string | null): Map<string, number> {
  const used = new Map<string, number>();
  for (const code of codes) {
    const slot = slotOfCode(code, timeZone);
    if (slot !== null) used.set(slot.slot_key, (used.get(slot.slot_key) ?? 0) + 1);
  }
  return used;
}

export interface CodeDraft {
  /** ms, or undefined when the field is empty. */
  starts_at?: number | undefined;
  ends_at?: number | undefined;
  is_one_time_use: boolean;
  max_time_rounding: MaxTimeRounding;
}

export interface PredictedError {
  status: number;
  type: string;
  message: string;
  data?: Record<string, unknown> | undefined;
}

export interface CodePreview {
  /** The code the request makes; when only the rounding is refused, the code "1d" would make. */
  frame: OfflineTimeFrame | null;
  kind_label: string | null;
  /** "20 min", or "0 s" when nothing moved. */
  rounding: string | null;
  /** The rounding exceeds an hour: the server accepts it only with max_time_rounding "1d". */
  needs_1d: boolean;
  slot: SlotRef | null;
  /** Codes already in that slot. */
  slot_used: number;
  /** What the server would answer instead of creating the code, or null when it would succeed. */
  error: PredictedError | null;
}

function asPredicted(error: unknown): PredictedError {
  if (error instanceof AccessCodeRuleError) {
    return { status: error.status, type: error.type, message: error.message, data: error.data };
  }
  if (error instanceof RangeError) return { status: 400, type: 'invalid_input', message: error.message };
  throw error;
}

/**
 * What `/access_codes/create` with `is_offline_access_code: true` would do with this draft on a device with
 * these live codes at `now`, checked in the server's order: time frame, 199-code cap, slot.
 */
export function previewOfflineCode(
  draft: CodeDraft,
  context: { now: number; timeZone: string | null; codes: readonly AccessCode[] },
): CodePreview {
  const { now, timeZone, codes } = context;
  const request = { ...draft, now };
  let frame: OfflineTimeFrame | null = null;
  let error: PredictedError | null = null;
  try {
    frame = planOfflineTimeFrame(request);
  } catch (thrown) {
    error = asPredicted(thrown);
    // Refused only for its rounding: show the code "1d" would give, so the user sees why.
    if (error.type === 'max_time_rounding_exceeded') {
      try {
        frame = planOfflineTimeFrame({ ...request, max_time_rounding: '1d' });
      } catch {
        frame = null;
      }
    }
  }
  const preview: CodePreview = {
    frame,
    kind_label: frame === null ? null : KIND_LABELS[frame.kind],
    rounding: frame === null ? null : formatDuration(frame.rounding_ms),
    needs_1d: frame !== null && frame.rounding_ms > HOUR_MS,
    slot: null,
    slot_used: 0,
    error,
  };
  if (frame === null) return preview;
  let slot: SlotRef;
  try {
    slot = slotOf(frame, timeZone);
  } catch (thrown) {
    return { ...preview, error: preview.error ?? asPredicted(thrown) };
  }
  const used = slotOccupancy(codes, timeZone);
  preview.slot = slot;
  preview.slot_used = used.get(slot.slot_key) ?? 0;
  if (preview.error !== null) return preview;

  if (codes.length >= MAX_ACTIVE_CODES)
    return { ...preview, error: asPredicted(maxCodesError(codes.length)) };
  if (preview.slot_used >= slot.capacity) {
    const candidates = nearbySlotStarts(frame, { timeZone, now, count: NEARBY_SLOT_CANDIDATES });
    const full = slotFullError(
      slot,
      candidates.map((c) => ({
        starts_at: c.slot_starts_at,
        free_variances: c.capacity - (used.get(c.slot_key) ?? 0),
      })),
    );
    return { ...preview, error: asPredicted(full) };
  }
  return preview;
}

/** The slot a code of each kind starting at this instant would take (slotOf for every kind). */
export function slotsAt(startsAt: number, timeZone: string | null): Record<CodeKind, SlotRef> {
  return {
    hourly: slotOf({ kind: 'hourly', starts_at: startsAt }, timeZone),
    daily: slotOf({ kind: 'daily', starts_at: startsAt }, timeZone),
    one_time: slotOf({ kind: 'one_time', starts_at: startsAt }, timeZone),
    permanent: slotOf({ kind: 'permanent', starts_at: startsAt }, timeZone),
  };
}

/** How many digits the PIN of a kind has (10 hourly/daily, 8 one-time, 9 permanent). */
export const pinLengthOf = (kind: CodeKind): number => KIND_LIMITS[kind].pinLength;
