import { pinParamsOf, type RemotePinPayload } from '../app/access-codes/remote-pin.ts';
import { recordEvents, stampAt } from '../app/events.ts';
import { RemoteRejectedError } from '../codeserver/remote.ts';
import { toSeamAccessCode } from '../domain/seam/access-code.ts';
import { accessCodeEvent, accessCodeFailedToSet } from '../domain/seam/events.ts';
import { getAccessCodeById, updateAccessCode } from '../store/repos/access-codes.ts';
import { finishActionAttempt } from '../store/repos/action-attempts.ts';
import { getDevice } from '../store/repos/devices.ts';
import type { JobHandler } from './runner.ts';

/**
 * Asks a remote code server for an offline code's PIN (Latchkey chose the variance). Success fills in the
 * code and completes the CREATE_ACCESS_CODE attempt; a refusal fails both with the server's message
 * (`provider_issue`); anything transient (network, 5xx, expired credentials) throws, and the job runner retries
 * with backoff.
 */
export const runRemotePin: JobHandler = async (job, ctx) => {
  const { access_code_id, action_attempt_id } = job.payload as RemotePinPayload;
  const { store, providers } = ctx.services;
  const code = await getAccessCodeById(store.db, access_code_id);
  if (!code || code.removed_at !== null || code.code !== null) return;
  const device = await getDevice(store.db, code.workspace_id, code.device_id);
  if (!device) return;
  const remote = await providers.remoteFor(store.db, device.connected_account_id);
  let outcome: { pin: string } | { refused: string };
  try {
    outcome = remote
      ? await remote.requestPin({ device, params: pinParamsOf(code), accessName: code.name ?? 'Latchkey' })
      : { pin: (await providers.builtin.issueOfflinePin(store.db, device, pinParamsOf(code))) ?? '' };
  } catch (error) {
    if (!(error instanceof RemoteRejectedError)) throw error;
    outcome = { refused: error.message };
  }
  await store.db.transaction().execute(async (tx) => {
    const now = ctx.now;
    if ('pin' in outcome) {
      const filled = { ...code, code: outcome.pin };
      await updateAccessCode(tx, code.access_code_id, { code: outcome.pin });
      await finishActionAttempt(
        tx,
        action_attempt_id,
        { status: 'success', result: { access_code: toSeamAccessCode(filled) }, error: null },
        now,
      );
      if (filled.status === 'set') {
        await recordEvents(tx, [accessCodeEvent(stampAt(now), 'access_code.set_on_device', device, filled)]);
      }
      return;
    }
    const issue = { error_code: 'provider_issue', message: `The code server refused: ${outcome.refused}` };
    await updateAccessCode(tx, code.access_code_id, {
      errors: [...code.errors, { ...issue, created_at: now }],
    });
    await finishActionAttempt(
      tx,
      action_attempt_id,
      { status: 'error', result: null, error: { type: 'provider_issue', message: issue.message } },
      now,
    );
    await recordEvents(tx, [accessCodeFailedToSet(stampAt(now), device, code, issue)]);
  });
};
