import type { AccessCodeRecord } from '../records.ts';

// The life of an offline code on the server side (contract §4): `unset` until 60 minutes before its start,
// `setting` until its start, `set` until its end, then removed. Each step is a scheduled transition (a
// durable job at the step's instant), never a rescan of every code.

export const SETTING_LEAD_MS = 60 * 60_000;

export type LifecycleStep = 'unset' | 'setting' | 'set' | 'removed';

type Window = Pick<AccessCodeRecord, 'starts_at' | 'ends_at'>;

/** Where a code stands at instant `t`. */
export function stepAt(code: Window, t: number): LifecycleStep {
  const starts = code.starts_at ?? Number.NEGATIVE_INFINITY;
  if (t < starts - SETTING_LEAD_MS) return 'unset';
  if (t < starts) return 'setting';
  if (code.ends_at === null || t < code.ends_at) return 'set';
  return 'removed';
}

/** The next step after `from`, and when it happens; null when the code stays as it is (a permanent code). */
export function nextStep(code: Window, from: LifecycleStep): { step: LifecycleStep; at: number } | null {
  switch (from) {
    case 'unset':
      return code.starts_at === null ? null : { step: 'setting', at: code.starts_at - SETTING_LEAD_MS };
    case 'setting':
      return code.starts_at === null ? null : { step: 'set', at: code.starts_at };
    case 'set':
      return code.ends_at === null ? null : { step: 'removed', at: code.ends_at };
    case 'removed':
      return null;
  }
}
