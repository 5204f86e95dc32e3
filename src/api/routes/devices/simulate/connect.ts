import { z } from 'zod';
import { setBridgeConnectivity } from '../../../../app/bridges.ts';
import { toSeamDevice } from '../../../../domain/seam/device.ts';
import { lockDevice } from '../../../device-lookup.ts';
import { invalidInput } from '../../../errors.ts';
import { defineRoute, WRITE_METHODS } from '../../../route.ts';
import { id } from '../../../schemas.ts';

export default defineRoute({
  path: '/devices/simulate/connect',
  methods: WRITE_METHODS,
  summary: 'Bring a virtual lock’s bridge back on-line: waiting programming completes (sandbox only)',
  sandboxOnly: true,
  input: z.strictObject({ device_id: id() }),
  responseKeys: ['device'],
  handler: async (ctx, input) => {
    const device = await ctx.store.db.transaction().execute(async (tx) => {
      const d = await lockDevice(ctx, tx, input.device_id);
      if (!d.has_bridge) throw invalidInput('This lock has no bridge to connect.');
      await setBridgeConnectivity(tx, d, true, ctx.now);
      return { ...d, bridge_online: true };
    });
    // What waited for the bridge happens now, as a real bridge would catch up on reconnection.
    await ctx.services.runDueJobs();
    return { device: toSeamDevice(device) };
  },
});
