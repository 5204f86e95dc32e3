// What `/access_codes/create` will make of a request, worked out locally before anything is sent: the
// same parameter validation, the same checks in the same order and the same pure rules the server uses
// (planOfflineTimeFrame / planOnlineTimeFrame), so the preview names the kind, the rounded window the lock
// will enforce, the rounding, whether max_time_rounding "1d" is needed — or the exact error the server
// would answer. What needs the server's data (the device, slot occupancy, the 199-code budget) is not
// known here; the server still has the last word.

import { z } from 'zod';
import type { CodeKind } from '../../algopin/spec.ts';
import { instant } from '../../api/schemas.ts';
import {
  formatDuration,
  KIND_LABELS,
  type MaxTimeRounding,
  type OfflineTimeFrame,
  planOfflineTimeFrame,
} from '../../domain/access-codes/offline-time-frame.ts';
import { checkOnlineCode, planOnlineTimeFrame } from '../../domain/access-codes/online.ts';
import { AccessCodeRuleError } from '../../domain/access-codes/rule-error.ts';
import { HOUR_MS, isoUtc } from '../../domain/time.ts';

export interface CodeRequest {
  device_id: string;
  name?: string | undefined;
  starts_at?: string | undefined;
  ends_at?: string | undefined;
  one_time?: boolean | undefined;
  online?: boolean | undefined;
  code?: string | undefined;
  max_time_rounding?: string | undefined;
}

export interface PreviewError {
  status: number;
  type: string;
  message: string;
  data?: unknown;
}

export interface CodePreview {
  valid: boolean;
  /** 'online', or the offline kind. */
  kind: CodeKind | 'online' | null;
  kind_label: string | null;
  type: 'time_bound' | 'ongoing' | null;
  /** Rounded (offline) or as given (online): what the lock will enforce. */
  starts_at: string | null;
  ends_at: string | null;
  duration: string | null;
  rounding_ms: number | null;
  rounding: string | null;
  /** The setting the request carries (offline; default 1h). */
  max_time_rounding: string | null;
  /** True when the rounding exceeds 1 h: only `--max-time-rounding 1d` lets the server accept it. */
  needs_max_time_rounding_1d: boolean;
  /** The warnings the created code will carry. */
  expected_warnings: string[];
  /** The clock the preview used (this machine's; a sandbox whose clock was advanced is ahead of it). */
  checked_at: string;
  error: PreviewError | null;
}

/** The body `/access_codes/create` receives for this request. */
export function createBody(req: CodeRequest): Record<string, unknown> {
  return {
    device_id: req.device_id,
    name: req.name,
    starts_at: req.starts_at,
    ends_at: req.ends_at,
    code: req.code,
    max_time_rounding: req.max_time_rounding,
    ...(req.online ? {} : { is_offline_access_code: true }),
    ...(req.one_time ? { is_one_time_use: true } : {}),
  };
}

// The parameters the preview reads, validated by the same zod pieces as the route (messages included).
const paramsSchema = z.object({
  code: z.string().regex(/^\d+$/, 'must be digits only').min(4).max(12).optional(),
  starts_at: instant().optional(),
  ends_at: instant().optional(),
  max_time_rounding: z.enum(['1hour', '1h', '1day', '1d']).optional(),
});

export function previewCode(req: CodeRequest, now: number): CodePreview {
  const base: CodePreview = {
    valid: false,
    kind: null,
    kind_label: null,
    type: null,
    starts_at: null,
    ends_at: null,
    duration: null,
    rounding_ms: null,
    rounding: null,
    max_time_rounding: req.online ? null : (req.max_time_rounding ?? '1h'),
    needs_max_time_rounding_1d: false,
    expected_warnings: [],
    checked_at: isoUtc(now),
    error: null,
  };
  const fail = (error: PreviewError): CodePreview => ({ ...base, error });

  const parsed = paramsSchema.safeParse({
    code: req.code,
    starts_at: req.starts_at,
    ends_at: req.ends_at,
    max_time_rounding: req.max_time_rounding,
  });
  if (!parsed.success) {
    const issues = parsed.error.issues;
    const describe = (i: (typeof issues)[number]) =>
      i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message;
    const message =
      issues.length === 1 && issues[0]
        ? describe(issues[0])
        : `${issues.length} Input Errors: ${issues.map(describe).join(', ')}`;
    return fail({ status: 400, type: 'invalid_input', message });
  }
  const params = parsed.data;

  // The route's own checks, in its order.
  if (!req.online && params.code !== undefined) {
    return fail({
      status: 400,
      type: 'cannot_specify_offline_code',
      message:
        'Offline access codes are algoPINs computed from the lock’s key: leave out `code`; the PIN is in the response.',
    });
  }
  if (req.online && (req.one_time || params.max_time_rounding !== undefined)) {
    return fail({
      status: 400,
      type: 'invalid_input',
      message: 'is_one_time_use and max_time_rounding apply to offline codes (is_offline_access_code: true).',
    });
  }

  try {
    if (req.online) {
      const frame = planOnlineTimeFrame({ starts_at: params.starts_at, ends_at: params.ends_at, now });
      if (params.code !== undefined) checkOnlineCode(params.code);
      return {
        ...base,
        valid: true,
        kind: 'online',
        kind_label: 'online (programmed through the bridge)',
        type: frame.type,
        starts_at: frame.starts_at === null ? null : isoUtc(frame.starts_at),
        ends_at: frame.ends_at === null ? null : isoUtc(frame.ends_at),
        duration:
          frame.starts_at === null || frame.ends_at === null
            ? null
            : formatDuration(frame.ends_at - frame.starts_at),
        rounding_ms: 0,
        rounding: 'none (online codes keep the instants as given)',
      };
    }
    const setting = params.max_time_rounding;
    const plan = (maxTimeRounding: MaxTimeRounding | undefined) =>
      planOfflineTimeFrame({
        starts_at: params.starts_at,
        ends_at: params.ends_at,
        is_one_time_use: req.one_time ?? false,
        max_time_rounding: maxTimeRounding,
        now,
      });
    let frame: OfflineTimeFrame;
    try {
      frame = plan(setting);
    } catch (error) {
      // Would "1d" have been enough? Then say so next to the server's error.
      if (error instanceof AccessCodeRuleError && error.type === 'max_time_rounding_exceeded') {
        try {
          const withDay = plan('1d');
          return {
            ...describeOffline(base, withDay),
            valid: false,
            needs_max_time_rounding_1d: true,
            error: ruleError(error),
          };
        } catch {
          // The error stands on its own.
        }
      }
      throw error;
    }
    return {
      ...describeOffline(base, frame),
      valid: true,
      needs_max_time_rounding_1d: frame.rounding_ms > HOUR_MS,
    };
  } catch (error) {
    if (error instanceof AccessCodeRuleError) return fail(ruleError(error));
    throw error;
  }
}

function describeOffline(base: CodePreview, frame: OfflineTimeFrame): CodePreview {
  const duration =
    frame.kind === 'daily'
      ? `${frame.durationDays} days`
      : frame.kind === 'permanent'
        ? null
        : `${frame.durationHours} h`;
  return {
    ...base,
    kind: frame.kind,
    kind_label: KIND_LABELS[frame.kind],
    type: frame.type,
    starts_at: isoUtc(frame.starts_at),
    ends_at: frame.ends_at === null ? null : isoUtc(frame.ends_at),
    duration,
    rounding_ms: frame.rounding_ms,
    rounding: frame.rounding_ms === 0 ? 'none' : formatDuration(frame.rounding_ms),
    expected_warnings: frame.longer_than_24_hours ? ['igloo_algopin_must_be_used_within_24_hours'] : [],
  };
}

function ruleError(error: AccessCodeRuleError): PreviewError {
  return {
    status: error.status,
    type: error.type,
    message: error.message,
    ...(error.data === undefined ? {} : { data: error.data }),
  };
}
