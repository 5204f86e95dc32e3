import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CompiledQuery, sql } from 'kysely';
import pino from 'pino';
import { createServices } from '../../src/app/serve.ts';
import type { Services } from '../../src/app/services.ts';
import { createWorkspace } from '../../src/app/workspaces.ts';
import { type JobHandler, JobRunner, type JobRunnerOptions, retryDelayMs } from '../../src/jobs/runner.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import {
  claimDueJobs,
  completeJobs,
  dueJobsQuery,
  enqueueJob,
  expiredLeasesQuery,
  getJob,
  type JobRecord,
  shiftJobsQuery,
  shiftWorkspaceJobs,
} from '../../src/store/repos/jobs.ts';
import { advanceWorkspaceClock } from '../../src/store/repos/workspaces.ts';
import { requirePostgres, type TestDatabase, testDialects } from '../helpers/databases.ts';

// The durable job runner against a real database of each dialect. Real time is pinned (`realNow`) so
// backoff, leases and due times are exact; sandbox time travel moves a workspace's `clock_offset_ms` only.

const T0 = Date.UTC(2030, 0, 1);
const DAY_MS = 24 * 3_600_000;
const silent = pino({ level: 'silent' });

/** What a server process hands its runner and handlers, on this store and this real-time source. */
function servicesFor(store: Store, realNow: () => number = Date.now): Services {
  return createServices(store, randomBytes(32), silent, realNow).services;
}

async function addJob(
  store: Store,
  job: { kind: string; run_at: number; workspace_id?: string | null; payload?: unknown },
): Promise<string> {
  const job_id = randomUUID();
  await enqueueJob(store.db, {
    job_id,
    workspace_id: job.workspace_id ?? null,
    kind: job.kind,
    payload: job.payload ?? {},
    run_at: job.run_at,
    created_at: T0,
  });
  return job_id;
}

/** `n` due jobs of one kind, written in bulk (as enqueueJob writes them, without workspace). */
async function addJobs(store: Store, n: number, kind: string, runAt: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => randomUUID());
  for (let i = 0; i < n; i += 200) {
    await store.db
      .insertInto('jobs')
      .values(
        ids.slice(i, i + 200).map((job_id, k) => ({
          job_id,
          workspace_id: null,
          kind,
          payload: JSON.stringify({ n: i + k }),
          run_at: runAt + i + k,
          due: runAt + i + k,
          status: 'pending' as const,
          locked_until: null,
          last_error: null,
          created_at: runAt,
        })),
      )
      .execute();
  }
  return ids;
}

/** The plan of a statement as the database prints it, one line per node (Postgres: seq scans disabled). */
async function explain(store: Store, query: { compile(): CompiledQuery }): Promise<string[]> {
  const { sql: text, parameters } = query.compile();
  if (store.dialect === 'sqlite') {
    const { rows } = await store.db.executeQuery<{ detail: string }>(
      CompiledQuery.raw(`EXPLAIN QUERY PLAN ${text}`, [...parameters]),
    );
    return rows.map((r) => r.detail);
  }
  return store.db.transaction().execute(async (tx) => {
    await sql`SET LOCAL enable_seqscan = off`.execute(tx);
    const { rows } = await tx.executeQuery<{ 'QUERY PLAN': string }>(
      CompiledQuery.raw(`EXPLAIN ${text}`, [...parameters]),
    );
    return rows.map((r) => r['QUERY PLAN'].trim());
  });
}

/** What /workspaces/simulate/advance_clock does to the store: the offset and the workspace's open jobs move. */
async function advanceClock(store: Store, workspaceId: string, byMs: number): Promise<void> {
  await store.db.transaction().execute(async (tx) => {
    await shiftWorkspaceJobs(tx, store.dialect, workspaceId, byMs);
    await advanceWorkspaceClock(tx, workspaceId, byMs);
  });
}

async function jobRow(store: Store, jobId: string) {
  const row = await getJob(store.db, jobId);
  assert.ok(row, `job ${jobId} exists`);
  return row;
}

/**
 * Counts the timers the runner arms (set from src/jobs/runner.ts) and how many of them are still pending:
 * neither fired nor cleared. Other timers (e.g. the pg pool's idle timers) are left out.
 */
function trackRunnerTimers() {
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const live = new Set<unknown>();
  let created = 0;
  const fromRunner = () => /jobs[\\/]runner\.ts/.test(new Error().stack ?? '');
  globalThis.setTimeout = ((callback: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    if (!fromRunner()) return realSet(callback, ms, ...args);
    created += 1;
    const handle = realSet(
      (...a: unknown[]) => {
        live.delete(handle);
        callback(...a);
      },
      ms,
      ...args,
    );
    live.add(handle);
    return handle;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((handle?: Parameters<typeof clearTimeout>[0]) => {
    live.delete(handle);
    realClear(handle);
  }) as typeof clearTimeout;
  return {
    get created() {
      return created;
    },
    pending: () => live.size,
    restore() {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    },
  };
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`condition not met within ${timeoutMs} ms`);
    await sleep(5);
  }
}

describe('retryDelayMs', () => {
  it('starts at one second, doubles per attempt and stops at an hour', () => {
    assert.deepEqual([1, 2, 3, 4, 5].map(retryDelayMs), [1000, 2000, 4000, 8000, 16000]);
    assert.equal(retryDelayMs(13), 3_600_000);
    assert.equal(retryDelayMs(40), 3_600_000);
  });
});

for (const dialect of testDialects()) {
  describe(`job runner on ${dialect.name}`, () => {
    let database: TestDatabase;
    let store: Store;
    let services: Services;
    const clock = { now: T0 };
    const realNow = () => clock.now;
    const runner = (handlers: Record<string, JobHandler>, options: Partial<JobRunnerOptions> = {}) =>
      new JobRunner({ services, handlers, logger: silent, realNow, ...options });

    beforeEach(async () => {
      clock.now = T0;
      database = await dialect.create();
      store = await openStore(database.url);
      services = servicesFor(store, realNow);
    });
    afterEach(async () => {
      await store.close();
      await database.drop();
    });

    it('shares the one SQLite connection with the API; on Postgres has a pool of its own', () => {
      if (store.dialect === 'sqlite') assert.equal(store.jobsDb, store.db);
      else assert.ok(store.jobsDb && store.jobsDb !== store.db);
    });

    it('runs a due job once, hands it its payload and the clock, and marks it done', async () => {
      const seen: { job: JobRecord; now: number }[] = [];
      const jobs = runner({ greet: async (job, ctx) => void seen.push({ job, now: ctx.now }) });
      const id = await addJob(store, { kind: 'greet', run_at: T0, payload: { hello: ['world', 1] } });

      assert.equal(await jobs.runDue(), 1);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.job.job_id, id);
      assert.deepEqual(seen[0]?.job.payload, { hello: ['world', 1] });
      assert.equal(seen[0]?.job.attempts, 1);
      assert.equal(seen[0]?.now, T0);
      const row = await jobRow(store, id);
      assert.equal(row.status, 'done');
      assert.equal(row.attempts, 1);
      assert.equal(row.locked_until, null);
      assert.equal(row.last_error, null);

      clock.now = T0 + DAY_MS;
      assert.equal(await jobs.runDue(), 0, 'a done job never runs again');
      assert.equal(seen.length, 1);
    });

    it('retries a throwing handler with doubling backoff, then fails it after maxAttempts', async () => {
      let calls = 0;
      const jobs = runner(
        {
          flaky: async () => {
            calls += 1;
            throw new Error(`boom ${calls}`);
          },
        },
        { maxAttempts: 3 },
      );
      const id = await addJob(store, { kind: 'flaky', run_at: T0 });

      assert.equal(await jobs.runDue(), 1);
      let row = await jobRow(store, id);
      assert.equal(row.status, 'pending');
      assert.equal(row.attempts, 1);
      assert.equal(row.last_error, 'boom 1');
      assert.equal(row.run_at, T0 + 1000, 'first retry one second later');
      assert.equal(row.locked_until, null);

      clock.now = T0 + 999;
      assert.equal(await jobs.runDue(), 0, 'not before its retry time');
      clock.now = T0 + 1000;
      assert.equal(await jobs.runDue(), 1);
      row = await jobRow(store, id);
      assert.equal(row.status, 'pending');
      assert.equal(row.attempts, 2);
      assert.equal(row.last_error, 'boom 2');
      assert.equal(row.run_at, T0 + 1000 + 2000, 'second retry two seconds later');

      clock.now = T0 + 2999;
      assert.equal(await jobs.runDue(), 0);
      clock.now = T0 + 3000;
      assert.equal(await jobs.runDue(), 1);
      row = await jobRow(store, id);
      assert.equal(row.status, 'failed');
      assert.equal(row.attempts, 3);
      assert.equal(row.last_error, 'boom 3');
      assert.equal(row.locked_until, null);

      clock.now = T0 + 30 * DAY_MS;
      assert.equal(await jobs.runDue(), 0, 'a failed job is not retried');
      assert.equal(calls, 3);
    });

    it('marks a job done when a retry succeeds, keeping the last error for the record', async () => {
      let calls = 0;
      const jobs = runner({
        once: async () => {
          calls += 1;
          if (calls === 1) throw new Error('transient');
        },
      });
      const id = await addJob(store, { kind: 'once', run_at: T0 });
      await jobs.runDue();
      clock.now = T0 + 1000;
      assert.equal(await jobs.runDue(), 1);
      const row = await jobRow(store, id);
      assert.equal(row.status, 'done');
      assert.equal(row.attempts, 2);
      assert.equal(calls, 2);
    });

    it('fails a job of an unknown kind at once, without retrying it', async () => {
      const jobs = runner({ known: async () => {} });
      const id = await addJob(store, { kind: 'no_such_kind', run_at: T0 });
      assert.equal(await jobs.runDue(), 1);
      const row = await jobRow(store, id);
      assert.equal(row.status, 'failed');
      assert.equal(row.attempts, 1);
      assert.match(row.last_error ?? '', /no handler for job kind no_such_kind/);
      clock.now = T0 + DAY_MS;
      assert.equal(await jobs.runDue(), 0);
    });

    it('does not run a job before its run_at, and runs it exactly then', async () => {
      let calls = 0;
      const jobs = runner({ later: async () => void calls++ });
      const id = await addJob(store, { kind: 'later', run_at: T0 + 60_000 });
      assert.equal(await jobs.runDue(), 0);
      clock.now = T0 + 59_999;
      assert.equal(await jobs.runDue(), 0);
      assert.equal((await jobRow(store, id)).status, 'pending');
      clock.now = T0 + 60_000;
      assert.equal(await jobs.runDue(), 1);
      assert.equal(calls, 1);
      assert.equal((await jobRow(store, id)).status, 'done');
    });

    it("runs a sandbox workspace's job when its clock is moved past run_at, with no real time passing", async () => {
      const sandbox = await createWorkspace(services, { name: 'Sandbox', is_sandbox: true, now: T0 });
      const other = await createWorkspace(services, { name: 'Other', is_sandbox: true, now: T0 });
      const ran: { workspace: string | null; now: number }[] = [];
      const jobs = runner({
        tick: async (job, ctx) => void ran.push({ workspace: job.workspace_id, now: ctx.now }),
      });
      const runAt = T0 + 7 * DAY_MS;
      const mine = await addJob(store, {
        kind: 'tick',
        run_at: runAt,
        workspace_id: sandbox.workspace.workspace_id,
      });
      const theirs = await addJob(store, {
        kind: 'tick',
        run_at: runAt,
        workspace_id: other.workspace.workspace_id,
      });

      assert.equal(await jobs.runDue(), 0);
      // Time travel: the sandbox jumps a week and a minute ahead (in two steps); real time stays at T0.
      await advanceClock(store, sandbox.workspace.workspace_id, 7 * DAY_MS - 60_000);
      assert.equal(await jobs.runDue(), 0, 'a minute short');
      await advanceClock(store, sandbox.workspace.workspace_id, 120_000);

      assert.equal(await jobs.runDue(), 1);
      assert.deepEqual(ran, [{ workspace: sandbox.workspace.workspace_id, now: T0 + 7 * DAY_MS + 60_000 }]);
      assert.equal((await jobRow(store, mine)).status, 'done');
      assert.equal((await jobRow(store, theirs)).status, 'pending', "another workspace's clock did not move");
      assert.equal(clock.now, T0);
    });

    it('schedules a retry on the workspace clock of a time-travelled sandbox', async () => {
      const sandbox = await createWorkspace(services, { name: 'Sandbox', is_sandbox: true, now: T0 });
      await advanceClock(store, sandbox.workspace.workspace_id, DAY_MS);
      const jobs = runner({
        fail: async () => {
          throw new Error('nope');
        },
      });
      const id = await addJob(store, {
        kind: 'fail',
        run_at: T0 + DAY_MS,
        workspace_id: sandbox.workspace.workspace_id,
      });
      assert.equal(await jobs.runDue(), 1);
      assert.equal((await jobRow(store, id)).run_at, T0 + DAY_MS + 1000);
      assert.equal(await jobs.runDue(), 0, 'the retry waits a second of workspace time');
      clock.now = T0 + 1000;
      assert.equal(await jobs.runDue(), 1);
    });

    it('claims again a running job whose lease expired (its process died)', async () => {
      const id = await addJob(store, { kind: 'work', run_at: T0 });
      // A process claims the job and dies before completing it.
      const claimed = await claimDueJobs(store.db, store.dialect, T0, 5_000, 10);
      assert.deepEqual(
        claimed.map((j) => j.job_id),
        [id],
      );
      assert.equal((await jobRow(store, id)).status, 'running');

      let calls = 0;
      const jobs = runner({ work: async () => void calls++ }, { leaseMs: 5_000 });
      clock.now = T0 + 4_999;
      assert.equal(await jobs.runDue(), 0, 'the lease is still held');
      clock.now = T0 + 5_000;
      assert.equal(await jobs.runDue(), 0, 'the lease ends after locked_until');
      clock.now = T0 + 5_001;
      assert.equal(await jobs.runDue(), 1);
      assert.equal(calls, 1);
      const row = await jobRow(store, id);
      assert.equal(row.status, 'done');
      assert.equal(row.attempts, 2, 'the dead attempt counts');
    });

    it('never starts a job whose lease ran out while it waited in its batch (another process may have it)', async () => {
      // A pass claims three jobs under one lease; the first handler is slow and outlives it. From then on
      // another process may claim the other two, so this one must not start them on the stale lease.
      const started: { n: number; leaseValid: boolean }[] = [];
      const jobs = runner(
        {
          work: async (job) => {
            const row = await jobRow(store, job.job_id);
            started.push({
              n: (job.payload as { n: number }).n,
              leaseValid: (row.locked_until ?? 0) >= clock.now,
            });
            if (started.length === 1) clock.now = T0 + 2_000;
          },
        },
        { leaseMs: 1_000, batchSize: 3 },
      );
      for (const n of [1, 2, 3]) await addJob(store, { kind: 'work', run_at: T0 - 10 + n, payload: { n } });

      await jobs.runDue();
      assert.deepEqual(
        started,
        [1, 2, 3].map((n) => ({ n, leaseValid: true })),
        'each job ran once, under a live lease',
      );
      const rows = await store.db.selectFrom('jobs').select('status').execute();
      assert.deepEqual(
        rows.map((r) => r.status),
        ['done', 'done', 'done'],
      );
    });

    it('leaves its batch, the job it was running included, to the process that took it over after the lease ran out', async () => {
      const ran: number[] = [];
      let takenOver: string[] = [];
      const jobs = runner(
        {
          work: async (job) => {
            ran.push((job.payload as { n: number }).n);
            if (ran.length > 1) return;
            // The first handler outlives the batch's lease; meanwhile another process claims what is due.
            clock.now = T0 + 2_000;
            takenOver = (await claimDueJobs(store.db, store.dialect, clock.now, 1_000, 10)).map(
              (j) => j.job_id,
            );
          },
        },
        { leaseMs: 1_000, batchSize: 3 },
      );
      const ids: string[] = [];
      for (const n of [1, 2, 3])
        ids.push(await addJob(store, { kind: 'work', run_at: T0 - 10 + n, payload: { n } }));

      assert.equal(await jobs.runDue(), 1);
      assert.deepEqual(ran, [1], 'jobs 2 and 3 are the other process’s now');
      assert.deepEqual(takenOver.sort(), [...ids].sort());
      // Job 1 too: its handler returned after the takeover, and this process may not record an outcome for a
      // job it no longer holds (the other process will run it again: handlers are idempotent).
      for (const id of ids) {
        const row = await jobRow(store, id);
        assert.equal(row.status, 'running', 'not completed by the process that lost the lease');
        assert.equal(row.locked_until, T0 + 3_000, 'under the other process’s lease');
      }
      // That process dies too; once its lease has passed, they run here, once each.
      clock.now = T0 + 3_001;
      assert.equal(await jobs.runDue(), 3);
      assert.deepEqual(ran, [1, 1, 2, 3]);
      for (const id of ids) assert.equal((await jobRow(store, id)).status, 'done');
      assert.equal((await jobRow(store, ids[0] as string)).attempts, 3, 'three claims of job 1');
    });

    it('records an outcome only under the claim that holds the job (lease token)', async () => {
      const id = await addJob(store, { kind: 'work', run_at: T0 });
      const [mine] = await claimDueJobs(store.db, store.dialect, T0, 1_000, 10, {}, 'token-a');
      assert.equal(mine?.job_id, id);
      // The lease runs out; another process claims the job.
      const [theirs] = await claimDueJobs(store.db, store.dialect, T0 + 1_001, 1_000, 10, {}, 'token-b');
      assert.equal(theirs?.job_id, id);
      assert.deepEqual(
        await completeJobs(store.db, [id], 'token-a'),
        [],
        'the old holder cannot complete it',
      );
      assert.equal((await jobRow(store, id)).status, 'running');
      assert.equal((await jobRow(store, id)).lease_token, 'token-b');
      assert.deepEqual(await completeJobs(store.db, [id], 'token-b'), [id]);
      const row = await jobRow(store, id);
      assert.equal(row.status, 'done');
      assert.equal(row.lease_token, null);
    });

    it('counts a claim whose lease ran out as an attempt: a job that kills its process fails after maxAttempts', async () => {
      let calls = 0;
      const jobs = runner({ deadly: async () => void calls++ }, { maxAttempts: 3, leaseMs: 1_000 });
      const id = await addJob(store, { kind: 'deadly', run_at: T0 });
      // Three processes in turn claim it and die mid-job (nothing recorded); each next one comes after the lease.
      for (let n = 0; n < 3; n++) {
        clock.now = T0 + n * 1_001;
        const claimed = await claimDueJobs(store.db, store.dialect, clock.now, 1_000, 10);
        assert.deepEqual(
          claimed.map((j) => j.job_id),
          [id],
        );
      }
      clock.now = T0 + 3 * 1_001;
      assert.equal(await jobs.runDue(), 1);
      assert.equal(calls, 0, 'not run a fourth time');
      const row = await jobRow(store, id);
      assert.equal(row.status, 'failed');
      assert.equal(row.attempts, 4);
      assert.match(row.last_error ?? '', /gave up after 3 attempts.*lease ran out/);
      clock.now += DAY_MS;
      assert.equal(await jobs.runDue(), 0);
    });

    it('a lease that ran out once still leaves attempts for the retry that succeeds', async () => {
      let calls = 0;
      const jobs = runner({ work: async () => void calls++ }, { maxAttempts: 3, leaseMs: 1_000 });
      const id = await addJob(store, { kind: 'work', run_at: T0 });
      await claimDueJobs(store.db, store.dialect, T0, 1_000, 10); // a process dies with it
      clock.now = T0 + 1_001;
      assert.equal(await jobs.runDue(), 1);
      assert.equal(calls, 1);
      const row = await jobRow(store, id);
      assert.equal(row.status, 'done');
      assert.equal(row.attempts, 2);
    });

    it('runs due jobs in run_at order, across batches and workspaces', async () => {
      const sandbox = await createWorkspace(services, { name: 'Sandbox', is_sandbox: true, now: T0 });
      const order: number[] = [];
      const jobs = runner(
        { n: async (job) => void order.push((job.payload as { n: number }).n) },
        { batchSize: 3 },
      );
      const ns = [7, 2, 9, 0, 5, 3, 8, 1, 6, 4];
      for (const n of ns) {
        await addJob(store, {
          kind: 'n',
          run_at: T0 - 10_000 + n * 100,
          payload: { n },
          workspace_id: n % 2 ? sandbox.workspace.workspace_id : null,
        });
      }
      await addJob(store, { kind: 'n', run_at: T0 + 1, payload: { n: 99 } });
      assert.equal(await jobs.runDue(), 10);
      assert.deepEqual(order, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    });

    it('start() polls for jobs and stop() waits for the pass in flight and leaves no timer behind', async () => {
      const timers = trackRunnerTimers();
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const ran: string[] = [];
      const jobs = runner(
        {
          quick: async (job) => void ran.push(job.job_id),
          slow: async (job) => {
            await gate;
            ran.push(job.job_id);
          },
        },
        { pollMs: 5 },
      );
      jobs.start();
      try {
        const first = await addJob(store, { kind: 'quick', run_at: T0 });
        await waitFor(() => ran.includes(first) && timers.created >= 2);
        assert.deepEqual(ran, [first], 'the poller picked the job up');
        assert.equal(timers.pending(), 1, 'and re-armed its timer after the pass');

        const slow = await addJob(store, { kind: 'slow', run_at: T0 });
        await waitFor(async () => (await jobRow(store, slow)).status === 'running');
        let stopped = false;
        const stopping = jobs.stop().then(() => {
          stopped = true;
        });
        await sleep(20);
        assert.equal(stopped, false, 'stop() waits for the running pass');
        release();
        await stopping;
        assert.equal((await jobRow(store, slow)).status, 'done');

        assert.equal(timers.pending(), 0, 'no timer left running');
        const after = await addJob(store, { kind: 'quick', run_at: T0 });
        await sleep(50);
        assert.equal((await jobRow(store, after)).status, 'pending', 'nothing polls after stop()');
        assert.equal(ran.length, 2);
      } finally {
        release();
        await jobs.stop();
        timers.restore();
      }
    });

    it('start() is idempotent: a second call does not start a second polling loop', async () => {
      const timers = trackRunnerTimers();
      const ran: string[] = [];
      const jobs = runner({ quick: async (job) => void ran.push(job.job_id) }, { pollMs: 5 });
      try {
        jobs.start();
        jobs.start();
        assert.equal(timers.pending(), 1, 'one poll armed');
        const id = await addJob(store, { kind: 'quick', run_at: T0 });
        await waitFor(() => ran.includes(id) && timers.created >= 3);
        assert.equal(timers.pending(), 1, 'still one poll armed after passes');
        assert.deepEqual(ran, [id]);
        await jobs.stop();
        assert.equal(timers.pending(), 0);
        jobs.start();
        assert.equal(timers.pending(), 1, 'starts again after stop()');
      } finally {
        await jobs.stop();
        timers.restore();
      }
      assert.equal(timers.pending(), 0);
    });

    it('holds a claim for seconds, not a minute: a small batch under a 15 s lease by default', async () => {
      let leases: (number | null)[] = [];
      const jobs = runner({
        look: async () => {
          if (leases.length > 0) return;
          const rows = await store.db
            .selectFrom('jobs')
            .select('locked_until')
            .where('status', '=', 'running')
            .execute();
          leases = rows.map((r) => r.locked_until);
        },
      });
      await addJobs(store, 60, 'look', T0 - 1_000);
      assert.equal(await jobs.runDue(), 60);
      assert.ok(leases.length > 0 && leases.length <= 20, `${leases.length} jobs claimed at once`);
      for (const until of leases)
        assert.ok(until !== null && until <= T0 + 15_000, `leased until T0 + ${(until ?? 0) - T0} ms`);
    });

    it('renews the lease while a slow job runs, so no other process takes the job over', async () => {
      const executions: string[] = [];
      const id = await addJob(store, { kind: 'slow', run_at: Date.now() - 1_000 });
      const slow = runner(
        {
          slow: async () => {
            executions.push('first');
            await sleep(700);
          },
        },
        { realNow: Date.now, leaseMs: 150 },
      );
      const other = runner(
        { slow: async () => void executions.push('other') },
        { realNow: Date.now, leaseMs: 150 },
      );
      const first = slow.runDue();
      await waitFor(() => executions.length > 0);
      let tookOver = 0;
      const until = Date.now() + 650;
      while (Date.now() < until) {
        tookOver += await other.runDue();
        await sleep(20);
      }
      assert.equal(await first, 1);
      assert.equal(tookOver, 0, 'the other process found the job leased all along');
      assert.deepEqual(executions, ['first']);
      const row = await jobRow(store, id);
      assert.equal(row.status, 'done');
      assert.equal(row.attempts, 1);
    });

    it('stop() ends a long drain after the job in hand and hands the rest of its batch back unstarted', async () => {
      let ran = 0;
      let stopping: Promise<void> = Promise.resolve();
      const jobs: JobRunner = runner(
        {
          n: async () => {
            ran += 1;
            if (ran === 3) stopping = jobs.stop();
          },
        },
        { batchSize: 10 },
      );
      await addJobs(store, 25, 'n', T0 - 1_000);
      assert.equal(await jobs.runDue(), 3);
      await stopping;
      assert.equal(ran, 3);
      const rows = await store.db.selectFrom('jobs').selectAll().where('status', '!=', 'done').execute();
      assert.equal(rows.length, 22);
      for (const row of rows) {
        assert.equal(row.status, 'pending');
        assert.equal(row.attempts, 0, 'a handed-back job lost no attempt');
        assert.equal(row.lease_token, null);
        assert.equal(row.locked_until, null);
      }
      assert.equal(await jobs.runDue(), 22, 'the next pass runs the rest');
    });

    it('yields to the event loop between jobs: timers and HTTP requests are served during a long drain', async () => {
      const total = 400;
      let done = 0;
      const jobs = runner({
        n: async (_job, ctx) => {
          await ctx.store.db.selectFrom('workspaces').select('workspace_id').limit(1).execute();
          // Each job takes at least 1 ms of work, so the default 5 ms slice ends after a few jobs on any machine,
          // fast or loaded (with near-instant jobs, how many fit in a slice depends on the machine's speed).
          const until = performance.now() + 1;
          while (performance.now() < until) {}
          done += 1;
        },
      });
      await addJobs(store, total, 'n', T0 - 10_000);
      const server = http.createServer((_req, res) => res.end(String(done)));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      try {
        let atTimer = -1;
        setTimeout(() => {
          atTimer = done;
        }, 0);
        const { port } = server.address() as AddressInfo;
        const served = fetch(`http://127.0.0.1:${port}/`).then((r) => r.text());
        assert.equal(await jobs.runDue(), total);
        const atRequest = Number(await served);
        assert.ok(
          atTimer >= 0 && atTimer < total / 4,
          `a 0 ms timer fired after ${atTimer} of ${total} jobs`,
        );
        assert.ok(atRequest < total / 2, `an HTTP request was answered after ${atRequest} of ${total} jobs`);
      } finally {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    });

    it('with concurrency, runs a batch several jobs at a time: each job once, never more than that at once', async () => {
      let inFlight = 0;
      let most = 0;
      const seen = new Map<string, number>();
      const started: number[] = [];
      const jobs = runner(
        {
          n: async (job) => {
            started.push((job.payload as { n: number }).n);
            inFlight += 1;
            most = Math.max(most, inFlight);
            seen.set(job.job_id, (seen.get(job.job_id) ?? 0) + 1);
            await sleep(2);
            inFlight -= 1;
          },
        },
        { concurrency: 3, batchSize: 10 },
      );
      const ids = await addJobs(store, 25, 'n', T0 - 1_000);
      assert.equal(await jobs.runDue(), 25);
      assert.equal(most, 3);
      assert.deepEqual([...seen.values()], Array(25).fill(1));
      assert.equal(seen.size, ids.length);
      assert.deepEqual(
        started,
        Array.from({ length: 25 }, (_, n) => n),
        'started in due order',
      );
      const open = await store.db.selectFrom('jobs').select('job_id').where('status', '!=', 'done').execute();
      assert.deepEqual(open, []);
    });

    it('a runner of several kinds takes them in turn, so one kind’s backlog never starves another', async () => {
      const order: string[] = [];
      const push = (kind: string) => async () => void order.push(kind);
      const jobs = runner({ a: push('a'), b: push('b') }, { kinds: { only: ['a', 'b'] }, batchSize: 2 });
      await addJobs(store, 4, 'a', T0 - 1_000);
      await addJobs(store, 4, 'b', T0 - 500);
      assert.equal(await jobs.runDue(), 8);
      assert.deepEqual(order, ['a', 'a', 'b', 'b', 'a', 'a', 'b', 'b']);
    });

    it("writes a job's due on the real clock from its workspace clock, and advance_clock moves the open ones", async () => {
      const sandbox = await createWorkspace(services, { name: 'Sandbox', is_sandbox: true, now: T0 });
      const ws = sandbox.workspace.workspace_id;
      await advanceClock(store, ws, DAY_MS);
      const later = await addJob(store, { kind: 'k', run_at: T0 + DAY_MS + 5_000, workspace_id: ws });
      const running = await addJob(store, { kind: 'k', run_at: T0 + DAY_MS - 1, workspace_id: ws });
      const finished = await addJob(store, { kind: 'k', run_at: T0 + DAY_MS - 2, workspace_id: ws });
      const noWorkspace = await addJob(store, { kind: 'k', run_at: T0 + 7 });
      assert.equal((await jobRow(store, later)).due, T0 + 5_000);
      assert.equal((await jobRow(store, noWorkspace)).due, T0 + 7);
      const claimed = await claimDueJobs(store.db, store.dialect, T0, 60_000, 2, {}, 'tok');
      assert.deepEqual(
        claimed.map((j) => j.job_id),
        [finished, running],
      );
      assert.deepEqual(await completeJobs(store.db, [finished], 'tok'), [finished]);

      await advanceClock(store, ws, 2_000);
      assert.equal((await jobRow(store, later)).due, T0 + 3_000, 'pending: moved');
      assert.equal((await jobRow(store, running)).due, T0 - 2_001, 'running: moved');
      assert.equal((await jobRow(store, finished)).due, T0 - 2, 'done: history, untouched');
      assert.equal((await jobRow(store, noWorkspace)).due, T0 + 7, 'no workspace: untouched');
    });

    it('claims through its partial indexes, in index order: no scan and no sort, however long the queue', async () => {
      await addJobs(store, 300, 'k', T0 - 1_000);
      const statements = {
        jobs_pending_due: dueJobsQuery(store.db, store.dialect, T0, 20, { except: ['w'] }),
        jobs_pending_kind_due: dueJobsQuery(store.db, store.dialect, T0, 20, { kind: 'w' }),
        jobs_leased: expiredLeasesQuery(store.db, store.dialect, T0, 20, { only: ['w', 'x'] }),
        jobs_open_by_workspace: shiftJobsQuery(store.db, 'ws', 1_000),
      };
      const keys: Record<keyof typeof statements, string> = {
        jobs_pending_due: 'status=? AND due<?',
        jobs_pending_kind_due: 'kind=? AND due<?',
        jobs_leased: 'status=? AND locked_until<?',
        jobs_open_by_workspace: 'workspace_id=?',
      };
      for (const [index, statement] of Object.entries(statements)) {
        const plan = await explain(store, statement);
        const text = plan.join('\n');
        if (store.dialect === 'sqlite') {
          assert.deepEqual(plan.length, 1, `${index}: ${text}`);
          assert.match(
            text,
            new RegExp(
              `^SEARCH jobs USING (COVERING )?INDEX ${index} \\(${keys[index as keyof typeof keys].replaceAll('?', '\\?')}\\)$`,
            ),
          );
        } else {
          assert.match(text, new RegExp(`Index (Only )?Scan using ${index} on jobs`), text);
          assert.doesNotMatch(text, /Seq Scan|Sort|Bitmap/, text);
        }
      }
    });
  });
}

describe('job runner: its lease on Postgres while request transactions hold the API pool', () => {
  const postgres = requirePostgres();
  it("renews the lease of a running job while every connection of the API's pool is taken, so no other process takes the job over", {
    skip: postgres ? false : 'set LATCHKEY_TEST_DATABASE_URL to run the Postgres-only concurrency test',
  }, async () => {
    if (!postgres) return;
    const database = await postgres.create();
    const [a, b] = [await openStore(database.url), await openStore(database.url)] as [Store, Store];
    const releases: (() => void)[] = [];
    let passA: Promise<number> | undefined;
    try {
      assert.notEqual(a.jobsDb, a.db, 'the runner has a pool of its own');
      const id = await addJob(a, { kind: 'slow', run_at: Date.now() - 1_000 });
      const leaseMs = 600;
      const runs: string[] = [];
      let started: () => void = () => {};
      const running = new Promise<void>((resolve) => {
        started = resolve;
      });
      let finish: () => void = () => {};
      const finished = new Promise<void>((resolve) => {
        finish = resolve;
      });
      releases.push(() => finish());
      const runnerOf = (store: Store, name: string, work: () => Promise<void>) =>
        new JobRunner({
          services: servicesFor(store),
          logger: silent,
          leaseMs,
          handlers: {
            slow: async () => {
              runs.push(name);
              await work();
            },
          },
        });
      passA = runnerOf(a, 'a', async () => {
        started();
        await finished;
      }).runDue();
      const runnerB = runnerOf(b, 'b', async () => {});
      await running;

      // Process a's API pool (10 connections) all held, as by requests queued on a busy lock's row lock.
      let acquired = 0;
      const held = Array.from({ length: 10 }, () =>
        a.db.connection().execute(
          () =>
            new Promise<void>((resolve) => {
              acquired += 1;
              releases.push(resolve);
            }),
        ),
      );
      await waitFor(() => acquired === 10);
      // Process b looks for jobs whose lease ran out, for several lease times.
      for (let waited = 0; waited < 6 * leaseMs; waited += leaseMs / 3) {
        assert.equal(await runnerB.runDue(), 0, 'the job is not taken over');
        await sleep(leaseMs / 3);
      }
      for (const release of releases) release();
      await Promise.all(held);
      assert.equal(await passA, 1);
      assert.deepEqual(runs, ['a']);
      const row = await jobRow(b, id);
      assert.equal(row.status, 'done');
      assert.equal(row.attempts, 1, 'claimed once');
    } finally {
      for (const release of releases) release();
      await passA?.catch(() => undefined); // its pass ends before its store closes
      await a.close();
      await b.close();
      await database.drop();
    }
  });
});

describe('job runner: two processes on one Postgres', () => {
  const postgres = requirePostgres();
  it('drains 300 jobs with two runners on separate connections, each job executed exactly once', {
    skip: postgres ? false : 'set LATCHKEY_TEST_DATABASE_URL to run the Postgres-only concurrency test',
  }, async () => {
    if (!postgres) return;
    const database = await postgres.create();
    const stores = [await openStore(database.url), await openStore(database.url)];
    try {
      const [a, b] = stores as [Store, Store];
      const now = Date.now();
      const ids: string[] = [];
      for (let i = 0; i < 300; i++) ids.push(randomUUID());
      await a.db
        .insertInto('jobs')
        .values(
          ids.map((job_id, i) => ({
            job_id,
            workspace_id: null,
            kind: 'count',
            payload: JSON.stringify({ i }),
            run_at: now - 1000 + i,
            due: now - 1000 + i,
            status: 'pending' as const,
            locked_until: null,
            last_error: null,
            created_at: now,
          })),
        )
        .execute();

      const executions = new Map<string, number>();
      const byRunner = [0, 0];
      const makeRunner = (store: Store, index: number) =>
        new JobRunner({
          services: servicesFor(store),
          logger: silent,
          batchSize: 10,
          concurrency: 1 + index * 2, // one job at a time in one process, three in the other
          handlers: {
            count: async (job) => {
              executions.set(job.job_id, (executions.get(job.job_id) ?? 0) + 1);
              byRunner[index] = (byRunner[index] ?? 0) + 1;
              await sleep(1);
            },
          },
        });
      const ran = await Promise.all([makeRunner(a, 0).runDue(), makeRunner(b, 1).runDue()]);

      assert.equal(ran[0] + ran[1], 300, `runners reported ${ran.join(' + ')}`);
      const duplicates = [...executions].filter(([, n]) => n !== 1);
      assert.deepEqual(duplicates, [], 'no job ran twice');
      assert.equal(executions.size, 300);
      assert.ok(
        (byRunner[0] ?? 0) > 0 && (byRunner[1] ?? 0) > 0,
        `both runners worked: ${byRunner.join(' / ')}`,
      );
      const statuses = await a.db
        .selectFrom('jobs')
        .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
        .groupBy('status')
        .execute();
      assert.deepEqual(
        statuses.map((s) => [s.status, Number(s.n)]),
        [['done', 300]],
      );
      const attempts = await a.db.selectFrom('jobs').select('attempts').where('attempts', '!=', 1).execute();
      assert.equal(attempts.length, 0, 'every job claimed exactly once');
    } finally {
      for (const store of stores) await store.close();
      await database.drop();
    }
  });
});

describe('job runner: advance_clock and job writes racing on Postgres', () => {
  const postgres = requirePostgres();
  it('a job written while advance_clock moves its workspace comes due by the new clock, whichever commits first', {
    skip: postgres ? false : 'set LATCHKEY_TEST_DATABASE_URL to run the Postgres-only concurrency test',
  }, async () => {
    if (!postgres) return;
    const database = await postgres.create();
    const [a, b] = [await openStore(database.url), await openStore(database.url)] as [Store, Store];
    const gates: (() => void)[] = [];
    try {
      const ws = (await createWorkspace(servicesFor(a), { name: 'Sandbox', is_sandbox: true, now: T0 }))
        .workspace.workspace_id;
      const H = 3_600_000;
      const gate = () => {
        let open: () => void = () => {};
        const opened = new Promise<void>((resolve) => {
          open = resolve;
        });
        gates.push(open);
        return { open, opened };
      };
      const job = (job_id: string, run_at: number) => ({
        job_id,
        workspace_id: ws,
        kind: 'k',
        payload: {},
        run_at,
        created_at: T0,
      });

      // 1. The job's transaction is open (its due computed from offset 0) when advance_clock starts.
      const written = gate();
      const commit = gate();
      const enqueue = a.db.transaction().execute(async (tx) => {
        await enqueueJob(tx, job('j1', T0 + 10 * H));
        written.open();
        await commit.opened;
      });
      await written.opened;
      let advanced = false;
      const advance = advanceClock(b, ws, H).then(() => {
        advanced = true;
      });
      await sleep(150);
      assert.equal(advanced, false, 'advance_clock waits for the transaction that wrote a job');
      commit.open();
      await Promise.all([enqueue, advance]);
      assert.equal((await jobRow(a, 'j1')).due, T0 + 9 * H);

      // 2. advance_clock's transaction is open when a job is written.
      const moved = gate();
      const release = gate();
      const advance2 = b.db.transaction().execute(async (tx) => {
        await shiftWorkspaceJobs(tx, b.dialect, ws, H);
        await advanceWorkspaceClock(tx, ws, H);
        moved.open();
        await release.opened;
      });
      await moved.opened;
      let wrote = false;
      const enqueue2 = enqueueJob(a.db, job('j2', T0 + 10 * H)).then(() => {
        wrote = true;
      });
      await sleep(150);
      assert.equal(wrote, false, 'a job write waits for advance_clock to commit');
      release.open();
      await Promise.all([advance2, enqueue2]);
      assert.equal((await jobRow(a, 'j2')).due, T0 + 8 * H, 'computed with the new offset');
      assert.equal((await jobRow(a, 'j1')).due, T0 + 8 * H, 'moved twice');
    } finally {
      for (const open of gates) open(); // a failed assertion must not leave a transaction open
      await sleep(50);
      await a.close();
      await b.close();
      await database.drop();
    }
  });
});
