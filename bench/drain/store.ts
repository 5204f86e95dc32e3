// Child of bench/drain.ts, straight against the store (no server): `load` seeds the database the way the app
// writes it, `verify` checks the drain afterwards. Prints `RESULT <json>` on stdout.
//
// load: the sandbox workspace (bootstrap, with BENCH_API_KEY), then BENCH_DRAIN_CODES offline codes through the
// app's own createOfflineAccessCode, in large transactions, on as many virtual locks as needed: per lock 66
// start hours × 3 (the hourly slot's capacity) = 198 codes, under the 199 cap. Code k of a lock was created at
// its start (creation `now` = starts_at, so it is `set`) and every code ends at the same hour E, one to two
// hours ahead: the one step left to each is its removal at E, a durable job. advance_clock by PT3H then makes
// all of them due at once, and each code makes exactly that one transition. Plus 150 codes on one more lock
// that start a day after E (the API load reads them; the advance leaves them alone).
//
// verify: every drained code was removed once, with one removed_from_device and one deleted event, by one
// lifecycle job claimed once; nothing left pending, running or failed.
import pino from 'pino';
import { createOfflineAccessCode } from '../../src/app/access-codes/create-offline.ts';
import { LIFECYCLE_JOB } from '../../src/app/access-codes/lifecycle.ts';
import { bootstrap } from '../../src/app/bootstrap.ts';
import { createVirtualLock } from '../../src/app/devices.ts';
import { createServices } from '../../src/app/serve.ts';
import { loadMasterKey } from '../../src/codeserver/master-key.ts';
import type { DeviceRecord } from '../../src/domain/records.ts';
import { type Db, openStore, type Store } from '../../src/store/index.ts';
import { getDeviceForUpdate } from '../../src/store/repos/devices.ts';

const HOUR = 3_600_000;
const HOURS_PER_LOCK = 66;
const PER_SLOT = 3;
const PER_LOCK = HOURS_PER_LOCK * PER_SLOT;
const GET_CODES = 150;
const DRAIN_PREFIX = 'drain ';

const env = process.env;
const mode = process.argv[2];
const databaseUrl = env.DATABASE_URL as string;

async function load(store: Store): Promise<Record<string, unknown>> {
  const t0 = performance.now();
  const n = Number(env.BENCH_DRAIN_CODES ?? 100_000);
  const masterKey = loadMasterKey({
    fromEnv: env.LATCHKEY_MASTER_KEY,
    dataDir: env.LATCHKEY_DATA_DIR as string,
  });
  const { services } = createServices(store, masterKey, pino({ level: 'silent' }));
  const outcome = await bootstrap(services, { now: Date.now(), bootstrapApiKey: env.BENCH_API_KEY });
  if (!outcome.created || !outcome.seeded.connected_account) throw new Error('the database was not empty');
  const workspaceId = outcome.seeded.workspace.workspace_id;
  const accountId = outcome.seeded.connected_account.connected_account_id;
  const E = (Math.ceil(Date.now() / HOUR) + 1) * HOUR;

  const lockCount = Math.ceil(n / PER_LOCK);
  const newLock = (tx: Db, name: string) =>
    createVirtualLock(services, tx, {
      workspace_id: workspaceId,
      connected_account_id: accountId,
      name,
      has_bridge: false,
      now: Date.now(),
    });
  const locks: DeviceRecord[] = [];
  for (let i = 0; i < lockCount; i += 50) {
    await store.db.transaction().execute(async (tx) => {
      for (let j = i; j < Math.min(i + 50, lockCount); j++) locks.push(await newLock(tx, `drain lock ${j}`));
    });
  }
  const tLocks = performance.now();

  /** Fills one lock (held FOR UPDATE, as the API holds it) with `count` codes, each created at its start. */
  const fill = async (tx: Db, lock: DeviceRecord, first: number, count: number) => {
    const device = await getDeviceForUpdate(tx, store.dialect, workspaceId, lock.device_id);
    if (!device) throw new Error(`lock ${lock.device_id} vanished`);
    for (let i = 0; i < count; i++) {
      const startsAt = E - (Math.floor(i / PER_SLOT) + 2) * HOUR;
      await createOfflineAccessCode(
        services,
        tx,
        device,
        { name: `${DRAIN_PREFIX}${first + i}`, starts_at: startsAt, ends_at: E, is_one_time_use: false },
        startsAt,
      );
    }
  };
  const jobs = locks.map((lock, i) => ({
    lock,
    first: i * PER_LOCK,
    count: Math.min(PER_LOCK, n - i * PER_LOCK),
  }));
  let created = 0;
  if (store.dialect === 'sqlite') {
    // One writer: ~1,000 codes per transaction.
    for (let i = 0; i < jobs.length; i += 5) {
      await store.db.transaction().execute(async (tx) => {
        for (const job of jobs.slice(i, i + 5)) await fill(tx, job.lock, job.first, job.count);
      });
      created += jobs.slice(i, i + 5).reduce((t, j) => t + j.count, 0);
      progress(created, n, t0);
    }
  } else {
    // Postgres: eight locks at a time, one transaction per lock (198 codes).
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < jobs.length; i = next++) {
        const job = jobs[i] as (typeof jobs)[number];
        await store.db.transaction().execute((tx) => fill(tx, job.lock, job.first, job.count));
        created += job.count;
        progress(created, n, t0);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }
  const tCodes = performance.now();

  // The codes the API load reads: they start a day after E, so advance_clock PT3H does not touch them.
  const getLock = await store.db.transaction().execute((tx) => newLock(tx, 'drain get lock'));
  const getIds: string[] = [];
  await store.db.transaction().execute(async (tx) => {
    const device = await getDeviceForUpdate(tx, store.dialect, workspaceId, getLock.device_id);
    if (!device) throw new Error('get lock vanished');
    const now = Date.now();
    for (let i = 0; i < GET_CODES; i++) {
      const startsAt = E + (24 + Math.floor(i / PER_SLOT)) * HOUR;
      const { code } = await createOfflineAccessCode(
        services,
        tx,
        device,
        { name: `get ${i}`, starts_at: startsAt, ends_at: startsAt + 2 * HOUR, is_one_time_use: false },
        now,
      );
      getIds.push(code.access_code_id);
    }
  });
  return {
    workspace_id: workspaceId,
    locks: locks.length,
    codes: n,
    ends_at: E,
    get_ids: getIds,
    lock_seconds: (tLocks - t0) / 1000,
    code_seconds: (tCodes - tLocks) / 1000,
  };
}

let lastProgress = 0;
function progress(done: number, total: number, t0: number): void {
  const now = performance.now();
  if (now - lastProgress < 5_000 && done < total) return;
  lastProgress = now;
  process.stderr.write(
    `    loaded ${done.toLocaleString('en-US')} / ${total.toLocaleString('en-US')} codes (${((now - t0) / 1000).toFixed(0)} s)\n`,
  );
}

async function verify(store: Store): Promise<Record<string, unknown>> {
  const { db } = store;
  const count = async (query: { executeTakeFirstOrThrow(): Promise<{ n: number | string | bigint }> }) =>
    Number((await query.executeTakeFirstOrThrow()).n);
  const drained = db.selectFrom('access_codes').where('name', 'like', `${DRAIN_PREFIX}%`);
  const codes = await count(drained.select((eb) => eb.fn.countAll().as('n')));
  const removed = await count(
    drained.where('removed_at', 'is not', null).select((eb) => eb.fn.countAll().as('n')),
  );
  const events = (type: string) =>
    db
      .selectFrom('events')
      .innerJoin('access_codes', 'access_codes.access_code_id', 'events.access_code_id')
      .where('access_codes.name', 'like', `${DRAIN_PREFIX}%`)
      .where('events.event_type', '=', type);
  const removedEvents = await count(
    events('access_code.removed_from_device').select((eb) => eb.fn.countAll().as('n')),
  );
  const removedCodes = await count(
    events('access_code.removed_from_device').select((eb) =>
      eb.fn.count('events.access_code_id').distinct().as('n'),
    ),
  );
  const deletedEvents = await count(events('access_code.deleted').select((eb) => eb.fn.countAll().as('n')));
  const jobs = await db
    .selectFrom('jobs')
    .where('kind', '=', LIFECYCLE_JOB)
    .select(['status', (eb) => eb.fn.countAll().as('n'), (eb) => eb.fn.max('attempts').as('max_attempts')])
    .groupBy('status')
    .execute();
  const byStatus = Object.fromEntries(jobs.map((j) => [j.status, Number(j.n)]));
  const maxAttempts = Math.max(
    0,
    ...jobs.filter((j) => j.status === 'done').map((j) => Number(j.max_attempts)),
  );
  const ok =
    codes > 0 &&
    removed === codes &&
    removedEvents === codes &&
    removedCodes === codes &&
    deletedEvents === codes &&
    byStatus.done === codes &&
    (byStatus.pending ?? 0) === GET_CODES &&
    (byStatus.running ?? 0) === 0 &&
    (byStatus.failed ?? 0) === 0 &&
    maxAttempts === 1;
  return { ok, codes, removed, removedEvents, removedCodes, deletedEvents, jobs: byStatus, maxAttempts };
}

const store = await openStore(databaseUrl);
try {
  const result = mode === 'load' ? await load(store) : await verify(store);
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
} finally {
  await store.close();
}
