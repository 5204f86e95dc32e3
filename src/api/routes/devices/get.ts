import { z } from 'zod';
import { toSeamDevice } from '../../../domain/seam/device.ts';
import { findDevice } from '../../device-lookup.ts';
import { defineRoute, READ_METHODS } from '../../route.ts';
import { id } from '../../schemas.ts';

export default defineRoute({
  path: '/devices/get',
  methods: READ_METHODS,
  summary: 'Get a device by id or name',
  input: z.strictObject({ device_id: id().optional(), name: z.string().min(1).optional() }),
  responseKeys: ['device'],
  handler: async (ctx, input) => ({ device: toSeamDevice(await findDevice(ctx, input)) }),
});
