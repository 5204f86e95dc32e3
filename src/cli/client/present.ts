// How API objects look in the CLI's tables, and how errors are told to the person at the terminal.
// Objects stay as the server sent them for --json; these only pick and shape what a table shows.

import { formatRecord, formatTable } from '../output.ts';
import type { CodePreview } from './preview.ts';

// biome-ignore lint/suspicious/noExplicitAny: API objects are read field by field, as printed
export type ApiObject = Record<string, any>;

export function deviceRow(d: ApiObject) {
  const codes = (list: unknown) =>
    Array.isArray(list) && list.length > 0
      ? list.map((w: ApiObject) => w.warning_code ?? w.error_code).join(', ')
      : '';
  return {
    device_id: d.device_id,
    name: d.display_name ?? d.properties?.name,
    bridge: d.can_program_online_access_codes ? 'yes' : 'no',
    online: d.properties?.online ? 'yes' : 'no',
    time_zone: d.location?.time_zone ?? 'UTC',
    errors: codes(d.errors),
    warnings: codes(d.warnings),
  };
}

const HOURLY_MAX_MS = 672 * 3_600_000;

/** The igloohome kind of a code as the server reports it (online codes are just "online"). */
export function codeKind(c: ApiObject): string {
  if (!c.is_offline_access_code) return 'online';
  if (c.is_one_time_use) return 'one-time-use';
  if (c.type === 'ongoing') return 'permanent';
  const length = Date.parse(c.ends_at) - Date.parse(c.starts_at);
  return length > HOURLY_MAX_MS ? 'daily-bound' : 'hourly-bound';
}

const warningCodes = (c: ApiObject) =>
  Array.isArray(c.warnings) ? c.warnings.map((w: ApiObject) => w.warning_code).join(', ') : '';

export function codeRow(c: ApiObject) {
  return {
    access_code_id: c.access_code_id,
    name: c.name,
    pin: c.code,
    kind: codeKind(c),
    status: c.status,
    starts_at: c.starts_at,
    ends_at: c.ends_at,
    warnings: warningCodes(c),
  };
}

export function codeRecord(c: ApiObject) {
  return {
    access_code_id: c.access_code_id,
    device_id: c.device_id,
    name: c.name,
    pin: c.code,
    kind: codeKind(c),
    type: c.type,
    status: c.status,
    starts_at: c.starts_at,
    ends_at: c.ends_at,
    warnings: Array.isArray(c.warnings) ? c.warnings.map((w: ApiObject) => w.warning_code) : [],
    errors: Array.isArray(c.errors) ? c.errors.map((e: ApiObject) => e.error_code) : [],
  };
}

/** What each keypad refusal means (the words of the lock.access_denied event). */
export const DENIAL_REASONS: Readonly<Record<string, string>> = {
  unknown_code: 'The lock does not recognise this PIN.',
  expired_code:
    'The PIN is outside its time window (or its 24-hour activation window passed, or it was used once).',
  blocklisted_code: 'The PIN was deleted from the lock.',
  too_many_attempts: 'The keypad is locked after too many wrong PINs.',
};

/** A short description of what an event says beyond its type. */
export function eventDetail(e: ApiObject): string {
  const parts: string[] = [];
  if (e.reason?.reason_code) parts.push(`reason=${e.reason.reason_code}`);
  if (e.method) parts.push(`method=${e.method}`);
  if (e.code) parts.push(`code=${e.code}`);
  if (e.access_code_id) parts.push(`access_code=${e.access_code_id}`);
  return parts.join(' ');
}

export function eventRow(e: ApiObject) {
  return {
    occurred_at: e.occurred_at,
    event_type: e.event_type,
    device_id: e.device_id ?? '',
    detail: eventDetail(e),
    event_id: e.event_id,
  };
}

/** One line per event, for `events tail`. */
export function eventLine(e: ApiObject): string {
  return [e.occurred_at, e.event_type, e.device_id ? `device=${e.device_id}` : '', eventDetail(e)]
    .filter(Boolean)
    .join('  ');
}

export function previewText(p: CodePreview): string {
  const head = `preview (checked on this machine's clock, ${p.checked_at}; the server checks slots and the device):`;
  const verdict = p.error
    ? `the server will refuse it: ${p.error.type} (HTTP ${p.error.status})`
    : 'ok, the server should accept it';
  if (p.kind === null) return `${head}\n  verdict  ${verdict}`;
  const record: Record<string, unknown> = {
    kind: `${p.kind_label} (${p.type})`,
    starts_at: p.starts_at ?? '(none)',
    ends_at: p.ends_at ?? '(none)',
    duration: p.duration ?? (p.type === 'ongoing' ? 'no end' : '-'),
    rounding: p.rounding,
  };
  if (p.kind !== 'online') {
    record.max_time_rounding = p.needs_max_time_rounding_1d
      ? `1d needed (${p.rounding} exceeds 1 hour)${p.max_time_rounding?.startsWith('1d') ? ', given' : ': pass --max-time-rounding 1d'}`
      : `${p.max_time_rounding} (1 hour is enough)`;
  }
  if (p.expected_warnings.length > 0) record.warnings = p.expected_warnings;
  record.verdict = verdict;
  const lines = formatRecord(record)
    .split('\n')
    .map((l) => `  ${l}`);
  return [head, ...lines].join('\n');
}

/** The lines that follow an error's message: what its `data` tells a person (free slots, …). */
export function errorDataLines(type: string, data: unknown): string[] {
  if (data === undefined || data === null) return [];
  const d = data as ApiObject;
  if (type === 'offline_code_slot_full' && Array.isArray(d.nearby_free_slots)) {
    const head = `slot ${d.slot_key ?? d.slot_starts_at} is full (${d.capacity} codes).`;
    if (d.nearby_free_slots.length === 0) return [head, 'No nearby start has room.'];
    const table = formatTable(
      d.nearby_free_slots.map((s: ApiObject) => ({
        free_starts_at: s.starts_at,
        free_codes: s.free_variances,
      })),
    );
    return [head, 'Free slots nearby (move starts_at and ends_at by the same amount):', ...indent(table)];
  }
  if (type === 'max_time_rounding_exceeded') {
    const hourly = typeof d.max_time_rounding === 'string' && d.max_time_rounding.startsWith('1h');
    if (!hourly || typeof d.starts_at !== 'string' || typeof d.ends_at !== 'string') return [];
    return [`With --max-time-rounding 1d the code would run ${d.starts_at} to ${d.ends_at}.`];
  }
  if (type === 'invalid_input') return []; // its message already names every field
  return [`data: ${JSON.stringify(data)}`];
}

const indent = (text: string) => text.split('\n').map((l) => `  ${l}`);
