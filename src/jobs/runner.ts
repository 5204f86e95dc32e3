import type { Logger } from 'pino';
import type { Services } from '../app/services.ts';
import type { Store } from '../store/index.ts';
import {
  claimDueJobs,
  completeJob,
  failJob,
  type JobRecord,
  renewJobLease,
  workspaceClockOffset,
} from '../store/repos/jobs.ts';

export interface JobContext {
  services: Services;
  store: Store;
  /** The job's workspace clock at the moment it runs. */
  now: number;
}

export type JobHandler = (job: JobRecord, ctx: JobContext) => Promise<void>;

export interface JobRunnerOptions {
  services: Services;
  handlers: Record<string, JobHandler>;
  logger: Logger;
  /** Real-time source; tests may pin it. */
  realNow?: () => number;
  pollMs?: number;
  /** How long a claimed job stays ours before another process may take it over. */
  leaseMs?: number;
  batchSize?: number;
  maxAttempts?: number;
  /** Which job kinds this runner claims (default: all). Slow kinds get their own runner. */
  kinds?: { only?: readonly string[]; except?: readonly string[] };
}

/** Retry delay after the n-th failed attempt: 1 s doubling, at most an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(1000 * 2 ** (attempts - 1), 3_600_000);
}

/**
 * Runs durable jobs from the `jobs` table. Each pass claims due jobs (see `claimDueJobs`), runs their
 * handlers one by one in due order, and records the outcome. A job whose handler throws is retried with
 * backoff; an unknown kind or too many attempts marks it failed. Nothing is kept in memory between
 * passes: a restarted process picks up exactly where the table says.
 */
export class JobRunner {
  private readonly opts: Required<Omit<JobRunnerOptions, 'handlers' | 'services' | 'logger'>> &
    JobRunnerOptions;
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<number> | null = null;
  private stopped = false;

  constructor(options: JobRunnerOptions) {
    this.opts = {
      realNow: Date.now,
      pollMs: 250,
      leaseMs: 60_000,
      batchSize: 50,
      maxAttempts: 10,
      kinds: {},
      ...options,
    };
  }

  start(): void {
    this.stopped = false;
    const tick = async () => {
      if (this.stopped) return;
      try {
        await this.runDue();
      } catch (error) {
        this.opts.logger.error({ err: error }, 'job pass failed');
      }
      if (!this.stopped) this.timer = setTimeout(tick, this.opts.pollMs);
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.pass?.catch(() => undefined);
  }

  /** Runs every job due now, pass after pass, until none is left; returns how many ran. */
  async runDue(): Promise<number> {
    // One pass at a time per process; a caller arriving mid-pass waits for it and then runs its own.
    while (this.pass) await this.pass.catch(() => undefined);
    this.pass = this.drain();
    try {
      return await this.pass;
    } finally {
      this.pass = null;
    }
  }

  private async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const { realNow, leaseMs, batchSize } = this.opts;
      const { store } = this.opts.services;
      const claimedAt = realNow();
      const jobs = await claimDueJobs(
        store.db,
        store.dialect,
        claimedAt,
        leaseMs,
        batchSize,
        this.opts.kinds,
      );
      if (jobs.length === 0) return total;
      for (const job of jobs) {
        // The batch shares one lease, which may run out while earlier jobs run; by then another process
        // may have claimed this one. Take a fresh lease for the job itself, unless it is no longer ours.
        if (!(await renewJobLease(store.db, job.job_id, claimedAt + leaseMs, realNow() + leaseMs))) continue;
        await this.runOne(job);
        total += 1;
      }
    }
  }

  private async runOne(job: JobRecord): Promise<void> {
    const { services, handlers, logger, realNow, maxAttempts } = this.opts;
    const { store } = services;
    const handler = handlers[job.kind];
    const offset = await workspaceClockOffset(store.db, job.workspace_id);
    if (!handler) {
      await failJob(store.db, job.job_id, `no handler for job kind ${job.kind}`, null);
      logger.error({ job_id: job.job_id, kind: job.kind }, 'job failed: unknown kind');
      return;
    }
    try {
      await handler(job, { services, store, now: realNow() + offset });
      await completeJob(store.db, job.job_id);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const retryAt = job.attempts >= maxAttempts ? null : realNow() + offset + retryDelayMs(job.attempts);
      await failJob(store.db, job.job_id, message, retryAt);
      logger.warn({ job_id: job.job_id, kind: job.kind, attempts: job.attempts, err: message }, 'job failed');
    }
  }
}

/** Several runners (each with its own job kinds) started, stopped and drained together. */
export class JobRunnerGroup {
  constructor(readonly runners: readonly JobRunner[]) {}

  start(): void {
    for (const r of this.runners) r.start();
  }

  async stop(): Promise<void> {
    await Promise.all(this.runners.map((r) => r.stop()));
  }

  /** Runs everything due on every runner until nothing is left (jobs may schedule jobs for other runners). */
  async runDue(): Promise<number> {
    let total = 0;
    for (;;) {
      let ran = 0;
      for (const r of this.runners) ran += await r.runDue();
      total += ran;
      if (ran === 0) return total;
    }
  }
}
