import { z } from 'zod';
import { findAccessCode } from '../../access-code-lookup.ts';
import { ApiError } from '../../errors.ts';
import { defineRoute } from '../../route.ts';
import { id } from '../../schemas.ts';

export default defineRoute({
  path: '/access_codes/delete',
  methods: ['POST', 'DELETE'],
  summary: 'Delete an access code (offline codes are deleted over Bluetooth, not through the API)',
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
    throw new ApiError(
      501,
      'not_implemented',
      'Online access codes through the bridge are not available yet.',
    );
  },
});
