import { z } from 'zod';
import { toSeamConnectedAccount } from '../../../domain/seam/connected-account.ts';
import { listConnectedAccounts } from '../../../store/repos/connected-accounts.ts';
import { paginationOf } from '../../pagination.ts';
import { defineRoute, READ_METHODS } from '../../route.ts';
import { limit, pageCursor } from '../../schemas.ts';

export default defineRoute({
  path: '/connected_accounts/list',
  methods: READ_METHODS,
  summary: 'List connected accounts',
  input: z.strictObject({ limit: limit(11_000), page_cursor: pageCursor() }),
  responseKeys: ['connected_accounts', 'pagination'],
  handler: async (ctx, input) => {
    const page = await listConnectedAccounts(ctx.store.db, ctx.workspace.workspace_id, {
      limit: input.limit,
      pageCursor: input.page_cursor,
    });
    return {
      connected_accounts: page.items.map(toSeamConnectedAccount),
      pagination: paginationOf(page, ctx),
    };
  },
});
