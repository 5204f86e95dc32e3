import { z } from 'zod';
import { operateVirtualLock } from '../../../../app/virtual-locks.ts';
import { isoUtc } from '../../../../domain/time.ts';
import { lockDevice } from '../../../device-lookup.ts';
import { defineRoute, WRITE_METHODS } from '../../../route.ts';
import { duration, id } from '../../../schemas.ts';

const ONE_YEAR_MS = 366 * 24 * 3_600_000;

export default defineRoute({
  path: '/locks/simulate/set_clock_drift',
  methods: WRITE_METHODS,
  summary: 'Make a virtual lock’s clock run ahead (+) or behind (−) the workspace clock (sandbox only)',
  sandboxOnly: true,
  input: z.strictObject({
    device_id: id(),
    drift: duration().refine((ms) => Math.abs(ms) <= ONE_YEAR_MS, 'must be within one year either way'),
  }),
  responseKeys: ['virtual_lock'],
  handler: async (ctx, input) => {
    const lockTime = await ctx.store.db.transaction().execute(async (tx) => {
      const device = await lockDevice(ctx, tx, input.device_id);
      return operateVirtualLock(ctx.services, tx, device.device_id, ctx.now, (lock) => {
        lock.setClockDrift(input.drift, ctx.now);
        return lock.lockTime(ctx.now);
      });
    });
    return {
      virtual_lock: { device_id: input.device_id, clock_drift_ms: input.drift, lock_time: isoUtc(lockTime) },
    };
  },
});
