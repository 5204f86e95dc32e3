import type { ActionAttemptRecord } from '../records.ts';

/** The Seam `action_attempt` object: `result` and `error` are null unless the status says otherwise. */
export function toSeamActionAttempt(a: ActionAttemptRecord) {
  return {
    action_attempt_id: a.action_attempt_id,
    action_type: a.action_type,
    status: a.status,
    result: a.status === 'success' ? (a.result ?? {}) : null,
    error:
      a.status === 'error' ? (a.error ?? { type: 'uncategorized_error', message: 'Unknown error' }) : null,
  };
}
