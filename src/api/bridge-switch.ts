import { z } from 'zod';
import { setBridgeConnectivity } from '../app/bridges.ts';
import { toSeamDevice } from '../domain/seam/device.ts';
import { lockDevice } from './device-lookup.ts';
import { invalidInput } from './errors.ts';
import { defineRoute, WRITE_METHODS } from './route.ts';
import { id } from './schemas.ts';

/** `/devices/simulate/connect` and `/disconnect`: the same route but for the bridge's new state. */
export function bridgeSwitchRoute(online: boolean) {
  const what = online ? 'connect' : 'disconnect';
  return defineRoute({
    path: `/devices/simulate/${what}`,
    methods: WRITE_METHODS,
    summary: online
      ? 'Bring a virtual lock’s bridge back on-line: waiting programming completes (sandbox only)'
      : 'Take a virtual lock’s bridge off-line: programming waits until it reconnects (sandbox only)',
    sandboxOnly: true,
    input: z.strictObject({ device_id: id() }),
    responseKeys: ['device'],
    handler: async (ctx, input) => {
      const device = await ctx.store.db.transaction().execute(async (tx) => {
        const d = await lockDevice(ctx, tx, input.device_id);
        if (!d.has_bridge) throw invalidInput(`This lock has no bridge to ${what}.`);
        await setBridgeConnectivity(tx, d, online, ctx.now);
        return { ...d, bridge_online: online };
      });
      // What waited for the bridge happens now, as a real bridge catches up when it reconnects.
      if (online) await ctx.services.runDueJobs();
      return { device: toSeamDevice(device) };
    },
  });
}
