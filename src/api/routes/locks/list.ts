import { z } from 'zod';
import { toSeamDevice } from '../../../domain/seam/device.ts';
import { listDevices } from '../../../store/repos/devices.ts';
import { deviceFilterFields, toDeviceFilters } from '../../device-filters.ts';
import { defineRoute, READ_METHODS } from '../../route.ts';
import { limit } from '../../schemas.ts';

/** Not paginated in Seam: returns up to `limit` locks under both `devices` and `locks`. */
export default defineRoute({
  path: '/locks/list',
  methods: READ_METHODS,
  summary: 'List locks (returns `devices` and `locks`)',
  input: z.strictObject({ ...deviceFilterFields, limit: limit(10_000) }),
  responseKeys: ['devices', 'locks'],
  handler: async (ctx, input) => {
    const page = await listDevices(ctx.store.db, ctx.workspace.workspace_id, toDeviceFilters(input), {
      limit: input.limit,
    });
    const devices = page.items.map(toSeamDevice);
    return { devices, locks: devices };
  },
});
