import { z } from 'zod';
import { toSeamConnectedAccount } from '../../../domain/seam/connected-account.ts';
import { getConnectedAccount, listConnectedAccounts } from '../../../store/repos/connected-accounts.ts';
import { invalidInput, notFound } from '../../errors.ts';
import { defineRoute, READ_METHODS } from '../../route.ts';
import { id } from '../../schemas.ts';

export default defineRoute({
  path: '/connected_accounts/get',
  methods: READ_METHODS,
  summary: 'Get a connected account by id or email',
  input: z.strictObject({ connected_account_id: id().optional(), email: z.string().min(1).optional() }),
  responseKeys: ['connected_account'],
  handler: async (ctx, input) => {
    const wsId = ctx.workspace.workspace_id;
    if (input.connected_account_id === undefined && input.email === undefined) {
      throw invalidInput('Either connected_account_id or email is required.');
    }
    // Sandbox accounts have no e-mail address; an email lookup matches the display name.
    const account =
      input.connected_account_id !== undefined
        ? await getConnectedAccount(ctx.store.db, wsId, input.connected_account_id)
        : ((await listConnectedAccounts(ctx.store.db, wsId, { limit: 100_000 })).items.find(
            (a) => a.display_name === input.email,
          ) ?? null);
    if (!account) throw notFound('connected_account', 'Connected account not found.');
    return { connected_account: toSeamConnectedAccount(account) };
  },
});
