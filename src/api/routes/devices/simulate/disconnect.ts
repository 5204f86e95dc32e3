import { z } from 'zod';
import { setBridgeConnectivity } from '../../../../app/bridges.ts';
import { toSeamDevice } from '../../../../domain/seam/device.ts';
import { lockDevice } from '../../../device-lookup.ts';
import { invalidInput } from '../../../errors.ts';
import { defineRoute, WRITE_METHODS } from '../../../route.ts';
import { id } from '../../../schemas.ts';

export default defineRoute({
  path: '/devices/simulate/disconnect',
  methods: WRITE_METHODS,
  summary: 'Take a virtual lock’s bridge off-line: programming waits until it reconnects (sandbox only)',
  sandboxOnly: true,
  input: z.strictObject({ device_id: id() }),
  responseKeys: ['device'],
  handler: async (ctx, input) => {
    const device = await ctx.store.db.transaction().execute(async (tx) => {
      const d = await lockDevice(ctx, tx, input.device_id);
      if (!d.has_bridge) throw invalidInput('This lock has no bridge to disconnect.');
      await setBridgeConnectivity(tx, d, false, ctx.now);
      return { ...d, bridge_online: false };
    });

    return { device: toSeamDevice(device) };
  },
});
