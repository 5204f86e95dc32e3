import { z } from 'zod';
import { toSeamAccessCode } from '../../../domain/seam/access-code.ts';
import { findLiveCodeOnDevice } from '../../../store/repos/access-codes.ts';
import { findAccessCode } from '../../access-code-lookup.ts';
import { invalidInput, notFound } from '../../errors.ts';
import { defineRoute, READ_METHODS } from '../../route.ts';
import { id } from '../../schemas.ts';

export default defineRoute({
  path: '/access_codes/get',
  methods: READ_METHODS,
  summary: 'Get an access code by id, or by device_id and code',
  input: z.strictObject({
    access_code_id: id().optional(),
    device_id: id().optional(),
    code: z.string().min(1).optional(),
  }),
  responseKeys: ['access_code'],
  handler: async (ctx, input) => {
    if (input.access_code_id !== undefined) {
      return { access_code: toSeamAccessCode(await findAccessCode(ctx, input.access_code_id)) };
    }
    if (input.device_id === undefined || input.code === undefined) {
      throw invalidInput('Give access_code_id, or device_id and code.');
    }
    const code = await findLiveCodeOnDevice(
      ctx.store.db,
      ctx.workspace.workspace_id,
      input.device_id,
      input.code,
    );
    if (!code) throw notFound('access_code', 'Access code not found.', { device_id: input.device_id });
    return { access_code: toSeamAccessCode(code) };
  },
});
