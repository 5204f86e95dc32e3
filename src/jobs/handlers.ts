import { LIFECYCLE_JOB } from '../app/access-codes/lifecycle.ts';
import { BRIDGE_SYNC_JOB } from '../app/access-codes/online.ts';
import { runAccessCodeLifecycle } from './access-code-lifecycle.ts';
import { runBridgeSync } from './bridge-sync.ts';
import type { JobHandler } from './runner.ts';

/** Every kind of durable job and the function that runs it. */
export const jobHandlers: Record<string, JobHandler> = {
  [LIFECYCLE_JOB]: runAccessCodeLifecycle,
  [BRIDGE_SYNC_JOB]: runBridgeSync,
};
