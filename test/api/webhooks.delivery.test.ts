import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { postWebhook } from '../../src/app/webhook-sender.ts';
import { testDialects } from '../helpers/databases.ts';
import { assertSeamShape } from '../helpers/seam-schemas.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';
import {
  advanceClock,
  allEvents,
  asClient,
  assertSeamError,
  type Client,
  createOffline,
  HOUR,
  iso,
  T0,
  timeFrame,
} from './access-codes.helpers.ts';
import {
  createWebhook,
  type DeliveryObject,
  freePort,
  listDeliveries,
  onlyDelivery,
  type Received,
  type Receiver,
  startReceiver,
  svixId,
  verified,
} from './webhooks.helpers.ts';

// Issue 6 items 2 and 3 against a real HTTP receiver on 127.0.0.1: every event of the access-code lifecycle
// arrives signed so that the official @seamapi/webhook verifies it, only the event types asked for arrive,
// failed attempts are retried on Seam's schedule with the same svix-id, a delivery is failed after the 8th
// attempt, and it can be re-sent. The test server's job runners are not started: each test runs the due
// jobs itself (server.jobs.runDue()), so nothing is sent behind its back.

const SEC = 1000;
const MIN = 60 * SEC;
/** After attempt n fails, the next waits DELAYS[n-1] (seam-api-reference.md §5). */
const DELAYS = [5 * SEC, 5 * MIN, 30 * MIN, 2 * HOUR, 5 * HOUR, 10 * HOUR, 10 * HOUR];
/** 10 digits whose descriptor is out of range: never an algoPIN, always a wrong PIN. */
const WRONG_PIN = '9999999999';

const seconds = (ms: number) => `PT${ms / 1000}S`;

for (const dialect of testDialects()) {
  describe(`webhook deliveries (${dialect.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    before(async () => {
      server = await startTestServer(dialect);
      server.clock.now = T0;
      receiver = await startReceiver();
    });
    after(async () => {
      await server?.close();
      await receiver?.close();
    });

    /** A fresh sandbox workspace: its own clock, its keypad-only Front Door and bridged Back Door. */
    const sandbox = async () => {
      const ws = await server.createOtherWorkspace();
      const front = ws.devices.find((d) => !d.has_bridge)?.device_id;
      assert.ok(front);
      return { client: asClient(server, ws.api_key), ws, front };
    };
    const deliver = () => server.jobs.runDue();
    const resend = (client: Client, delivery_id: string) =>
      call(client, '/webhooks/deliveries/resend', { body: { delivery_id } });
    const attemptCodes = (d: DeliveryObject) => d.attempts.map((a) => a.status_code);

    /** Checks the headers of one request as Seam (Svix) sends them. */
    function assertSvixHeaders(r: Received) {
      const h = r.headers;
      assert.match(String(h['svix-id']), /^msg_[0-9a-f]{32}$/);
      assert.match(String(h['svix-timestamp']), /^\d+$/);
      const skew = Number(h['svix-timestamp']) - Date.now() / 1000;
      assert.ok(Math.abs(skew) < 60, `svix-timestamp is the wall clock (skew ${skew} s)`);
      assert.match(String(h['svix-signature']), /^v1,[A-Za-z0-9+/]{43}=$/);
      assert.equal(h['webhook-id'], h['svix-id']);
      assert.equal(h['webhook-timestamp'], h['svix-timestamp']);
      assert.equal(h['webhook-signature'], h['svix-signature']);
      assert.match(String(h['content-type']), /^application\/json/);
      assert.equal(Number(h['content-length']), Buffer.byteLength(r.body));
    }

    it('delivers the offline-code lifecycle (created, set_on_device, removed_from_device, deleted), each verified by @seamapi/webhook', async () => {
      const { client, front } = await sandbox();
      const hook = await createWebhook(client, { url: receiver.url('/lifecycle') });
      const start = Date.UTC(2030, 0, 8, 12);
      const code = await createOffline(client, timeFrame(front, start, 3 * HOUR, { name: 'Webhooked' }));
      await deliver();
      assert.deepEqual(
        receiver.at('/lifecycle').map((r) => verified(hook.secret, r).event_type),
        ['access_code.created'],
        'delivered as soon as it happened',
      );
      await advanceClock(client, 'PT27H'); // past the start
      await deliver();
      await advanceClock(client, 'PT4H'); // past the end
      await deliver();

      const got = receiver.at('/lifecycle');
      const events = await allEvents(client);
      assert.deepEqual(
        events.map((e) => e.event_type),
        [
          'access_code.created',
          'access_code.set_on_device',
          'access_code.removed_from_device',
          'access_code.deleted',
        ],
      );
      assert.equal(got.length, 4, 'one request per event');
      const delivered = got.map((r) => {
        assertSvixHeaders(r);
        const event = verified(hook.secret, r);
        assertSeamShape('event', event);
        assert.equal(event.access_code_id, code.access_code_id);
        return event;
      });
      assert.deepEqual(delivered, events, 'the bodies are the events exactly as /events/list has them');
      assert.equal(new Set(got.map(svixId)).size, 4, 'a svix-id per delivery');
      assert.equal(delivered[1].code, code.code, 'set_on_device carries the PIN');

      // Forged or altered requests do not verify.
      const first = got[0] as Received;
      assert.throws(() =>
        verified(hook.secret, { ...first, body: first.body.replace('created', 'deleted') }),
      );
      const other = await createWebhook(client, { url: receiver.url('/lifecycle-other') });
      assert.throws(() => verified(other.secret, first), 'another webhook’s secret does not verify');

      const deliveries = await listDeliveries(client, hook.webhook_id);
      assert.equal(deliveries.length, 4);
      for (const d of deliveries) {
        assert.equal(d.webhook_id, hook.webhook_id);
        assert.equal(d.status, 'succeeded');
        assert.equal(d.attempt_count, 1);
        assert.equal(d.next_attempt_at, null);
        assert.equal(d.last_status_code, 200);
        assert.equal(d.last_error, null);
        assert.deepEqual(attemptCodes(d), [200]);
        assert.equal(d.attempts[0]?.attempt_number, 1);
        assert.equal(d.attempts[0]?.error, null);
      }
      assert.deepEqual(
        deliveries.map((d) => [d.delivery_id, d.event_id]).sort(),
        got.map((r) => [svixId(r), JSON.parse(r.body).event_id]).sort(),
        'the delivery id is the svix-id',
      );
      assert.deepEqual(
        (await listDeliveries(client, hook.webhook_id, { limit: 2 })).map((d) => d.delivery_id),
        deliveries.slice(0, 2).map((d) => d.delivery_id),
        'newest first, limited',
      );
      assert.deepEqual(await listDeliveries(client, hook.webhook_id, { status: 'failed' }), []);
    });

    it('sends each webhook only the event types it asked for', async () => {
      const { client, front } = await sandbox();
      const unlocks = await createWebhook(client, {
        url: receiver.url('/only-unlocks'),
        event_types: ['lock.unlocked'],
      });
      const everything = await createWebhook(client, { url: receiver.url('/everything') });
      const codes = await createWebhook(client, {
        url: receiver.url('/code-events'),
        event_types: ['access_code.created', 'access_code.set_on_device'],
      });
      const denials = await createWebhook(client, {
        url: receiver.url('/denials'),
        event_types: ['lock.access_denied'],
      });
      const code = await createOffline(client, { device_id: front, name: 'Front permanent' });
      for (const pin of [code.code, WRONG_PIN, code.code]) {
        const r = await call(client, '/locks/simulate/keypad_code_entry', {
          body: { device_id: front, code: pin },
        });
        assert.equal(r.status, 200, r.text);
      }
      await deliver();

      const types = (path: string, secret: string) =>
        receiver.at(path).map((r) => verified(secret, r).event_type);
      assert.deepEqual(types('/only-unlocks', unlocks.secret), ['lock.unlocked', 'lock.unlocked']);
      assert.deepEqual(types('/denials', denials.secret), ['lock.access_denied']);
      assert.deepEqual(types('/code-events', codes.secret).sort(), [
        'access_code.created',
        'access_code.set_on_device',
      ]);
      assert.deepEqual(
        types('/everything', everything.secret).sort(),
        (await allEvents(client)).map((e) => e.event_type).sort(),
      );
      assert.equal(receiver.at('/everything').length, 5);
      const unlock = verified(unlocks.secret, receiver.at('/only-unlocks')[0] as Received);
      assert.equal(unlock.method, 'keycode');
      assert.equal(unlock.access_code_id, code.access_code_id);
      assert.equal(
        (await listDeliveries(client, unlocks.webhook_id)).length,
        2,
        'no delivery rows for the rest',
      );

      // Changing the event types or the URL applies to the events that follow.
      const r = await call(client, '/webhooks/update', {
        body: {
          webhook_id: unlocks.webhook_id,
          event_types: ['lock.access_denied'],
          url: receiver.url('/moved'),
        },
      });
      assert.equal(r.status, 200, r.text);
      await call(client, '/locks/simulate/keypad_code_entry', {
        body: { device_id: front, code: code.code },
      });
      await call(client, '/locks/simulate/keypad_code_entry', {
        body: { device_id: front, code: WRONG_PIN },
      });
      await deliver();
      assert.equal(receiver.at('/only-unlocks').length, 2, 'nothing more at the old URL');
      assert.deepEqual(types('/moved', unlocks.secret), ['lock.access_denied']);
    });

    it('never sends one workspace’s events to another workspace’s webhook', async () => {
      const a = await sandbox();
      const b = await sandbox();
      await createWebhook(a.client, { url: receiver.url('/workspace-a') });
      const hookB = await createWebhook(b.client, { url: receiver.url('/workspace-b') });
      await createOffline(b.client, { device_id: b.front });
      await deliver();
      assert.deepEqual(receiver.at('/workspace-a'), []);
      assert.equal(receiver.at('/workspace-b').length, 2);
      for (const r of receiver.at('/workspace-b')) {
        assert.equal(verified(hookB.secret, r).workspace_id, b.ws.workspace.workspace_id);
      }
    });

    it('retries a failed delivery after 5 s and 5 min with the same svix-id: 500, 500, then 200 succeeds', async () => {
      const { client, front } = await sandbox();
      receiver.route('/flaky', ({ nth }) => (nth <= 2 ? 500 : 200));
      const hook = await createWebhook(client, {
        url: receiver.url('/flaky'),
        event_types: ['access_code.created'],
      });
      await createOffline(client, timeFrame(front, Date.UTC(2030, 0, 9, 10), 2 * HOUR));
      const count = () => receiver.at('/flaky').length;

      await deliver();
      assert.equal(count(), 1);
      let d = await onlyDelivery(client, hook.webhook_id);
      assert.equal(d.status, 'pending');
      assert.equal(d.attempt_count, 1);
      assert.equal(d.last_status_code, 500);
      assert.equal(d.last_error, 'HTTP 500');
      const firstAt = Date.parse(d.attempts[0]?.attempted_at ?? '');
      assert.equal(d.next_attempt_at, iso(firstAt + 5 * SEC));

      server.clock.now += 5 * SEC - 1;
      await deliver();
      assert.equal(count(), 1, 'not before 5 s');
      server.clock.now += 1;
      await deliver();
      assert.equal(count(), 2, 'the second attempt at 5 s');
      d = await onlyDelivery(client, hook.webhook_id);
      assert.equal(d.status, 'pending');
      assert.equal(d.next_attempt_at, iso(firstAt + 5 * SEC + 5 * MIN));

      server.clock.now += 5 * MIN - 1;
      await deliver();
      assert.equal(count(), 2, 'not before 5 min more');
      server.clock.now += 1;
      await deliver();
      assert.equal(count(), 3, 'the third attempt 5 min later');

      const got = receiver.at('/flaky');
      assert.deepEqual(
        got.map((r) => r.status),
        [500, 500, 200],
      );
      assert.equal(new Set(got.map(svixId)).size, 1, 'every attempt carries the same svix-id');
      for (const r of got) {
        assertSvixHeaders(r);
        assert.equal(
          verified(hook.secret, r).event_type,
          'access_code.created',
          'each attempt is signed anew',
        );
        assert.equal(r.body, got[0]?.body, 'the same body every time');
      }
      d = await onlyDelivery(client, hook.webhook_id);
      assert.equal(d.delivery_id, svixId(got[0] as Received));
      assert.equal(d.status, 'succeeded');
      assert.equal(d.attempt_count, 3);
      assert.equal(d.next_attempt_at, null);
      assert.equal(d.last_status_code, 200);
      assert.equal(d.last_error, null);
      assert.deepEqual(attemptCodes(d), [500, 500, 200]);
      assert.deepEqual(
        d.attempts.map((a) => [a.attempt_number, a.attempted_at, a.error]),
        [
          [1, iso(firstAt), 'HTTP 500'],
          [2, iso(firstAt + 5 * SEC), 'HTTP 500'],
          [3, iso(firstAt + 5 * SEC + 5 * MIN), null],
        ],
      );
      for (const a of d.attempts) assert.ok(Number.isInteger(a.duration_ms) && a.duration_ms >= 0);

      server.clock.now += 2 * HOUR;
      await deliver();
      assert.equal(count(), 3, 'nothing more after success');
    });

    it('counts redirects, 4xx and refused connections as failures, and any 2xx as success', async () => {
      const { client, front } = await sandbox();
      receiver.route('/redirect', () => 302);
      receiver.route('/gone', () => 410);
      receiver.route('/no-content', () => 204);
      const closedPort = await freePort();
      const hooks = {
        redirect: await createWebhook(client, {
          url: receiver.url('/redirect'),
          event_types: ['lock.unlocked'],
        }),
        gone: await createWebhook(client, { url: receiver.url('/gone'), event_types: ['lock.unlocked'] }),
        noContent: await createWebhook(client, {
          url: receiver.url('/no-content'),
          event_types: ['lock.unlocked'],
        }),
        refused: await createWebhook(client, {
          url: `http://127.0.0.1:${closedPort}/nobody`,
          event_types: ['lock.unlocked'],
        }),
      };
      const code = await createOffline(client, { device_id: front });
      await call(client, '/locks/simulate/keypad_code_entry', {
        body: { device_id: front, code: code.code },
      });
      await deliver();

      const redirect = await onlyDelivery(client, hooks.redirect.webhook_id);
      assert.equal(redirect.status, 'pending');
      assert.equal(redirect.last_status_code, 302);
      assert.equal(redirect.last_error, 'HTTP 302');
      assert.equal(receiver.at('/redirect').length, 1);
      assert.deepEqual(receiver.at('/redirect/moved'), [], 'a redirect is not followed');

      const gone = await onlyDelivery(client, hooks.gone.webhook_id);
      assert.equal(gone.status, 'pending');
      assert.equal(gone.last_status_code, 410);

      const refused = await onlyDelivery(client, hooks.refused.webhook_id);
      assert.equal(refused.status, 'pending');
      assert.equal(refused.last_status_code, null);
      assert.match(refused.last_error ?? '', /ECONNREFUSED/);
      assert.deepEqual(
        refused.attempts.map((a) => [a.status_code, a.error]),
        [[null, refused.last_error]],
      );

      const ok = await onlyDelivery(client, hooks.noContent.webhook_id);
      assert.equal(ok.status, 'succeeded');
      assert.equal(ok.last_status_code, 204);

      // Deleting a webhook drops its pending deliveries: their next attempts send nothing.
      for (const h of [hooks.redirect, hooks.gone, hooks.refused]) {
        const r = await call(client, '/webhooks/delete', { body: { webhook_id: h.webhook_id } });
        assert.equal(r.status, 200, r.text);
      }
      await advanceClock(client, 'P2D');
      await deliver();
      assert.equal(receiver.at('/redirect').length, 1);
      assert.equal(receiver.at('/gone').length, 1);
    });

    it('fails a delivery after the 8th attempt (5 s … 10 h apart), then resends it with the same svix-id', async () => {
      const { client, front } = await sandbox();
      let down = true;
      receiver.route('/down', () => (down ? 503 : 200));
      const hook = await createWebhook(client, {
        url: receiver.url('/down'),
        event_types: ['access_code.created'],
      });
      await createOffline(client, timeFrame(front, Date.UTC(2030, 0, 20, 10), 2 * HOUR));
      const count = () => receiver.at('/down').length;
      await deliver();
      assert.equal(count(), 1);

      // advance_clock moves the schedule: each retry comes exactly when its delay has passed, not a second earlier.
      for (const [i, delay] of DELAYS.entries()) {
        await advanceClock(client, seconds(delay - SEC));
        await deliver();
        assert.equal(count(), i + 1, `attempt ${i + 2} not before ${delay} ms`);
        await advanceClock(client, 'PT1S');
        await deliver();
        assert.equal(count(), i + 2, `attempt ${i + 2} after ${delay} ms`);
      }
      let d = await onlyDelivery(client, hook.webhook_id);
      assert.equal(d.status, 'failed');
      assert.equal(d.attempt_count, 8);
      assert.equal(d.next_attempt_at, null);
      assert.equal(d.last_status_code, 503);
      assert.equal(d.last_error, 'HTTP 503');
      assert.deepEqual(attemptCodes(d), Array(8).fill(503));
      assert.deepEqual(
        d.attempts.map((a) => a.attempt_number),
        [1, 2, 3, 4, 5, 6, 7, 8],
      );
      const gaps = d.attempts
        .slice(1)
        .map((a, i) => Date.parse(a.attempted_at) - Date.parse(d.attempts[i]?.attempted_at ?? ''));
      assert.deepEqual(gaps, DELAYS);
      assert.deepEqual(
        (await listDeliveries(client, hook.webhook_id, { status: 'failed' })).map((x) => x.delivery_id),
        [d.delivery_id],
      );

      await advanceClock(client, 'P7D');
      await deliver();
      assert.equal(count(), 8, 'no 9th attempt on its own');

      // A resend is one more attempt, at once: while the receiver is still down it fails again at once.
      let r = await resend(client, d.delivery_id);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { ok: true });
      d = await onlyDelivery(client, hook.webhook_id);
      assert.equal(d.status, 'pending');
      await deliver();
      assert.equal(count(), 9);
      d = await onlyDelivery(client, hook.webhook_id);
      assert.equal(d.status, 'failed');
      assert.equal(d.attempt_count, 9);
      assert.equal(d.next_attempt_at, null);

      // With the receiver back, a resend succeeds; every request carried the same svix-id.
      down = false;
      r = await resend(client, d.delivery_id);
      assert.equal(r.status, 200, r.text);
      await deliver();
      assert.equal(count(), 10);
      const got = receiver.at('/down');
      assert.equal(new Set(got.map(svixId)).size, 1, 'the same svix-id on all 10 requests');
      assert.equal(verified(hook.secret, got[9] as Received).event_type, 'access_code.created');
      d = await onlyDelivery(client, hook.webhook_id);
      assert.equal(d.status, 'succeeded');
      assert.equal(d.attempt_count, 10);
      assert.deepEqual(attemptCodes(d), [...Array(9).fill(503), 200]);

      // A succeeded delivery may be resent too.
      assert.equal((await resend(client, d.delivery_id)).status, 200);
      await deliver();
      assert.equal(count(), 11);
      assert.equal(svixId(receiver.at('/down')[10] as Received), d.delivery_id);
    });

    it('resend: a still-pending delivery answers 409 delivery_pending; unknown, foreign and malformed ids are refused', async () => {
      const { client, front } = await sandbox();
      receiver.route('/pending', () => 500);
      const hook = await createWebhook(client, {
        url: receiver.url('/pending'),
        event_types: ['access_code.created'],
      });
      await createOffline(client, timeFrame(front, Date.UTC(2030, 0, 21, 10), 2 * HOUR));
      await deliver();
      const d = await onlyDelivery(client, hook.webhook_id);
      assert.equal(d.status, 'pending');
      assertSeamError(await resend(client, d.delivery_id), 409, 'delivery_pending');
      assert.equal((await onlyDelivery(client, hook.webhook_id)).attempt_count, 1, 'nothing was scheduled');

      const other = await sandbox();
      assertSeamError(await resend(other.client, d.delivery_id), 404, 'delivery_not_found');
      assertSeamError(await resend(client, `msg_${'0'.repeat(32)}`), 404, 'delivery_not_found');
      for (const bad of ['not-a-delivery', '', 'msg_XYZ', d.delivery_id.toUpperCase()]) {
        assertSeamError(await resend(client, bad), 400, 'invalid_input');
      }
      assertSeamError(await call(client, '/webhooks/deliveries/resend', { body: {} }), 400, 'invalid_input');
      // Once the webhook is deleted its deliveries cannot be resent.
      await call(client, '/webhooks/delete', { body: { webhook_id: hook.webhook_id } });
      server.clock.now += 5 * SEC;
      await deliver();
      assert.equal(receiver.at('/pending').length, 1, 'a deleted webhook gets no retry');
      assertSeamError(await resend(client, d.delivery_id), 404, 'webhook_not_found');
    });
  });
}

describe('postWebhook (the sender)', () => {
  const allow = { allowPrivateNetworks: true };
  const strict = { allowPrivateNetworks: false };

  it('gives up on a receiver that never answers after its timeout (15 s in service; 300 ms here)', async () => {
    const sockets = new Set<Socket>();
    const silent = http.createServer(() => {
      // never answers
    });
    silent.on('connection', (s) => sockets.add(s));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', () => resolve()));
    try {
      const { port } = silent.address() as AddressInfo;
      const outcome = await postWebhook(`http://127.0.0.1:${port}/`, {}, '{}', {
        timeoutMs: 300,
        policy: allow,
      });
      assert.equal(outcome.status_code, null);
      assert.match(outcome.error ?? '', /no answer within 300 ms/);
      assert.ok(outcome.duration_ms >= 250 && outcome.duration_ms < 5_000, String(outcome.duration_ms));
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });

  it('refuses an IP-literal URL the policy forbids without connecting (net.connect skips lookup for literals)', async () => {
    const receiver = await startReceiver();
    try {
      for (const host of ['127.0.0.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]']) {
        const outcome = await postWebhook(`http://${host}:${receiver.port}/x`, {}, '{}', {
          timeoutMs: 2_000,
          policy: strict,
        });
        assert.equal(outcome.status_code, null, host);
        assert.match(outcome.error ?? '', /^refused: .*loopback/, host);
      }
      const named = await postWebhook(`http://localhost:${receiver.port}/x`, {}, '{}', {
        timeoutMs: 2_000,
        policy: strict,
      });
      assert.match(named.error ?? '', /^refused: localhost resolves to/);
      assert.deepEqual(receiver.received, [], 'nothing reached the receiver');
      const sent = await postWebhook(receiver.url('/x'), {}, '{}', { timeoutMs: 2_000, policy: allow });
      assert.deepEqual([sent.status_code, sent.error], [200, null]);
      assert.equal(receiver.received.length, 1);
    } finally {
      await receiver.close();
    }
  });
});
