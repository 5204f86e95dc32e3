import { z } from 'zod';
import { applyStep } from '../../../../app/access-codes/lifecycle.ts';
import { recordActionAttempt } from '../../../../app/action-attempts.ts';
import { operateVirtualLock } from '../../../../app/virtual-locks.ts';
import { toSeamActionAttempt } from '../../../../domain/seam/action-attempt.ts';
import { getAccessCode } from '../../../../store/repos/access-codes.ts';
import { lockDevice } from '../../../device-lookup.ts';
import { invalidInput, notFound } from '../../../errors.ts';
import { defineRoute, WRITE_METHODS } from '../../../route.ts';
import { id } from '../../../schemas.ts';

export default defineRoute({
  path: '/locks/simulate/bluetooth_delete_code',
  methods: WRITE_METHODS,
  summary: 'Delete an offline code over Bluetooth, as a phone in range of the lock does (sandbox only)',
  sandboxOnly: true,
  input: z.strictObject({ device_id: id(), access_code_id: id() }),
  responseKeys: ['action_attempt'],
  handler: async (ctx, input) => {
    const attempt = await ctx.store.db.transaction().execute(async (tx) => {
      const wsId = ctx.workspace.workspace_id;
      const device = await lockDevice(ctx, tx, input.device_id);
      const code = await getAccessCode(tx, wsId, input.access_code_id);
      if (!code || code.device_id !== device.device_id) {
        throw notFound('access_code', 'Access code not found on this device.', {
          access_code_id: input.access_code_id,
        });
      }
      if (!code.is_offline || code.code === null) {
        throw invalidInput(
          'Only offline codes with a PIN are deleted over Bluetooth; use /access_codes/delete.',
        );
      }
      const pin = code.code;
      // The phone tells the lock when the code would have ended, so the revocation can expire then.
      await operateVirtualLock(ctx.services, tx, device.device_id, ctx.now, (lock) =>
        lock.deletePin(pin, ctx.now, { untilMs: code.ends_at }),
      );
      await applyStep(tx, device, code, 'removed', ctx.now, ctx.now);
      return recordActionAttempt(
        tx,
        device,
        'DELETE_ACCESS_CODE',
        { status: 'success', result: {} },
        ctx.now,
      );
    });
    return { action_attempt: toSeamActionAttempt(attempt) };
  },
});
