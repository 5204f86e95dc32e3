import { sql } from 'kysely';
import { Gauge, Registry } from 'prom-client';
import type { Db } from '../store/index.ts';

// Job-queue gauges, read from the `jobs` table when /metrics is scraped. They describe the database, not the
// process: every process on one Postgres reports the same numbers.
//
// Due-ness is decided exactly as `claimDueJobs` decides it: a pending job whose `due` has come (`due` is its
// `run_at` on the real clock: less its workspace's `clock_offset_ms`, kept so by advance_clock), or a running
// job whose lease ran out. The scan is bounded: it reads at most QUEUE_SCAN_LIMIT pending jobs, the
// earliest `due` first (the most overdue on the real clock: `due` is `run_at` less the offset), along the
// partial index `jobs_pending_due (status, due, job_id)`; and as many running ones, the earliest
// `locked_until` first (the leases that ran out), along `jobs_leased (status, locked_until)` — the claim's own
// indexes (migration 007), over open jobs only. Past the limit the counts are lower bounds and
// `latchkey_jobs_scan_limited` is 1. The statuses are SQL literals: a planner matches a partial index to
// literals, never to bound parameters.

export const QUEUE_SCAN_LIMIT = 10_000;

export interface KindStats {
  /** Pending jobs: due, scheduled for later, or parked until a bridge comes back. */
  pending: number;
  /** Running jobs whose lease has not run out. */
  running: number;
  /** Jobs a runner would claim now. */
  due: number;
  /** How late the most overdue due job is, in ms (0 with none due). */
  oldestDueMs: number;
}

export interface QueueStats {
  byKind: Map<string, KindStats>;
  /** True when a scan stopped at QUEUE_SCAN_LIMIT rows. */
  limited: boolean;
}

interface Row {
  kind: string;
  n: number | string;
  live: number | string;
  due: number | string;
  oldest_due_ms: number | string | null;
}

/** Two grouped, index-ordered, LIMITed queries: one over pending jobs, one over running ones. */
export async function readQueueStats(db: Db, realNow: number, limit = QUEUE_SCAN_LIMIT): Promise<QueueStats> {
  const pending = await sql<Row>`
    select s.kind, count(*) as n, 0 as live,
      sum(case when s.due <= ${realNow} then 1 else 0 end) as due,
      max(case when s.due <= ${realNow} then ${realNow} - s.due end) as oldest_due_ms
    from (
      select j.kind, j.due from jobs j
      where j.status = 'pending'
      order by j.due
      limit ${limit}
    ) s
    group by s.kind`.execute(db);
  // A running job whose lease ran out is due again (its process died); it was due when it was claimed.
  const running = await sql<Row>`
    select s.kind, count(*) as n,
      sum(case when s.locked_until < ${realNow} then 0 else 1 end) as live,
      sum(case when s.locked_until < ${realNow} and s.due <= ${realNow} then 1 else 0 end) as due,
      max(case when s.locked_until < ${realNow} and s.due <= ${realNow} then ${realNow} - s.due end) as oldest_due_ms
    from (
      select j.kind, j.due, j.locked_until from jobs j
      where j.status = 'running'
      order by j.locked_until
      limit ${limit}
    ) s
    group by s.kind`.execute(db);
  const byKind = new Map<string, KindStats>();
  const entry = (kind: string) => {
    let stats = byKind.get(kind);
    if (!stats) {
      stats = { pending: 0, running: 0, due: 0, oldestDueMs: 0 };
      byKind.set(kind, stats);
    }
    return stats;
  };
  let pendingSeen = 0;
  let runningSeen = 0;
  for (const r of pending.rows) {
    const s = entry(r.kind);
    s.pending += Number(r.n);
    s.due += Number(r.due ?? 0);
    s.oldestDueMs = Math.max(s.oldestDueMs, Number(r.oldest_due_ms ?? 0));
    pendingSeen += Number(r.n);
  }
  for (const r of running.rows) {
    const s = entry(r.kind);
    s.running += Number(r.live ?? 0);
    s.due += Number(r.due ?? 0);
    s.oldestDueMs = Math.max(s.oldestDueMs, Number(r.oldest_due_ms ?? 0));
    runningSeen += Number(r.n);
  }
  return { byKind, limited: pendingSeen >= limit || runningSeen >= limit };
}

/** The queue gauges of one app (one database), in a registry of their own. */
export class QueueMetrics {
  readonly registry = new Registry();
  private readonly kinds = new Set<string>();
  private readonly pending = this.gauge(
    'latchkey_jobs_pending',
    'Pending jobs (due, scheduled or parked) by kind',
  );
  private readonly running = this.gauge('latchkey_jobs_running', 'Running jobs (lease not run out) by kind');
  private readonly due = this.gauge('latchkey_jobs_due', 'Jobs due now (a runner would claim them) by kind');
  private readonly oldestDue = this.gauge(
    'latchkey_jobs_oldest_due_age_seconds',
    'How late the most overdue due job is, on its workspace clock, by kind (0: none due)',
  );
  private readonly limited = new Gauge({
    name: 'latchkey_jobs_scan_limited',
    help: `1 when the queue scan stopped at ${QUEUE_SCAN_LIMIT} jobs (the job gauges are then lower bounds)`,
    registers: [this.registry],
  });
  private readonly ok = new Gauge({
    name: 'latchkey_jobs_scrape_ok',
    help: '1 when this scrape read the job queue; 0 when the query failed (the job gauges are then absent)',
    registers: [this.registry],
  });

  constructor(
    private readonly db: Db,
    private readonly realNow: () => number,
  ) {}

  private gauge(name: string, help: string) {
    return new Gauge({ name, help, labelNames: ['kind'] as const, registers: [this.registry] });
  }

  /** Reads the table and sets the gauges. A kind seen once stays, at 0, when its jobs are gone. */
  async refresh(): Promise<void> {
    const stats = await readQueueStats(this.db, this.realNow());
    for (const kind of stats.byKind.keys()) this.kinds.add(kind);
    for (const kind of this.kinds) {
      const s = stats.byKind.get(kind) ?? { pending: 0, running: 0, due: 0, oldestDueMs: 0 };
      this.pending.set({ kind }, s.pending);
      this.running.set({ kind }, s.running);
      this.due.set({ kind }, s.due);
      this.oldestDue.set({ kind }, s.oldestDueMs / 1000);
    }
    this.limited.set(stats.limited ? 1 : 0);
    this.ok.set(1);
  }

  /** The query failed: no stale numbers are shown, only the failure. */
  failed(): void {
    for (const g of [this.pending, this.running, this.due, this.oldestDue, this.limited]) g.reset();
    this.ok.set(0);
  }
}
