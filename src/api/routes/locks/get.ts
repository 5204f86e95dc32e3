import { z } from 'zod';
import { toSeamDevice } from '../../../domain/seam/device.ts';
import { findDevice } from '../../device-lookup.ts';
import { defineRoute, READ_METHODS } from '../../route.ts';
import { id } from '../../schemas.ts';

/** Deprecated in Seam in favour of /devices/get; answers with the same object under both keys. */
export default defineRoute({
  path: '/locks/get',
  methods: READ_METHODS,
  summary: 'Get a lock by id or name (returns `device` and `lock`)',
  input: z.strictObject({ device_id: id().optional(), name: z.string().min(1).optional() }),
  responseKeys: ['device', 'lock'],
  handler: async (ctx, input) => {
    const device = toSeamDevice(await findDevice(ctx, input));
    return { device, lock: device };
  },
});
