import type { JobHandler } from './runner.ts';

/** Every kind of durable job and the function that runs it. Later capabilities register theirs here. */
export const jobHandlers: Record<string, JobHandler> = {};
