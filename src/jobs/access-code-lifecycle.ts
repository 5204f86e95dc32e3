import { applyStep, type LifecyclePayload } from '../app/access-codes/lifecycle.ts';
import { nextStep } from '../domain/access-codes/lifecycle.ts';
import { getAccessCodeById } from '../store/repos/access-codes.ts';
import { getDevice } from '../store/repos/devices.ts';
import type { JobHandler } from './runner.ts';

/**
 * One scheduled step of an access code's life. Steps run one job at a time, each at its own instant, so a
 * clock jump (sandbox time travel) replays them in order with their true `occurred_at`. A job that finds
 * the code removed, or already past its step (a duplicate after a crash), does nothing.
 */
export const runAccessCodeLifecycle: JobHandler = async (job, ctx) => {
  const payload = job.payload as LifecyclePayload;
  await ctx.store.db.transaction().execute(async (tx) => {
    const code = await getAccessCodeById(tx, payload.access_code_id);
    if (!code || code.removed_at !== null) return;
    const current = code.status === 'removing' ? 'set' : code.status;
    const due = nextStep(code, current);
    if (!due || due.step !== payload.step) return;
    const device = await getDevice(tx, code.workspace_id, code.device_id);
    if (!device) return;
    await applyStep(tx, device, code, due.step, due.at, ctx.now);
  });
};
