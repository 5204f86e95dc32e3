import { scheduleBridgeSync } from '../app/access-codes/online.ts';
import { recordEvents, stampAt } from '../app/events.ts';
import { operateVirtualLock } from '../app/virtual-locks.ts';
import { bridgeWork } from '../domain/access-codes/online.ts';
import type { AccessCodeRecord, AccessCodeWarning, DeviceRecord } from '../domain/records.ts';
import { HUB_DISCONNECTED } from '../domain/seam/device.ts';
import { accessCodeDelayEvent, accessCodeEvent, type SeamEvent } from '../domain/seam/events.ts';
import type { Db } from '../store/index.ts';
import { getAccessCodeById, markAccessCodeRemoved, updateAccessCode } from '../store/repos/access-codes.ts';
import { getDeviceForUpdate } from '../store/repos/devices.ts';
import { PARKED_RUN_AT } from '../store/repos/jobs.ts';
import type { JobContext, JobHandler } from './runner.ts';

const DELAY_WARNINGS = {
  program: {
    warning_code: 'delay_in_setting_on_device',
    message: 'The lock’s bridge is offline; the code will be programmed when it reconnects.',
    event: 'access_code.delay_in_setting_on_device',
  },
  remove: {
    warning_code: 'delay_in_removing_from_device',
    message: 'The lock’s bridge is offline; the code will be removed when it reconnects.',
    event: 'access_code.delay_in_removing_from_device',
  },
} as const;

const isDelay = (w: AccessCodeWarning) =>
  w.warning_code === DELAY_WARNINGS.program.warning_code ||
  w.warning_code === DELAY_WARNINGS.remove.warning_code;

/**
 * Makes the lock hold what the server wants for one online code (see `bridgeWork`): program it at its
 * start, swap the PIN after an update, take it off at its end or on deletion. Through the bridge only: when
 * the bridge is off-line the job parks (warning + `delay_in_…` event, once) and is woken, in order with the
 * device's other waiting jobs, when the bridge reconnects. Idempotent: a repeated job finds nothing to do.
 */
export const runBridgeSync: JobHandler = async (job, ctx) => {
  const { access_code_id } = job.payload as { access_code_id: string };
  await ctx.store.db.transaction().execute(async (tx) => {
    const found = await getAccessCodeById(tx, access_code_id);
    if (!found || found.removed_at !== null) return;
    // Lock the device row first, as every API change to its codes does, then read the code again: without
    // it, a delete committed while this job programs the PIN leaves a removed code on the lock.
    const device = await getDeviceForUpdate(tx, ctx.store.dialect, found.workspace_id, found.device_id);
    if (!device) return;
    const code = await getAccessCodeById(tx, access_code_id);
    if (!code || code.removed_at !== null) return;
    // Act at the instant the job came due, as the lifecycle jobs do: a clock jump (sandbox time travel) then
    // replays a skipped start and end in order, at their true instants. A woken parked job is due now.
    const at = Math.min(job.run_at, ctx.now);
    const work = bridgeWork(code, at);
    const events: SeamEvent[] = [];
    if (work.remove !== null || work.program !== null) {
      if (!device.bridge_online) {
        await park(tx, device, code, work.program !== null ? 'program' : 'remove', ctx.now);
        return;
      }
      await operateVirtualLock(ctx.services, tx, device.device_id, ctx.now, (lock) => {
        if (work.remove !== null) lock.removeOnlineCode(work.remove, at);
        if (work.program !== null) lock.programOnlineCode(work.program, at);
      });
      code.programmed_code = work.program ?? (work.remove !== null ? null : code.programmed_code);
      if (work.program !== null)
        events.push(accessCodeEvent(stampAt(ctx.now, at), 'access_code.set_on_device', device, code));
    }
    const wasOnLock = work.remove !== null;
    if (work.finished) {
      await updateAccessCode(tx, code.access_code_id, { programmed_code: null });
      if (await markAccessCodeRemoved(tx, code.access_code_id, at)) {
        if (wasOnLock)
          events.push(accessCodeEvent(stampAt(ctx.now, at), 'access_code.removed_from_device', device, code));
        events.push(accessCodeEvent(stampAt(ctx.now, at), 'access_code.deleted', device, code));
      }
    } else {
      await updateAccessCode(tx, code.access_code_id, {
        programmed_code: code.programmed_code,
        status: code.programmed_code === null ? 'unset' : 'set',
        warnings: code.warnings.filter((w) => !isDelay(w)),
      });
      if (work.next_at !== null && work.next_at > at)
        await scheduleBridgeSync(tx, code, work.next_at, ctx.now);
    }
    await recordEvents(tx, events);
  });
};

/** Waits for the bridge: a parked copy of the job, and (once) the delay warning and event. */
async function park(
  tx: Db,
  device: DeviceRecord,
  code: AccessCodeRecord,
  what: keyof typeof DELAY_WARNINGS,
  now: JobContext['now'],
): Promise<void> {
  await scheduleBridgeSync(tx, code, PARKED_RUN_AT, now);
  const delay = DELAY_WARNINGS[what];
  // Waiting to be programmed is `setting`, waiting to be removed (ended, moved, deleted) is `removing`,
  // whatever the status was when the job came due (e.g. `unset` or `set`).
  const status = what === 'program' ? 'setting' : 'removing';
  if (code.warnings.some((w) => w.warning_code === delay.warning_code)) {
    if (code.status !== status) await updateAccessCode(tx, code.access_code_id, { status });
    return;
  }
  const warning = { warning_code: delay.warning_code, message: delay.message, created_at: now };
  await updateAccessCode(tx, code.access_code_id, {
    status,
    warnings: [...code.warnings.filter((w) => !isDelay(w)), warning],
  });
  await recordEvents(tx, [
    accessCodeDelayEvent(stampAt(now), delay.event, device, code, HUB_DISCONNECTED, {
      warning_code: delay.warning_code,
      message: delay.message,
    }),
  ]);
}
