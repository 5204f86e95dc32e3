import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { WEBHOOK_DELIVERY_JOB } from '../../src/app/webhooks.ts';
import type { JobContext } from '../../src/jobs/runner.ts';
import { ATTEMPT_IN_FLIGHT_MS, deliverWebhook } from '../../src/jobs/webhook-delivery.ts';
import type { JobRecord } from '../../src/store/repos/jobs.ts';
import { claimDeliveryAttempt } from '../../src/store/repos/webhooks.ts';
import { asClient, createOffline, HOUR, T0, timeFrame } from '../api/access-codes.helpers.ts';
import { createWebhook, listDeliveries } from '../api/webhooks.helpers.ts';
import { testDialects } from '../helpers/databases.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// The webhook delivery handler when two runners hold a job for the same delivery: a process that lost the
// job's lease while still in it (stalled, or starved of connections) and the one that took the job over. The
// attempt is taken on the delivery row before the POST, so the receiver never gets the same attempt twice
// (test/scale/lease-starvation.test.ts is the end-to-end case). The handler is called directly, as two
// runners would call it; the server's runners are not started.

for (const dialect of testDialects()) {
  describe(`webhook delivery attempts taken on the delivery row (${dialect.name})`, () => {
    let server: TestServer;
    let receiver: http.Server;
    const received: { path: string; svixId: string }[] = [];
    /** Per path: the status to answer, and a gate the answer waits for. */
    const routes = new Map<string, { status: number; gate?: Promise<void> }>();

    before(async () => {
      server = await startTestServer(dialect);
      server.clock.now = T0;
      receiver = http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          const path = req.url ?? '/';
          received.push({ path, svixId: String(req.headers['svix-id']) });
          const route = routes.get(path) ?? { status: 200 };
          void (route.gate ?? Promise.resolve()).then(() => res.writeHead(route.status).end());
        });
      });
      await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    });
    after(async () => {
      await server?.close();
      receiver?.closeAllConnections();
      await new Promise((resolve) => receiver?.close(resolve));
    });

    const posts = (path: string) => received.filter((r) => r.path === path);
    const ctx = (): JobContext => ({ services: server.services, store: server.store, now: server.clock.now });

    /** A fresh sandbox with a webhook at `path` and one event: returns its delivery id and the pending job. */
    async function oneDelivery(path: string) {
      const ws = await server.createOtherWorkspace();
      const front = ws.devices.find((d) => !d.has_bridge)?.device_id;
      assert.ok(front);
      const client = asClient(server, ws.api_key);
      const { port } = receiver.address() as AddressInfo;
      const webhook = await createWebhook(client, {
        url: `http://127.0.0.1:${port}${path}`,
        event_types: ['access_code.created'],
      });
      await createOffline(client, timeFrame(front, Date.UTC(2030, 0, 8, 12), 3 * HOUR));
      const [job] = await pendingJobs(ws.workspace.workspace_id);
      assert.ok(job, 'a delivery job');
      return {
        deliveryId: (job.payload as { delivery_id: string }).delivery_id,
        job,
        ws,
        listed: () => listDeliveries(client, webhook.webhook_id),
      };
    }

    async function pendingJobs(workspaceId: string): Promise<JobRecord[]> {
      const rows = await server.store.db
        .selectFrom('jobs')
        .selectAll()
        .where('workspace_id', '=', workspaceId)
        .where('kind', '=', WEBHOOK_DELIVERY_JOB)
        .where('status', '=', 'pending')
        .orderBy('job_id')
        .execute();
      return rows.map((r) => ({ ...r, payload: JSON.parse(r.payload) }));
    }

    async function delivery(deliveryId: string) {
      const row = await server.store.db
        .selectFrom('webhook_deliveries')
        .select(['status', 'attempts'])
        .where('delivery_id', '=', deliveryId)
        .executeTakeFirstOrThrow();
      const attempts = await server.store.db
        .selectFrom('webhook_attempts')
        .select('attempt_number')
        .where('delivery_id', '=', deliveryId)
        .orderBy('attempt_number')
        .execute();
      return { ...row, recorded: attempts.map((a) => a.attempt_number) };
    }

    it('a second runner does not POST an attempt that is in flight, and finds nothing left once it is answered', async () => {
      let answer: () => void = () => {};
      routes.set('/held', { status: 200, gate: new Promise((resolve) => (answer = resolve)) });
      const { deliveryId, job } = await oneDelivery('/held');

      const first = deliverWebhook(job, ctx());
      while (posts('/held').length === 0) await new Promise((r) => setTimeout(r, 5));
      await assert.rejects(deliverWebhook(job, ctx()), /attempt 1 is in flight/);
      answer();
      await first;
      await deliverWebhook(job, ctx()); // the job's retry: the delivery succeeded meanwhile
      assert.deepEqual(
        posts('/held').map((r) => r.svixId),
        [deliveryId],
      );
      assert.deepEqual(await delivery(deliveryId), { status: 'succeeded', attempts: 1, recorded: [1] });
    });

    it('the API counts an attempt once its outcome is recorded, not while it is in flight', async () => {
      let answer: () => void = () => {};
      routes.set('/slow', { status: 503, gate: new Promise((resolve) => (answer = resolve)) });
      const { job, listed } = await oneDelivery('/slow');

      const first = deliverWebhook(job, ctx());
      while (posts('/slow').length === 0) await new Promise((r) => setTimeout(r, 5));
      const [inFlight] = await listed();
      assert.equal(inFlight?.status, 'pending');
      assert.equal(inFlight?.attempt_count, 0, 'taken, but without an outcome yet');
      assert.equal(inFlight?.last_status_code, null);
      assert.deepEqual(inFlight?.attempts, []);
      answer();
      await first;
      const [answered] = await listed();
      assert.equal(answered?.attempt_count, 1);
      assert.equal(answered?.last_status_code, 503);
      assert.equal(answered?.attempts.length, 1);
    });

    it('an attempt whose runner died without an outcome is taken over once its window has passed', async () => {
      const { deliveryId, job } = await oneDelivery('/orphan');
      const now = server.clock.now;
      assert.equal(
        await claimDeliveryAttempt(server.store.db, deliveryId, 0, now, now + ATTEMPT_IN_FLIGHT_MS),
        true,
      );
      assert.equal(
        await claimDeliveryAttempt(server.store.db, deliveryId, 0, now, now + ATTEMPT_IN_FLIGHT_MS),
        false,
        'an attempt is taken once',
      );

      await assert.rejects(deliverWebhook(job, ctx()), /in flight/);
      assert.equal(posts('/orphan').length, 0);
      server.clock.now += ATTEMPT_IN_FLIGHT_MS;
      await deliverWebhook(job, ctx());
      assert.equal(posts('/orphan').length, 1);
      assert.deepEqual(await delivery(deliveryId), { status: 'succeeded', attempts: 2, recorded: [2] });
    });

    it('a stale job finds the next attempt scheduled with its own job, and leaves it to that job', async () => {
      routes.set('/flaky', { status: 500 });
      const { deliveryId, job, ws } = await oneDelivery('/flaky');
      await deliverWebhook(job, ctx());
      assert.deepEqual(await delivery(deliveryId), { status: 'pending', attempts: 1, recorded: [1] });

      await deliverWebhook(job, ctx()); // the first job again, as a runner that took it over would run it
      assert.equal(posts('/flaky').length, 1, 'not sent ahead of the retry schedule');

      routes.set('/flaky', { status: 200 });
      const next = (await pendingJobs(ws.workspace.workspace_id)).find((j) => j.job_id !== job.job_id);
      assert.ok(next, 'the retry has its own job');
      server.clock.now = next.run_at;
      await deliverWebhook(next, ctx());
      assert.equal(posts('/flaky').length, 2);
      assert.deepEqual(await delivery(deliveryId), { status: 'succeeded', attempts: 2, recorded: [1, 2] });
    });
  });
}
