import { z } from 'zod';
import { createVirtualLock } from '../../../../app/devices.ts';
import { toSeamDevice } from '../../../../domain/seam/device.ts';
import { getConnectedAccount, listConnectedAccounts } from '../../../../store/repos/connected-accounts.ts';
import { notFound } from '../../../errors.ts';
import { defineRoute, WRITE_METHODS } from '../../../route.ts';
import { id, timeZone } from '../../../schemas.ts';

export default defineRoute({
  path: '/devices/simulate/create',
  methods: WRITE_METHODS,
  summary: 'Add a virtual igloohome lock (sandbox only)',
  sandboxOnly: true,
  input: z.strictObject({
    name: z.string().trim().min(1).max(100),
    has_bridge: z.boolean().default(false).describe('Give the lock an igloohome bridge (online codes).'),
    time_zone: timeZone().optional().describe('IANA time zone of the lock; daily-bound slots follow it.'),
    connected_account_id: id().optional().describe('Defaults to the workspace’s first igloohome account.'),
  }),
  responseKeys: ['device'],
  handler: async (ctx, input) => {
    const wsId = ctx.workspace.workspace_id;
    const account = input.connected_account_id
      ? await getConnectedAccount(ctx.store.db, wsId, input.connected_account_id)
      : ((await listConnectedAccounts(ctx.store.db, wsId, { limit: 1 })).items[0] ?? null);
    if (!account) throw notFound('connected_account', 'Connected account not found.');
    const device = await ctx.store.db.transaction().execute((tx) =>
      createVirtualLock(ctx.services, tx, {
        workspace_id: wsId,
        connected_account_id: account.connected_account_id,
        name: input.name,
        has_bridge: input.has_bridge,
        time_zone: input.time_zone,
        now: ctx.now,
      }),
    );
    return { device: toSeamDevice(device) };
  },
});
