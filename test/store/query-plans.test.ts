import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { createLocks, loadHistory, postgresSink, type RowSink, sqliteSink } from '../../bench/growth/load.ts';
import { createIgloohomeClient } from '../../src/igloohome/clients.ts';
import { testDialects } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  captured,
  type DialectName,
  explainPostgres,
  explainSqlite,
  installStatementCapture,
  isPlannable,
  type Plan,
} from './plans.ts';

// Every statement the server runs while a realistic mix of requests goes through the real API and the job
// runners — captured under Kysely, on the drivers, so precompiled and raw statements count too — is EXPLAINed
// with the parameters it ran with, and none may read a large table in a way that grows with it:
//   - no full scan: SQLite `SCAN <table>` without an index (`SCAN … USING [COVERING] INDEX` is fine);
//     Postgres `Seq Scan`, planned with enable_seqscan off (it remains only where no index can serve);
//   - no sort an index could spare: `USE TEMP B-TREE FOR ORDER BY` (sorting ties only, `… RIGHT PART OF` /
//     `LAST TERM OF`, is fine); a Postgres Sort that remains with enable_sort off too;
//   - no automatic index (SQLite building one for the statement);
//   - no search of a growing table (codes, events, attempts, jobs, deliveries) keyed only by the workspace,
//     a status, a removed/deleted flag or an instant: one workspace may hold every row.
// SQLite plans as in production, without statistics. Postgres plans with statistics, as autovacuum keeps them
// in production: the workspace gets some history first (bench:growth's loader) and is ANALYZEd, so the planner
// knows that one workspace holds every row rather than guessing from tables of a few rows. Migrations,
// first-start seeding and that load run once per database and are not checked.
//
// The capture is dynamic, so a new or changed statement is checked the day it lands. One that legitimately
// reads so goes on ALLOWED with its reason; TODO entries name work in progress elsewhere.
// QUERY_PLANS_VERBOSE=1 prints every statement with its plan.

/**
 * Statements allowed to keep a problem the checker reports: `sql` matches the statement text, `problem`
 * matches the reported problem (so a new problem in the same statement still fails), `why` says why it
 * does not grow.
 */
const ALLOWED: { dialects?: DialectName[]; sql: RegExp; problem: RegExp; why: string }[] = [
  // ---- jobs (src/store/repos/jobs.ts and migration 007 belong to the job-queue work in progress)
  {
    sql: /^update "jobs" set "due" = "due" - [?$\d]+ where "workspace_id" = [?$\d]+ and status in \('pending', 'running'\)/,
    problem: /^jobs: searched by .*workspace_id.* only \(jobs_open_by_workspace\)/,
    why:
      'TODO(jobs claim, migration 007): advance_clock (sandbox only) moves every open job of the workspace ' +
      'with its clock — by design as many rows as the workspace has pending jobs (one per live code), read ' +
      'through the partial index of open jobs, never the history.',
  },
  {
    dialects: ['sqlite'], // Postgres leaves a partial index's constant out of its Index Cond: nothing reported
    sql: /^\s*select s\.kind, count\(\*\) as n,/,
    problem: /^jobs: searched by status=\? only \((jobs_pending_due|jobs_leased)\)/,
    why:
      '/metrics job-queue gauges (src/metrics/queue.ts): the pending jobs in jobs_pending_due order (due), the ' +
      'running ones in jobs_leased order (locked_until) — partial indexes of open jobs only, keyed by their ' +
      'constant status — stopping at QUEUE_SCAN_LIMIT (10 000) rows per scrape by design, then grouped by kind.',
  },
  // ---- access codes
  {
    sql: /^select \* from "access_codes" where "device_id" = [?$\d]+ and "code" = [?$\d]+ order by "created_at" desc/,
    problem: /^access_codes: rows sorted/,
    why:
      'The keypad naming a PIN: the codes of one lock with that PIN (access_codes_by_pin), newest first — a ' +
      'PIN of 8–10 digits all but never repeats on a lock, so the sort is of one row. (The index has ' +
      'removed_at before created_at, so it cannot give this order.)',
  },
  // ---- rows the request names by id, sorted after they are fetched by their keys
  {
    sql: /^select \* from "access_codes" where "workspace_id" \|\| '' = [?$\d]+ and "removed_at" is null and "access_code_id" in /,
    problem: /^access_codes: rows sorted/,
    why: '/access_codes/list?access_code_ids=: the codes named, fetched by primary key, then put in list order.',
  },
  {
    dialects: ['sqlite'], // nothing reported on Postgres
    sql: /^select \* from "action_attempts" where "workspace_id" = [?$\d]+ and "action_attempt_id" in /,
    problem: /^action_attempts: rows sorted/,
    why: '/action_attempts/list?action_attempt_ids=: the attempts named, by primary key, then sorted.',
  },
  {
    dialects: ['sqlite'], // nothing reported on Postgres
    sql: /^select \* from "devices" where "workspace_id" = [?$\d]+ and "device_id" in /,
    problem: /^devices: rows sorted/,
    why: '/devices/list?device_ids=: the locks named, by primary key, then sorted.',
  },
  {
    sql: /^select \* from "webhook_attempts" where "delivery_id" in /,
    problem: /^webhook_attempts: rows sorted/,
    why:
      '/webhooks/deliveries/list: the attempts of the page of deliveries just read (at most `limit` ' +
      'deliveries, each with its few attempts), by webhook_attempts_by_delivery, then sorted.',
  },
  // ---- a time window of the workspace's events
  {
    sql: /^select "body" from "events" where "workspace_id" = [?$\d]+ and "created_at" >= [?$\d]+ (and "created_at" <= [?$\d]+ )?(and "event_type" in .* )?order by "created_at", "event_id" limit/,
    problem: /^events: searched by .*workspace_id.*created_at.* only/,
    why:
      "/events/list since (or between) an instant, optionally by type: the window of the workspace's events " +
      'in events_by_workspace order, stopping at `limit`. It grows with the window a client asks for (clients ' +
      'poll since their last poll), not with the table.',
  },
  {
    dialects: ['sqlite'],
    sql: /^select "body" from "events" where "workspace_id" = \? and "created_at" >= \? and "(device_id|access_code_id|event_id)" in /,
    problem: /^events: searched by workspace_id=\? AND created_at>\? only/,
    why:
      '/events/list by lock, code or id within a window. SQLite, without statistics, prefers walking the ' +
      "window in index order, filtering, to a lock's or code's index and a sort (so migration 010 drops " +
      'those on SQLite): the read grows with the window, not the table (Postgres, with statistics, uses them). ' +
      "The `[…ids, '']` sentinel of src/store/repos/events.ts makes every list two values, so no index " +
      "can give one lock's events in order.",
  },
];

/**
 * Statements an index exists for: each must be among those captured, and its plan must read that index. (On
 * Postgres, one of its two plans: with sorts allowed and the statistics of a short queue, the planner may
 * rather sort a few rows; the plan without sorts shows the order the index gives, and is judged for sorts
 * above.) Without this, a planner falling back to another index — still no scan, no sort — would leave the
 * index written by every job it covers and read by nothing.
 */
const EXPECTED_INDEXES: { sql: RegExp; index: string; why: string }[] = [
  {
    sql: /^\s*select s\.kind, count\(\*\) as n, 0 as live,/,
    index: 'jobs_pending_due',
    why: '/metrics: pending jobs, earliest due first (migration 011 dropped jobs_due (status, run_at))',
  },
  {
    sql: /^\s*select s\.kind, count\(\*\) as n,\s+sum\(case when s\.locked_until/,
    index: 'jobs_leased',
    why: '/metrics: running jobs, expired leases first',
  },
  {
    sql: /^update "jobs" set "run_at" = .* where "device_id" = [?$\d]+ and status = 'pending' and run_at = 9007199254740991$/,
    index: 'jobs_parked_by_device',
    why: "wakeParkedJobs: a bridge back on-line wakes its lock's parked jobs (partial index, migration 011)",
  },
];

const HOUR = 3_600_000;
/** Monday 2030-01-07 09:30 UTC: the server's real clock is pinned here. */
const T0 = Date.UTC(2030, 0, 7, 9, 30);
const iso = (ms: number) => new Date(ms).toISOString();

/**
 * History for the sandbox workspace before the requests run, from bench:growth's loader: 40 more locks with
 * 25 codes each (most removed), their attempts, events and jobs. SQLite plans without statistics, so this is
 * for Postgres: after ANALYZE its planner knows what a big installation looks like — one workspace holding
 * every row, a lock's rows a small share of it — rather than guessing from tables of a few rows.
 */
async function loadBackground(server: TestServer): Promise<void> {
  const workspace = server.sandbox.workspace;
  const account = server.sandbox.connected_account;
  assert.ok(account);
  const ids = { workspace_id: workspace.workspace_id, connected_account_id: account.connected_account_id };
  const locks = await createLocks(server.services, ids, 40, T0 - 400 * 24 * HOUR, (i) => `History lock ${i}`);
  const url = server.database.url;
  const sqlite = url.startsWith('sqlite:') ? new SqliteDatabase(url.slice('sqlite:'.length)) : null;
  const postgres = sqlite ? null : new pg.Client(url);
  await postgres?.connect();
  try {
    const sink: RowSink = sqlite ? sqliteSink(sqlite) : await postgresSink(postgres as pg.Client);
    const writer = { taken: new Map(), jobsHaveDue: false, clockOffsetMs: 0 };
    const jobs = sqlite
      ? (sqlite.prepare('select name from pragma_table_info(?)').all('jobs') as { name: string }[])
      : (
          await (postgres as pg.Client).query(
            "select column_name as name from information_schema.columns where table_name = 'jobs'",
          )
        ).rows;
    writer.jobsHaveDue = jobs.some((c) => c.name === 'due');
    await loadHistory(sink, writer, locks, () => ({ skip: 0, count: 25 }), T0, 1);
  } finally {
    sqlite?.close();
    await postgres?.end();
  }
}

for (const dialect of testDialects()) {
  describe(`query plans of every statement the API and the jobs run (${dialect.name})`, () => {
    let server: TestServer;
    let receiver: http.Server;
    let receiverUrl: string;
    let received = 0;

    before(async () => {
      installStatementCapture();
      server = await startTestServer(dialect);
      server.clock.now = T0;
      await loadBackground(server);
      // Only from here: migrations, first-start seeding and the background load run once per database (a
      // migration may well scan a table: 007 fills jobs.due with one UPDATE of every row).
      captured.statements.clear();
      captured.enabled = true;
      receiver = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          received += 1;
          res.writeHead(200).end('ok');
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
      receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    });
    after(async () => {
      await server?.close();
      receiver?.closeAllConnections();
      await new Promise((resolve) => receiver?.close(resolve));
    });

    /** A request that must succeed; returns its JSON body. */
    async function ok(path: string, body: Record<string, unknown> = {}, method = 'POST') {
      const r = await call(server, path, { method, body });
      assert.equal(r.status, 200, `${path}: ${r.text}`);
      return r.json;
    }
    async function refused(path: string, body: Record<string, unknown>, status: number) {
      const r = await call(server, path, { body });
      assert.equal(r.status, status, `${path}: ${r.text}`);
    }
    const runJobs = () => server.jobs.runDue();

    it('runs a realistic request mix, capturing every statement', async () => {
      // Authentication: a good key on every request below, and a wrong one.
      assert.equal((await call(server, '/devices/list', { key: 'seam_wrong_key_000000000000' })).status, 401);
      await ok('/workspaces/get', {}, 'GET');

      // Webhooks: one receiver that answers, one that refuses connections (its deliveries retry).
      const hook = (await ok('/webhooks/create', { url: receiverUrl, event_types: ['*'] })).webhook;
      const dead = (
        await ok('/webhooks/create', { url: 'http://127.0.0.1:9/dead', event_types: ['access_code.created'] })
      ).webhook;
      await ok('/webhooks/get', { webhook_id: hook.webhook_id });
      await ok('/webhooks/list');
      await ok('/webhooks/update', {
        webhook_id: dead.webhook_id,
        event_types: ['access_code.created', 'access_code.deleted'],
      });

      // Devices and accounts.
      const lock = (await ok('/devices/simulate/create', { name: 'Plans lock' })).device.device_id;
      const bridged = (await ok('/devices/simulate/create', { name: 'Plans bridge', has_bridge: true }))
        .device.device_id;
      const other = (await ok('/devices/simulate/create', { name: 'Plans bridge 2', has_bridge: true }))
        .device.device_id;
      const page1 = await ok('/devices/list', { limit: 1 });
      assert.ok(page1.pagination.next_page_cursor);
      await ok('/devices/list', { limit: 1, page_cursor: page1.pagination.next_page_cursor });
      const account = page1.devices[0].connected_account_id;
      await ok('/devices/list', { search: 'plans', include_if: ['can_program_online_access_codes'] });
      await ok('/devices/list', { device_ids: [lock, bridged], connected_account_id: account });
      await ok('/devices/get', { device_id: lock });
      await ok('/devices/get', { name: 'Plans lock' });
      await ok('/locks/list', { connected_account_id: account });
      await ok('/locks/get', { device_id: bridged });
      await ok('/connected_accounts/list');
      await ok('/connected_accounts/get', { connected_account_id: account });

      // Offline codes: hourly (future: unset), daily, one-time, permanent (set at once), a full slot (409).
      const start = Math.ceil(T0 / HOUR) * HOUR + 3 * HOUR;
      const hourly = [];
      for (let i = 0; i < 3; i++) {
        hourly.push(
          (
            await ok('/access_codes/create', {
              device_id: lock,
              name: `hourly ${i}`,
              is_offline_access_code: true,
              starts_at: iso(start),
              ends_at: iso(start + 2 * HOUR),
            })
          ).access_code,
        );
      }
      await refused(
        '/access_codes/create',
        {
          device_id: lock,
          is_offline_access_code: true,
          starts_at: iso(start),
          ends_at: iso(start + 2 * HOUR),
        },
        409,
      );
      await ok('/access_codes/create', {
        device_id: lock,
        is_offline_access_code: true,
        starts_at: iso(start),
        ends_at: iso(start + 40 * 24 * HOUR),
        max_time_rounding: '1d',
      });
      await ok('/access_codes/create', {
        device_id: lock,
        is_offline_access_code: true,
        is_one_time_use: true,
        starts_at: iso(start + HOUR),
      });
      const permanent = (await ok('/access_codes/create', { device_id: lock, is_offline_access_code: true }))
        .access_code;

      // Online codes: a PIN given, a generated one, a shared one (common_code_key), several locks at once.
      const online = (
        await ok('/access_codes/create', { device_id: bridged, name: 'online', code: '123456' })
      ).access_code;
      const timed = (
        await ok('/access_codes/create', {
          device_id: bridged,
          starts_at: iso(start),
          ends_at: iso(start + 5 * HOUR),
        })
      ).access_code;
      await ok('/access_codes/create', { device_id: bridged, common_code_key: 'family' });
      await ok('/access_codes/create', { device_id: other, common_code_key: 'family' });
      await ok('/access_codes/create_multiple', { device_ids: [bridged, other], name: 'both' });
      await ok('/access_codes/generate_code', { device_id: bridged });
      await runJobs();

      // Reads: by id, by PIN, lists with and without a cursor, by ids.
      await ok('/access_codes/get', { access_code_id: hourly[0].access_code_id }, 'GET');
      await ok('/access_codes/get', { device_id: lock, code: permanent.code });
      const codes = await ok('/access_codes/list', { device_id: lock, limit: 2 });
      assert.ok(codes.pagination.next_page_cursor);
      await ok('/access_codes/list', {
        device_id: lock,
        limit: 2,
        page_cursor: codes.pagination.next_page_cursor,
      });
      await ok('/access_codes/list', { device_id: bridged });
      await ok('/access_codes/list', {
        access_code_ids: [hourly[1].access_code_id, online.access_code_id],
      });

      // Changes: update an online code, the bridge off-line (jobs park) and back (jobs wake), deletes.
      await ok('/access_codes/update', {
        access_code_id: online.access_code_id,
        name: 'renamed',
        code: '654321',
      });
      await ok('/devices/simulate/disconnect', { device_id: bridged });
      await ok('/access_codes/create', { device_id: bridged, code: '777777' });
      await runJobs();
      await ok('/devices/simulate/connect', { device_id: bridged });
      await ok('/access_codes/delete', { access_code_id: online.access_code_id });
      await ok('/access_codes/delete', { access_code_id: timed.access_code_id });
      await runJobs();

      // The virtual locks: keypad (right and wrong PIN), a Bluetooth delete, clock drift.
      await ok('/locks/simulate/keypad_code_entry', { device_id: lock, code: permanent.code });
      await ok('/locks/simulate/keypad_code_entry', { device_id: lock, code: '9999999999' });
      await ok('/locks/simulate/bluetooth_delete_code', {
        device_id: lock,
        access_code_id: hourly[2].access_code_id,
      });
      await ok('/locks/simulate/set_clock_drift', { device_id: lock, drift: 'PT2M' });

      // Time passes: every lifecycle step runs (setting, set, removed), webhooks retry.
      await ok('/workspaces/simulate/advance_clock', { by: 'PT6H' });
      server.clock.now += 60_000;
      await runJobs();
      await ok('/locks/simulate/keypad_code_entry', { device_id: lock, code: hourly[0].code });

      // History: events and action attempts, filtered every way.
      const events = (await ok('/events/list', { since: iso(T0 - HOUR), limit: 500 })).events;
      assert.ok(events.length > 20, `only ${events.length} events`);
      await ok('/events/list', { between: [iso(T0), iso(T0 + 24 * HOUR)] });
      await ok('/events/list', { since: iso(T0), device_id: lock });
      await ok('/events/list', { since: iso(T0), access_code_id: hourly[0].access_code_id });
      await ok('/events/list', { since: iso(T0), event_type: 'access_code.created' });
      await ok('/events/list', { since: iso(T0), event_ids: [events[0].event_id] });
      await ok('/events/get', { event_id: events[1].event_id });
      const attempts = (await ok('/action_attempts/list', { device_id: lock })).action_attempts;
      await ok('/action_attempts/list', { action_attempt_ids: [attempts[0].action_attempt_id] });
      await ok('/action_attempts/get', { action_attempt_id: attempts[0].action_attempt_id });

      // Webhook deliveries.
      assert.ok(received > 0, 'the receiver got no delivery');
      await ok('/webhooks/deliveries/list', { webhook_id: hook.webhook_id });
      const delivered = (
        await ok('/webhooks/deliveries/list', { webhook_id: hook.webhook_id, status: 'succeeded', limit: 1 })
      ).deliveries;
      await ok('/webhooks/deliveries/list', { webhook_id: dead.webhook_id, status: 'pending' });
      await ok('/webhooks/deliveries/resend', { delivery_id: delivered[0].delivery_id });
      await runJobs();
      await ok('/webhooks/delete', { webhook_id: dead.webhook_id });
      server.clock.now += 3 * HOUR;
      await runJobs();

      // The igloohome-compatible API: a token, devices, a PIN.
      const client = await createIgloohomeClient(
        server.store,
        server.sandbox.workspace.workspace_id,
        { name: 'plans' },
        server.clock.now,
      );
      const basic = Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64');
      const token = await call(server, '/igloohome/oauth2/token', {
        key: null,
        rawBody: 'grant_type=client_credentials',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${basic}` },
      });
      assert.equal(token.status, 200, token.text);
      const bearer = { key: token.json.access_token as string, method: 'GET' };
      const devices = await call(server, '/igloohome/devices', bearer);
      assert.equal(devices.status, 200, devices.text);
      const provider = devices.json.payload[0].deviceId as string;
      assert.equal((await call(server, `/igloohome/devices/${provider}`, bearer)).status, 200);
      const pin = await call(server, `/igloohome/devices/${provider}/algopin/hourly`, {
        key: bearer.key,
        body: {
          variance: 1,
          startDate: iso(start + 30 * HOUR).replace('.000Z', 'Z'),
          endDate: iso(start + 32 * HOUR).replace('.000Z', 'Z'),
          accessName: 'plans',
        },
      });
      assert.equal(pin.status, 200, pin.text);
      // The job-queue gauges.
      const metrics = await call(server, '/metrics', { method: 'GET', key: null });
      assert.equal(metrics.status, 200, metrics.text);
      captured.enabled = false;
    });

    it('plans no statement that reads a large table in a way that grows with it', async () => {
      const statements = [...captured.statements.values()].filter((st) => isPlannable(st.sql));
      assert.ok(statements.length > 60, `only ${statements.length} statements captured`);
      const path = server.database.url.slice('sqlite:'.length);
      const sqlite = dialect.name === 'sqlite' ? new SqliteDatabase(path, { readonly: true }) : null;
      const postgres = dialect.name === 'postgres' ? new pg.Client(server.database.url) : null;
      await postgres?.connect();
      // Postgres plans by statistics, which autovacuum keeps in production: gather them, so that the planner
      // knows what this data shares with a big installation — one workspace holds every row.
      await postgres?.query('ANALYZE');
      const found: string[] = [];
      const report: string[] = [];
      const used = new Set<number>();
      const expected = new Set<number>();
      try {
        for (const statement of statements) {
          let plan: Plan;
          try {
            plan = sqlite
              ? explainSqlite(sqlite, statement)
              : await explainPostgres(postgres as pg.Client, statement);
          } catch (error) {
            found.push(`${statement.sql}\n    cannot EXPLAIN: ${(error as Error).message}`);
            continue;
          }
          report.push(`\n${statement.count}× ${statement.sql}\n${plan.text.replace(/^/gm, '    ')}`);
          EXPECTED_INDEXES.forEach((e, i) => {
            if (!e.sql.test(statement.sql)) return;
            expected.add(i);
            if (!new RegExp(`\\b${e.index}\\b`).test(plan.text)) {
              found.push(
                `${statement.sql}\n    does not read ${e.index} (${e.why})\n${plan.text.replace(/^/gm, '    | ')}`,
              );
            }
          });
          for (const problem of plan.problems) {
            const allowed = ALLOWED.findIndex(
              (a) =>
                (a.dialects ?? [dialect.name]).includes(dialect.name) &&
                a.sql.test(statement.sql) &&
                a.problem.test(problem),
            );
            if (allowed >= 0) used.add(allowed);
            else found.push(`${statement.sql}\n    ${problem}\n${plan.text.replace(/^/gm, '    | ')}`);
          }
        }
      } finally {
        sqlite?.close();
        await postgres?.end();
      }
      if (process.env.QUERY_PLANS_VERBOSE === '1') console.log(report.join('\n'));
      const unused = ALLOWED.filter(
        (a, i) => !used.has(i) && (a.dialects ?? [dialect.name]).includes(dialect.name),
      );
      for (const a of unused) console.log(`allow-list entry not needed any more (${dialect.name}): ${a.sql}`);
      for (const [i, e] of EXPECTED_INDEXES.entries()) {
        if (!expected.has(i)) found.push(`no statement captured for ${e.index} (${e.why}): ${e.sql}`);
      }
      assert.deepEqual(found, [], `${found.length} plan problem(s):\n\n${found.join('\n\n')}`);
    });
  });
}
