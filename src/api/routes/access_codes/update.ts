import { z } from 'zod';
import { updateOnlineAccessCode } from '../../../app/access-codes/online.ts';
import { toSeamActionAttempt } from '../../../domain/seam/action-attempt.ts';
import { findAccessCode } from '../../access-code-lookup.ts';
import { lockDevice } from '../../device-lookup.ts';
import { ApiError } from '../../errors.ts';
import { defineRoute } from '../../route.ts';
import { id, instant } from '../../schemas.ts';

export default defineRoute({
  path: '/access_codes/update',
  methods: ['POST', 'PATCH', 'PUT'],
  summary: 'Update an online access code (name, code, time frame); offline codes cannot be updated',
  input: z.strictObject({
    access_code_id: id(),
    device_id: id().optional(),
    name: z.string().max(200).optional(),
    code: z.string().regex(/^\d+$/, 'must be digits only').min(4).max(12).optional(),
    starts_at: instant().optional(),
    ends_at: instant().optional(),
    type: z.enum(['ongoing', 'time_bound']).optional(),
    is_managed: z.boolean().optional(),
    is_offline_access_code: z.boolean().optional(),
    use_offline_access_code: z.boolean().optional(),
    is_one_time_use: z.boolean().optional(),
    max_time_rounding: z.enum(['1hour', '1h', '1day', '1d']).optional(),
    prefer_native_scheduling: z.boolean().optional(),
    use_backup_access_code_pool: z.boolean().optional(),
    allow_external_modification: z.boolean().optional(),
    is_external_modification_allowed: z.boolean().optional(),
    preferred_code_length: z.number().int().min(4).max(12).optional(),
    attempt_for_offline_device: z.boolean().optional(),
    sync: z.boolean().optional(),
  }),
  responseKeys: ['action_attempt'],
  handler: async (ctx, input) => {
    const code = await findAccessCode(ctx, input.access_code_id);
    if (code.is_offline) {
      throw new ApiError(
        400,
        'cannot_update_offline_access_code',
        'Offline access codes (algoPINs) cannot be modified: the PIN encodes its time frame. Create a new code instead.',
      );
    }
    const attempt = await ctx.store.db.transaction().execute(async (tx) => {
      const device = await lockDevice(ctx, tx, code.device_id);
      // Read again under the device lock: a bridge job may have moved it since.
      const fresh = await findAccessCode(ctx, code.access_code_id, tx);
      const { name, starts_at, ends_at, type } = input;
      return updateOnlineAccessCode(
        tx,
        device,
        fresh,
        { name, code: input.code, starts_at, ends_at, type },
        ctx.now,
      );
    });
    return { action_attempt: toSeamActionAttempt(attempt) };
  },
});
