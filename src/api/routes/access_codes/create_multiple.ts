import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { createOnlineAccessCode, generateFreeCode } from '../../../app/access-codes/online.ts';
import { AccessCodeRuleError } from '../../../domain/access-codes/rule-error.ts';
import { toSeamAccessCode } from '../../../domain/seam/access-code.ts';
import { countAccessCodesCreated } from '../../../metrics/registry.ts';
import { findLiveCodeOnDevice } from '../../../store/repos/access-codes.ts';
import { lockDevice } from '../../device-lookup.ts';
import { defineRoute } from '../../route.ts';
import { id, instant } from '../../schemas.ts';

/** Online only, as the Seam reference has it: one code (same PIN, one common_code_key) on several locks. */
export default defineRoute({
  path: '/access_codes/create_multiple',
  methods: ['POST', 'PUT'],
  summary: 'Create the same online code on several devices, linked by a common_code_key',
  input: z.strictObject({
    device_ids: z.array(id()).min(1).max(100),
    behavior_when_code_cannot_be_shared: z.enum(['throw', 'create_random_code']).default('throw'),
    name: z.string().max(200).optional(),
    code: z.string().regex(/^\d+$/, 'must be digits only').min(4).max(12).optional(),
    starts_at: instant().optional(),
    ends_at: instant().optional(),
    prefer_native_scheduling: z.boolean().optional(),
    use_backup_access_code_pool: z.boolean().optional(),
    allow_external_modification: z.boolean().optional(),
    is_external_modification_allowed: z.boolean().optional(),
    preferred_code_length: z.number().int().min(4).max(12).optional(),
    attempt_for_offline_device: z.boolean().optional(),
  }),
  responseKeys: ['access_codes'],
  handler: async (ctx, input) => {
    const deviceIds = [...new Set(input.device_ids)];
    const codes = await ctx.store.db.transaction().execute(async (tx) => {
      // Lock in a fixed order, so two overlapping requests cannot deadlock.
      const devices = [];
      for (const deviceId of [...deviceIds].sort()) devices.push(await lockDevice(ctx, tx, deviceId));
      // …but create (and answer) in the order asked.
      devices.sort((a, b) => deviceIds.indexOf(a.device_id) - deviceIds.indexOf(b.device_id));
      const shared = input.code ?? (await generateFreeCode(tx, deviceIds));
      const common_code_key = randomUUID();
      const created = [];
      for (const device of devices) {
        let pin = shared;
        if (await findLiveCodeOnDevice(tx, device.workspace_id, device.device_id, pin)) {
          if (input.behavior_when_code_cannot_be_shared === 'throw') {
            throw new AccessCodeRuleError(
              409,
              'duplicate_access_code',
              `The code is already in use on device ${device.device_id}.`,
              {
                device_id: device.device_id,
              },
            );
          }
          pin = await generateFreeCode(tx, [device.device_id]);
        }
        const { name, starts_at, ends_at } = input;
        created.push(
          (
            await createOnlineAccessCode(
              tx,
              device,
              { name, code: pin, starts_at, ends_at, common_code_key },
              ctx.now,
            )
          ).code,
        );
      }
      return created;
    });
    countAccessCodesCreated(codes); // committed
    return { access_codes: codes.map(toSeamAccessCode) };
  },
});
