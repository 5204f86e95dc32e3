import { z } from 'zod';
import { toSeamAccessCode } from '../../../domain/seam/access-code.ts';
import { listAccessCodes } from '../../../store/repos/access-codes.ts';
import { findDevice } from '../../device-lookup.ts';
import { invalidInput } from '../../errors.ts';
import { paginationOf } from '../../pagination.ts';
import { defineRoute, READ_METHODS } from '../../route.ts';
import { id, limit, pageCursor } from '../../schemas.ts';

export default defineRoute({
  path: '/access_codes/list',
  methods: READ_METHODS,
  summary: 'List the live access codes of a device, or codes by id',
  input: z.strictObject({
    device_id: id().optional(),
    access_code_ids: z.array(id()).optional(),
    limit: limit(55_000),
    page_cursor: pageCursor(),
  }),
  responseKeys: ['access_codes', 'pagination'],
  handler: async (ctx, input) => {
    if (input.device_id === undefined && input.access_code_ids === undefined) {
      throw invalidInput('Give device_id or access_code_ids.');
    }
    if (input.device_id !== undefined) await findDevice(ctx, { device_id: input.device_id });
    const page = await listAccessCodes(
      ctx.store.db,
      ctx.workspace.workspace_id,
      { device_id: input.device_id, access_code_ids: input.access_code_ids },
      { limit: input.limit, pageCursor: input.page_cursor },
    );
    return { access_codes: page.items.map(toSeamAccessCode), pagination: paginationOf(page, ctx) };
  },
});
