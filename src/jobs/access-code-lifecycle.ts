import { applyStep, type LifecyclePayload } from '../app/access-codes/lifecycle.ts';
import { nextStep } from '../domain/access-codes/lifecycle.ts';
import { getAccessCodeById } from '../store/repos/access-codes.ts';
import { getDeviceForUpdate } from '../store/repos/devices.ts';
import type { JobHandler } from './runner.ts';

/**
 * One scheduled step of an access code's life. Steps run one job at a time, each at its own instant, so a
 * clock jump (sandbox time travel) replays them in order with their true `occurred_at`. A job that finds
 * the code removed, or already past its step (a duplicate after a crash), does nothing.
 */
export const runAccessCodeLifecycle: JobHandler = async (job, ctx) => {
  const payload = job.payload as LifecyclePayload;
  await ctx.store.db.transaction().execute(async (tx) => {
    const peek = await getAccessCodeById(tx, payload.access_code_id);
    if (!peek || peek.removed_at !== null) return;
    // Lock the device row first, as the API does, then read the code again: a Bluetooth delete racing this
    // step on another connection has either finished (the code is gone) or waits for us.
    const device = await getDeviceForUpdate(tx, ctx.store.dialect, peek.workspace_id, peek.device_id);
    const code = await getAccessCodeById(tx, payload.access_code_id);
    if (!device || !code || code.removed_at !== null) return;
    const current = code.status === 'removing' ? 'set' : code.status;
    const due = nextStep(code, current);
    if (!due || due.step !== payload.step) return;
    await applyStep(tx, device, code, due.step, due.at, ctx.now);
  });
};
