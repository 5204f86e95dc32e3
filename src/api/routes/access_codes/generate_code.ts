import { z } from 'zod';
import { generateFreeCode, requireBridge } from '../../../app/access-codes/online.ts';
import { findDevice } from '../../device-lookup.ts';
import { defineRoute, READ_METHODS } from '../../route.ts';
import { id } from '../../schemas.ts';

export default defineRoute({
  path: '/access_codes/generate_code',
  methods: READ_METHODS,
  summary: 'Suggest a PIN for an online code on a device (free on that lock right now)',
  input: z.strictObject({ device_id: id() }),
  responseKeys: ['generated_code'],
  handler: async (ctx, input) => {
    const device = await findDevice(ctx, input);
    requireBridge(device);
    return {
      generated_code: {
        device_id: device.device_id,
        code: await generateFreeCode(ctx.store.db, [device.device_id]),
      },
    };
  },
});
