import { z } from 'zod';
import { toSeamDevice } from '../../../domain/seam/device.ts';
import { listDevices } from '../../../store/repos/devices.ts';
import { deviceFilterFields, toDeviceFilters } from '../../device-filters.ts';
import { paginationOf } from '../../pagination.ts';
import { defineRoute, READ_METHODS } from '../../route.ts';
import { limit, pageCursor } from '../../schemas.ts';

export default defineRoute({
  path: '/devices/list',
  methods: READ_METHODS,
  summary: 'List devices, filtered and paginated',
  input: z.strictObject({ ...deviceFilterFields, limit: limit(500), page_cursor: pageCursor() }),
  responseKeys: ['devices', 'pagination'],
  handler: async (ctx, input) => {
    const page = await listDevices(ctx.store.db, ctx.workspace.workspace_id, toDeviceFilters(input), {
      limit: input.limit,
      pageCursor: input.page_cursor,
    });
    return { devices: page.items.map(toSeamDevice), pagination: paginationOf(page, ctx) };
  },
});
