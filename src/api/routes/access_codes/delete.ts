import { z } from 'zod';
import { deleteOnlineAccessCode } from '../../../app/access-codes/online.ts';
import { toSeamActionAttempt } from '../../../domain/seam/action-attempt.ts';
import { findAccessCode } from '../../access-code-lookup.ts';
import { lockDevice } from '../../device-lookup.ts';
import { ApiError } from '../../errors.ts';
import { defineRoute } from '../../route.ts';
import { id } from '../../schemas.ts';

export default defineRoute({
  path: '/access_codes/delete',
  methods: ['POST', 'DELETE'],
  summary: 'Delete an online access code (offline codes are deleted over Bluetooth, not through the API)',
  input: z.strictObject({ access_code_id: id(), device_id: id().optional(), sync: z.boolean().optional() }),
  responseKeys: ['action_attempt'],
  handler: async (ctx, input) => {
    const code = await findAccessCode(ctx, input.access_code_id);
    if (code.is_offline) {
      throw new ApiError(
        400,
        'cannot_delete_offline_access_code',
        'Offline access codes (algoPINs) cannot be deleted through the API: delete it over Bluetooth, within ' +
          'range of the lock (in a sandbox: POST /locks/simulate/bluetooth_delete_code).',
      );
    }
    const attempt = await ctx.store.db.transaction().execute(async (tx) => {
      const device = await lockDevice(ctx, tx, code.device_id);
      // Read again under the device lock: a bridge job may have moved it since.
      return deleteOnlineAccessCode(tx, device, await findAccessCode(ctx, code.access_code_id, tx), ctx.now);
    });
    return { action_attempt: toSeamActionAttempt(attempt) };
  },
});
