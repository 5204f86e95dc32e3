import { LIFECYCLE_JOB } from '../app/access-codes/lifecycle.ts';
import { BRIDGE_SYNC_JOB } from '../app/access-codes/online.ts';
import { REMOTE_PIN_JOB } from '../app/access-codes/remote-pin.ts';
import { WEBHOOK_DELIVERY_JOB } from '../app/webhooks.ts';
import { runAccessCodeLifecycle } from './access-code-lifecycle.ts';
import { runBridgeSync } from './bridge-sync.ts';
import { runRemotePin } from './remote-pin.ts';
import type { JobHandler } from './runner.ts';
import { deliverWebhook } from './webhook-delivery.ts';

/** Every kind of durable job and the function that runs it. */
export const jobHandlers: Record<string, JobHandler> = {
  [LIFECYCLE_JOB]: runAccessCodeLifecycle,
  [BRIDGE_SYNC_JOB]: runBridgeSync,
};

/** Jobs that call other servers: they run on their own runner. */
export const networkJobHandlers: Record<string, JobHandler> = {
  [WEBHOOK_DELIVERY_JOB]: deliverWebhook,
  [REMOTE_PIN_JOB]: runRemotePin,
};
