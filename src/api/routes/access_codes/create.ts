import { z } from 'zod';
import { createOfflineAccessCode } from '../../../app/access-codes/create-offline.ts';
import { createOnlineAccessCode } from '../../../app/access-codes/online.ts';
import { toSeamAccessCode } from '../../../domain/seam/access-code.ts';
import { toSeamActionAttempt } from '../../../domain/seam/action-attempt.ts';
import { countAccessCodesCreated } from '../../../metrics/registry.ts';
import { lockDevice } from '../../device-lookup.ts';
import { ApiError, invalidInput } from '../../errors.ts';
import { defineRoute, WRITE_METHODS } from '../../route.ts';
import { id, instant } from '../../schemas.ts';

export default defineRoute({
  path: '/access_codes/create',
  methods: WRITE_METHODS,
  summary:
    'Create an access code (offline algoPIN codes: hourly-bound, daily-bound, one-time-use, permanent)',
  input: z.strictObject({
    device_id: id(),
    name: z.string().max(200).optional(),
    code: z.string().regex(/^\d+$/, 'must be digits only').min(4).max(12).optional(),
    starts_at: instant().optional(),
    ends_at: instant().optional(),
    is_offline_access_code: z.boolean().optional(),
    use_offline_access_code: z.boolean().optional().describe('Deprecated alias of is_offline_access_code.'),
    is_one_time_use: z.boolean().optional(),
    max_time_rounding: z
      .enum(['1hour', '1h', '1day', '1d'])
      .optional()
      .describe('The largest shift of starts_at/ends_at to whole hours (or days) you accept; default 1hour.'),
    common_code_key: z.string().min(1).optional(),
    prefer_native_scheduling: z.boolean().optional(),
    use_backup_access_code_pool: z.boolean().optional(),
    allow_external_modification: z.boolean().optional(),
    is_external_modification_allowed: z.boolean().optional(),
    preferred_code_length: z.number().int().min(4).max(12).optional(),
    attempt_for_offline_device: z.boolean().optional(),
    sync: z.boolean().optional(),
  }),
  responseKeys: ['access_code', 'action_attempt'],
  handler: async (ctx, input) => {
    const offline = input.is_offline_access_code ?? input.use_offline_access_code ?? false;
    if (offline && input.code !== undefined) {
      throw new ApiError(
        400,
        'cannot_specify_offline_code',
        'Offline access codes are algoPINs computed from the lock’s key: leave out `code`; the PIN is in the response.',
      );
    }
    if (offline && input.common_code_key !== undefined) {
      throw invalidInput('common_code_key applies to online codes only.');
    }
    if (!offline && (input.is_one_time_use || input.max_time_rounding !== undefined)) {
      throw invalidInput(
        'is_one_time_use and max_time_rounding apply to offline codes (is_offline_access_code: true).',
      );
    }
    const { code, attempt } = await ctx.store.db.transaction().execute(async (tx) => {
      const device = await lockDevice(ctx, tx, input.device_id);
      if (!offline) {
        const { name, code, starts_at, ends_at, common_code_key } = input;
        return createOnlineAccessCode(
          tx,
          device,
          { name, code, starts_at, ends_at, common_code_key },
          ctx.now,
        );
      }
      return createOfflineAccessCode(
        ctx.services,
        tx,
        device,
        {
          name: input.name,
          starts_at: input.starts_at,
          ends_at: input.ends_at,
          is_one_time_use: input.is_one_time_use ?? false,
          max_time_rounding: input.max_time_rounding,
        },
        ctx.now,
      );
    });
    countAccessCodesCreated([code]); // committed
    return { access_code: toSeamAccessCode(code), action_attempt: toSeamActionAttempt(attempt) };
  },
});
