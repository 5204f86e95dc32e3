import type { PinParams } from '../../algopin/index.ts';
import type { AccessCodeRecord } from '../../domain/records.ts';
import { DAY_MS, HOUR_MS } from '../../domain/time.ts';
import type { Db } from '../../store/index.ts';
import { enqueueJob } from '../../store/repos/jobs.ts';
import { uuidv7 } from '../ids.ts';

export const REMOTE_PIN_JOB = 'access_code.remote_pin';

export interface RemotePinPayload {
  access_code_id: string;
  action_attempt_id: string;
}

export async function scheduleRemotePin(
  tx: Db,
  code: AccessCodeRecord,
  actionAttemptId: string,
  now: number,
) {
  const payload: RemotePinPayload = {
    access_code_id: code.access_code_id,
    action_attempt_id: actionAttemptId,
  };
  await enqueueJob(tx, {
    job_id: uuidv7(),
    workspace_id: code.workspace_id,
    device_id: code.device_id,
    kind: REMOTE_PIN_JOB,
    payload,
    run_at: now,
    created_at: now,
  });
}

/** The algoPIN parameters an offline code was created with (its variance was allocated by Latchkey). */
export function pinParamsOf(code: AccessCodeRecord): PinParams {
  if (code.kind === 'online' || code.starts_at === null || code.variance === null) {
    throw new Error(`access code ${code.access_code_id} is not an offline code`);
  }
  const base = { kind: code.kind, startHour: Math.floor(code.starts_at / HOUR_MS), variance: code.variance };
  if (code.kind === 'hourly' && code.ends_at !== null) {
    return { ...base, durationHours: (code.ends_at - code.starts_at) / HOUR_MS };
  }
  if (code.kind === 'daily' && code.ends_at !== null) {
    return { ...base, durationDays: (code.ends_at - code.starts_at) / DAY_MS };
  }
  return base;
}
