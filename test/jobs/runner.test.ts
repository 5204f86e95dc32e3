import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { createServices } from '../../src/app/serve.ts';
import type { Services } from '../../src/app/services.ts';
import { createWorkspace } from '../../src/app/workspaces.ts';
import { type JobHandler, JobRunner, type JobRunnerOptions, retryDelayMs } from '../../src/jobs/runner.ts';
import { openStore, type Store } from '../../src/store/index.ts';
import { claimDueJobs, enqueueJob, getJob, type JobRecord } from '../../src/store/repos/jobs.ts';
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
      // Time travel: the sandbox jumps a week and a minute ahead; real time stays at T0.
      await store.db
        .updateTable('workspaces')
        .set({ clock_offset_ms: 7 * DAY_MS + 60_000 })
        .where('workspace_id', '=', sandbox.workspace.workspace_id)
        .execute();

      assert.equal(await jobs.runDue(), 1);
      assert.deepEqual(ran, [{ workspace: sandbox.workspace.workspace_id, now: T0 + 7 * DAY_MS + 60_000 }]);
      assert.equal((await jobRow(store, mine)).status, 'done');
      assert.equal((await jobRow(store, theirs)).status, 'pending', "another workspace's clock did not move");
      assert.equal(clock.now, T0);
    });

    it('schedules a retry on the workspace clock of a time-travelled sandbox', async () => {
      const sandbox = await createWorkspace(services, { name: 'Sandbox', is_sandbox: true, now: T0 });
      await store.db
        .updateTable('workspaces')
        .set({ clock_offset_ms: DAY_MS })
        .where('workspace_id', '=', sandbox.workspace.workspace_id)
        .execute();
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

    it('leaves the rest of its batch to the process that took it over after the lease ran out', async () => {
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
      for (const id of ids.slice(1)) {
        const row = await jobRow(store, id);
        assert.equal(row.status, 'running');
        assert.equal(row.locked_until, T0 + 3_000, 'under the other process’s lease');
      }
      // That process dies too; once its lease has passed, they run here, once each.
      clock.now = T0 + 3_001;
      assert.equal(await jobs.runDue(), 2);
      assert.deepEqual(ran, [1, 2, 3]);
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
  });
}

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
