import type { ActionAttemptRecord, DeviceRecord } from '../domain/records.ts';
import type { Db } from '../store/index.ts';
import { insertActionAttempt } from '../store/repos/action-attempts.ts';
import { uuidv7 } from './ids.ts';

/**
 * Records an action attempt on a device: `success` with its result, or `pending` (result null) when the outcome
 * comes later (a remote code server).
 */
export async function recordActionAttempt(
  tx: Db,
  device: Pick<DeviceRecord, 'workspace_id' | 'device_id'>,
  action_type: string,
  outcome: { status: 'success'; result: Record<string, unknown> } | { status: 'pending' },
  now: number,
): Promise<ActionAttemptRecord> {
  const attempt: ActionAttemptRecord = {
    action_attempt_id: uuidv7(),
    workspace_id: device.workspace_id,
    device_id: device.device_id,
    action_type,
    status: outcome.status,
    result: outcome.status === 'success' ? outcome.result : null,
    error: null,
    created_at: now,
    updated_at: now,
  };
  await insertActionAttempt(tx, attempt);
  return attempt;
}
