import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Services } from '../app/services.ts';
import type { Store } from '../store/index.ts';
import {
  claimDueJobs,
  completeJobs,
  failJob,
  type JobRecord,
  releaseJobs,
  renewJobLeases,
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
  /**
   * How long a claim holds its jobs without renewing. The runner renews it every third of that while it works
   * through the batch, so this is how long a crashed process's jobs wait before another process takes them.
   */
  leaseMs?: number;
  batchSize?: number;
  /**
   * How many jobs of a batch run at once (default 1). Worth more than 1 on Postgres only, where a job mostly
   * waits on round trips and commits; jobs still start in due order, and each code's steps are a chain of jobs
   * (the next is written by the one before), so a code's steps never overlap.
   */
  concurrency?: number;
  /**
   * The runner yields to the event loop after a job once this many ms have passed since it last yielded
   * (default 5; 0: after every job). With SQLite's synchronous driver an API request waits at most about this
   * (and one job) for the runner; under a load that keeps the API busy, the runner still gets its share.
   */
  sliceMs?: number;
  /** Attempts before a job fails for good; a claim whose lease ran out (its process died) counts as one. */
  maxAttempts?: number;
  /** Which job kinds this runner claims (default: all). Slow kinds get their own runner. */
  kinds?: { only?: readonly string[]; except?: readonly string[] };
}

/** Retry delay after the n-th failed attempt: 1 s doubling, at most an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(1000 * 2 ** (attempts - 1), 3_600_000);
}

/** Lets the event loop run whatever is ready (API requests, timers) before the next job. */
const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs durable jobs from the `jobs` table. Each pass claims a small batch of due jobs (see `claimDueJobs`)
 * under a lease of its own (renewed while the batch is worked through), runs their handlers in due order (one
 * at a time, or `concurrency` at a time), and records each outcome only while the batch's claim still holds
 * the job. A job whose handler throws is retried with backoff; an unknown kind or too many attempts marks it
 * failed. Nothing is kept in memory between passes: a restarted process picks up exactly where the table says.
 *
 * The runner's own statements go through `store.jobsDb` (on Postgres a pool apart from the API's), handlers'
 * through `store.db`: a pool full of request transactions delays a handler, never the lease it runs under.
 *
 * Fairness: between jobs the runner yields to the event loop (every `sliceMs`), so API requests are served
 * during a long drain — with SQLite's synchronous driver a pass would otherwise hold the process until the
 * queue is empty.
 */
export class JobRunner {
  private readonly opts: Required<Omit<JobRunnerOptions, 'handlers' | 'services' | 'logger'>> &
    JobRunnerOptions;
  private timer: NodeJS.Timeout | null = null;
  private pass: Promise<number> | null = null;
  /** Bumped by start() and stop(): a poll of an earlier start never re-arms itself. */
  private generation = 0;
  private started = false;
  /** stop() is waiting: the pass in flight finishes its current job and hands the rest back. */
  private stopping = false;
  private rotation = 0;

  constructor(options: JobRunnerOptions) {
    this.opts = {
      realNow: Date.now,
      pollMs: 250,
      leaseMs: 15_000,
      batchSize: 20,
      concurrency: 1,
      sliceMs: 5,
      maxAttempts: 10,
      kinds: {},
      ...options,
    };
  }

  /** Polls for due jobs until stop(). Calling it again while started does nothing. */
  start(): void {
    if (this.started) return;
    this.started = true;
    const generation = ++this.generation;
    const live = () => this.started && generation === this.generation;
    const tick = async () => {
      this.timer = null;
      if (!live()) return;
      try {
        await this.runDue();
      } catch (error) {
        this.opts.logger.error({ err: error }, 'job pass failed');
      }
      if (live()) this.timer = setTimeout(tick, this.opts.pollMs);
    };
    this.timer = setTimeout(tick, 0);
  }

  /** Stops polling; the pass in flight finishes the job it is running, hands its other jobs back, and ends. */
  async stop(): Promise<void> {
    this.started = false;
    this.generation += 1;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.pass) return;
    this.stopping = true;
    try {
      await this.pass.catch(() => undefined);
    } finally {
      this.stopping = false;
    }
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
    while (!this.stopping) {
      const { realNow, leaseMs, batchSize } = this.opts;
      const { store } = this.opts.services;
      const token = randomUUID();
      const jobs = await claimDueJobs(
        store.jobsDb,
        store.dialect,
        realNow(),
        leaseMs,
        batchSize,
        this.kinds(),
        token,
      );
      if (jobs.length === 0) return total;
      const lease = new BatchLease(this.opts, token, jobs);
      const queue = [...jobs];
      // Each workspace's clock offset, read once per batch: the batch's jobs were due before anything it runs.
      const offsets = new Map<string | null, Promise<number>>();
      const offset = (workspaceId: string | null) => {
        let o = offsets.get(workspaceId);
        if (!o) {
          o = workspaceClockOffset(store.jobsDb, workspaceId);
          offsets.set(workspaceId, o);
        }
        return o;
      };
      // Succeeded jobs are marked done together at the end of the batch, in one statement: a commit per job
      // less. (A crash before that runs them again once the lease has passed; handlers are idempotent.)
      const succeeded: string[] = [];
      const worker = async () => {
        let sliceStart = performance.now();
        for (let job = queue.shift(); job && !this.stopping; job = queue.shift()) {
          // The lease may have run out while earlier jobs ran (a stalled process); another process may then have
          // this job. Start it only while this claim still holds it.
          if (!(await lease.hold(job.job_id))) continue;
          if (await this.runOne(job, token, await offset(job.workspace_id))) succeeded.push(job.job_id);
          else lease.finished(job.job_id);
          total += 1;
          if (performance.now() - sliceStart >= this.opts.sliceMs) {
            await yieldToEventLoop();
            sliceStart = performance.now();
          }
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(this.opts.concurrency, jobs.length) }, worker));
        const done = new Set(await completeJobs(store.jobsDb, succeeded, token));
        for (const id of succeeded) {
          lease.finished(id);
          if (!done.has(id)) this.lost(jobs.find((j) => j.job_id === id) as JobRecord);
        }
        // Stopping: what was claimed but not started goes back to the queue, for this or another process.
        if (this.stopping) await releaseJobs(store.jobsDb, lease.unfinished(), token);
      } finally {
        lease.end();
      }
    }
    return total;
  }

  private lost(job: JobRecord): void {
    this.opts.logger.warn(
      { job_id: job.job_id, kind: job.kind },
      'job lease lost to another process; outcome not recorded',
    );
  }

  /** The kinds to claim, with `only` rotated pass after pass so that no kind's backlog starves another's. */
  private kinds(): { only?: readonly string[]; except?: readonly string[] } {
    const { only, except } = this.opts.kinds;
    if (!only || only.length < 2) return this.opts.kinds;
    const r = this.rotation++ % only.length;
    return { only: [...only.slice(r), ...only.slice(0, r)], ...(except ? { except } : {}) };
  }

  /**
   * Runs one job and records a failure at once; true when the handler succeeded (the caller marks it done).
   * `offset` is its workspace's clock offset.
   */
  private async runOne(job: JobRecord, token: string, offset: number): Promise<boolean> {
    const { services, handlers, logger, realNow, maxAttempts } = this.opts;
    const { store } = services;
    const handler = handlers[job.kind];
    const lost = () => {
      this.lost(job);
      return false;
    };
    if (job.attempts > maxAttempts) {
      // Only a claim whose lease ran out (the process died or stalled mid-job) takes a job past maxAttempts:
      // a job that keeps killing its process must not loop for ever.
      const message = `gave up after ${maxAttempts} attempts: the last ${job.attempts - 1 > maxAttempts ? 'ones' : 'one'} ended without an outcome (lease ran out)`;
      if (!(await failJob(store.jobsDb, job.job_id, message, null, { leaseToken: token }))) return lost();
      logger.error(
        { job_id: job.job_id, kind: job.kind, attempts: job.attempts - 1 },
        'job failed: lease ran out',
      );
      return false;
    }
    if (!handler) {
      if (
        !(await failJob(store.jobsDb, job.job_id, `no handler for job kind ${job.kind}`, null, {
          leaseToken: token,
        }))
      )
        return lost();
      logger.error({ job_id: job.job_id, kind: job.kind }, 'job failed: unknown kind');
      return false;
    }
    try {
      await handler(job, { services, store, now: realNow() + offset });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const final = job.attempts >= maxAttempts;
      const delay = retryDelayMs(job.attempts);
      const started = realNow();
      const recorded = await failJob(
        store.jobsDb,
        job.job_id,
        message,
        final ? null : started + offset + delay,
        {
          due: started + delay,
          leaseToken: token,
        },
      );
      if (!recorded) return lost();
      logger.warn({ job_id: job.job_id, kind: job.kind, attempts: job.attempts, err: message }, 'job failed');
      return false;
    }
    return true;
  }
}

/**
 * The lease of one claimed batch: renewed every third of the lease time while the batch is worked through (so a
 * slow handler keeps it), and before a job starts if it has less than half left (a stalled event loop). A job
 * stays held until its outcome is recorded (a succeeded one until the batch marks it done); one that another
 * process took over drops out at the next renewal.
 */
class BatchLease {
  private until: number;
  private readonly held: Set<string>;
  private readonly heartbeat: NodeJS.Timeout;
  private renewing: Promise<void> | null = null;

  constructor(
    private readonly opts: Required<Pick<JobRunnerOptions, 'realNow' | 'leaseMs' | 'services' | 'logger'>>,
    private readonly token: string,
    jobs: readonly JobRecord[],
  ) {
    this.until = opts.realNow() + opts.leaseMs;
    this.held = new Set(jobs.map((j) => j.job_id));
    this.heartbeat = setInterval(() => void this.renew(), Math.max(1, Math.floor(opts.leaseMs / 3)));
    this.heartbeat.unref();
  }

  unfinished(): string[] {
    return [...this.held];
  }

  finished(jobId: string): void {
    this.held.delete(jobId);
  }

  /** Whether this claim still holds the job, renewing the lease first if it is past half its time. */
  async hold(jobId: string): Promise<boolean> {
    if (this.renewing) await this.renewing;
    if (this.opts.realNow() > this.until - this.opts.leaseMs / 2) await this.renew();
    return this.held.has(jobId);
  }

  end(): void {
    clearInterval(this.heartbeat);
  }

  private renew(): Promise<void> {
    this.renewing ??= (async () => {
      const until = this.opts.realNow() + this.opts.leaseMs;
      try {
        const kept = new Set(
          await renewJobLeases(this.opts.services.store.jobsDb, [...this.held], this.token, until),
        );
        for (const id of this.held) if (!kept.has(id)) this.held.delete(id);
        this.until = until;
      } catch (error) {
        this.opts.logger.warn({ err: error }, 'job lease renewal failed');
      } finally {
        this.renewing = null;
      }
    })();
    return this.renewing;
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
