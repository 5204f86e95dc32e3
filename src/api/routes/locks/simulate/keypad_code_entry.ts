import { z } from 'zod';
import { applyStep } from '../../../../app/access-codes/lifecycle.ts';
import { recordActionAttempt } from '../../../../app/action-attempts.ts';
import { recordEvents, stampAt } from '../../../../app/events.ts';
import { operateVirtualLock } from '../../../../app/virtual-locks.ts';
import { toSeamActionAttempt } from '../../../../domain/seam/action-attempt.ts';
import { lockAccessDenied, lockUnlockedByKeypad } from '../../../../domain/seam/events.ts';
import { findLatestCodeOnDevice } from '../../../../store/repos/access-codes.ts';
import { lockDevice } from '../../../device-lookup.ts';
import { defineRoute, WRITE_METHODS } from '../../../route.ts';
import { id } from '../../../schemas.ts';

const DENIAL_MESSAGES = {
  unknown_code: 'The lock does not recognise this PIN.',
  expired_code:
    'The PIN is outside its time window (or its 24-hour activation window passed, or it was used once).',
  blocklisted_code: 'The PIN was deleted from the lock.',
  too_many_attempts: 'The keypad is locked after too many wrong PINs.',
} as const;

export default defineRoute({
  path: '/locks/simulate/keypad_code_entry',
  methods: WRITE_METHODS,
  summary: 'Type a PIN on a virtual lock’s keypad: the lock decides offline (sandbox only)',
  sandboxOnly: true,
  input: z.strictObject({ device_id: id(), code: z.string().regex(/^\d{1,16}$/, 'must be 1 to 16 digits') }),
  responseKeys: ['action_attempt'],
  handler: async (ctx, input) => {
    const attempt = await ctx.store.db.transaction().execute(async (tx) => {
      const device = await lockDevice(ctx, tx, input.device_id);
      // The lock alone decides, from its key, clock and memory; the server never tells it which codes exist.
      const outcome = await operateVirtualLock(ctx.services, tx, device.device_id, ctx.now, (lock) =>
        lock.enterPin(input.code, ctx.now),
      );
      // Afterwards the server reads the lock's log entry, as a synced access log would, to name the code.
      const code = await findLatestCodeOnDevice(tx, device.device_id, input.code);
      const record = await recordActionAttempt(
        tx,
        device,
        'SIMULATE_KEYPAD_CODE_ENTRY',
        {
          status: 'success',
          result: outcome.accepted
            ? { accepted: true }
            : { accepted: false, reason_code: outcome.reason_code, detail: outcome.detail },
        },
        ctx.now,
      );
      const reason = outcome.reason_code ?? 'unknown_code';
      await recordEvents(tx, [
        outcome.accepted
          ? lockUnlockedByKeypad(stampAt(ctx.now), device, code, record.action_attempt_id)
          : lockAccessDenied(stampAt(ctx.now), device, reason, DENIAL_MESSAGES[reason], code),
      ]);
      // A lock with its bridge on-line syncs its access log: a used one-time code is then reported used and
      // removed (the lock will not open for it again anyway).
      if (
        outcome.accepted &&
        code?.is_one_time_use &&
        code.removed_at === null &&
        device.has_bridge &&
        device.bridge_online
      ) {
        await applyStep(tx, device, code, 'removed', ctx.now, ctx.now);
      }
      return record;
    });
    return { action_attempt: toSeamActionAttempt(attempt) };
  },
});
