import { type LifecycleStep, nextStep } from '../../domain/access-codes/lifecycle.ts';
import type { AccessCodeRecord, DeviceRecord } from '../../domain/records.ts';
import { type AccessCodeEventType, accessCodeEvent, type SeamEvent } from '../../domain/seam/events.ts';
import type { Db } from '../../store/index.ts';
import { markAccessCodeRemoved, setAccessCodeStatus } from '../../store/repos/access-codes.ts';
import { enqueueJob } from '../../store/repos/jobs.ts';
import { recordEvents, stampAt } from '../events.ts';
import { uuidv7 } from '../ids.ts';

export const LIFECYCLE_JOB = 'access_code.lifecycle';

export interface LifecyclePayload {
  access_code_id: string;
  /** The step this job performs; a job whose step no longer follows the code's state does nothing. */
  step: LifecycleStep;
}

/** Schedules the step that follows `from`, if any (a durable job at the step's instant). */
export async function scheduleNextStep(
  tx: Db,
  code: AccessCodeRecord,
  from: LifecycleStep,
  now: number,
): Promise<void> {
  const next = nextStep(code, from);
  if (!next) return;
  const payload: LifecyclePayload = { access_code_id: code.access_code_id, step: next.step };
  await enqueueJob(tx, {
    job_id: uuidv7(),
    workspace_id: code.workspace_id,
    kind: LIFECYCLE_JOB,
    payload,
    run_at: next.at,
    created_at: now,
  });
}

/** The events that reporting a step emits. */
const STEP_EVENTS: Record<LifecycleStep, AccessCodeEventType[]> = {
  unset: [],
  setting: [],
  set: ['access_code.set_on_device'],
  removed: ['access_code.removed_from_device', 'access_code.deleted'],
};

export function stepEvents(
  step: LifecycleStep,
  device: DeviceRecord,
  code: AccessCodeRecord,
  now: number,
  occurredAt: number,
): SeamEvent[] {
  // A code whose PIN a remote code server has not given yet reports set_on_device when the PIN arrives.
  return STEP_EVENTS[step]
    .filter((type) => type !== 'access_code.set_on_device' || code.code !== null)
    .map((type) => accessCodeEvent(stampAt(now, occurredAt), type, device, code));
}

/** Performs one step on a live code: its new status (or removal), its events, and the next step's job. */
export async function applyStep(
  tx: Db,
  device: DeviceRecord,
  code: AccessCodeRecord,
  step: LifecycleStep,
  occurredAt: number,
  now: number,
): Promise<void> {
  if (step === 'removed') {
    if (!(await markAccessCodeRemoved(tx, code.access_code_id, occurredAt))) return;
  } else {
    await setAccessCodeStatus(tx, code.access_code_id, step);
  }
  await recordEvents(tx, stepEvents(step, device, code, now, occurredAt));
  await scheduleNextStep(tx, code, step, now);
}
