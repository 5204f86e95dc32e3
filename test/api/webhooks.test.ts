import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import * as sdk from 'seam-http-v2';
import { buildApp } from '../../src/api/server.ts';
import { createServices } from '../../src/app/serve.ts';
import type { JobRunnerGroup } from '../../src/jobs/runner.ts';
import { testDialects } from '../helpers/databases.ts';
import { assertSeamShape } from '../helpers/seam-schemas.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';
import { asClient, assertSeamError, type Client, createOffline, T0 } from './access-codes.helpers.ts';
import {
  createWebhook,
  listDeliveries,
  type Receiver,
  type SeamWebhookObject,
  startReceiver,
  verified,
} from './webhooks.helpers.ts';

// Issue 6 items 1 and 4: the webhook routes (create/get/list/update/delete, raw HTTP and the official SDK),
// their refusals, and the request-forgery guard, at creation and again when an attempt connects. No request
// here ever goes anywhere but 127.0.0.1: refused URLs are never contacted, and the accepted non-local ones
// are deleted before any event could queue a delivery for them.

const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/=]{32,}$/;

for (const dialect of testDialects()) {
  describe(`webhooks: create, get, list, update, delete (${dialect.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect);
      server.clock.now = T0;
    });
    after(() => server.close());

    /** A fresh sandbox workspace, so lists hold only what the test made. */
    const workspace = async (): Promise<Client> =>
      asClient(server, (await server.createOtherWorkspace()).api_key);
    const get = (client: Client, webhook_id: string) =>
      call(client, '/webhooks/get', { body: { webhook_id } });
    const list = async (client: Client): Promise<SeamWebhookObject[]> => {
      const r = await call(client, '/webhooks/list', { body: {} });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.ok, true);
      for (const w of r.json.webhooks) assertSeamShape('webhook', w);
      return r.json.webhooks;
    };
    /** Lists compared as sets (webhooks made in one millisecond have no defined order). */
    const byId = (ws: SeamWebhookObject[]) => [...ws].sort((x, y) => (x.webhook_id < y.webhook_id ? -1 : 1));
    const UNKNOWN_ID = '00000000-0000-4000-8000-000000000000';

    it('creates a webhook for every event by default, with its whsec_ secret', async () => {
      const client = await workspace();
      const r = await call(client, '/webhooks/create', { body: { url: 'http://127.0.0.1:9/hook' } });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.ok, true);
      assertSeamShape('webhook', r.json.webhook);
      const webhook = r.json.webhook;
      assert.deepEqual(Object.keys(webhook).sort(), ['event_types', 'secret', 'url', 'webhook_id']);
      assert.match(webhook.webhook_id, /^[0-9a-f-]{36}$/);
      assert.equal(webhook.url, 'http://127.0.0.1:9/hook');
      assert.deepEqual(webhook.event_types, ['*']);
      assert.match(webhook.secret, WEBHOOK_SECRET);
      assert.equal(Buffer.from(webhook.secret.slice(6), 'base64').length, 24);

      const got = await get(client, webhook.webhook_id);
      assert.equal(got.status, 200, got.text);
      assert.equal(got.json.ok, true);
      assertSeamShape('webhook', got.json.webhook);
      assert.deepEqual(got.json.webhook, webhook, 'get returns the same webhook, secret included');
      assert.deepEqual(await list(client), [webhook]);
    });

    it('keeps the event types given; every webhook has its own id and secret; list has them all', async () => {
      const client = await workspace();
      const a = await createWebhook(client, {
        url: 'http://127.0.0.1:9/a',
        event_types: ['access_code.created', 'lock.unlocked'],
      });
      const b = await createWebhook(client, { url: 'http://127.0.0.1:9/b', event_types: ['*'] });
      const c = await createWebhook(client, {
        url: 'http://127.0.0.1:9/c',
        event_types: ['lock.access_denied'],
      });
      assert.deepEqual(a.event_types, ['access_code.created', 'lock.unlocked']);
      assert.deepEqual(c.event_types, ['lock.access_denied']);
      assert.equal(new Set([a.webhook_id, b.webhook_id, c.webhook_id]).size, 3);
      assert.equal(new Set([a.secret, b.secret, c.secret]).size, 3);
      assert.deepEqual(byId(await list(client)), byId([a, b, c]));
    });

    it('answers get and list with GET and a query string too', async () => {
      const client = await workspace();
      const w = await createWebhook(client, { url: 'http://127.0.0.1:9/q' });
      const got = await call(client, `/webhooks/get?webhook_id=${w.webhook_id}`, { method: 'GET' });
      assert.equal(got.status, 200, got.text);
      assert.deepEqual(got.json.webhook, w);
      const listed = await call(client, '/webhooks/list', { method: 'GET' });
      assert.equal(listed.status, 200, listed.text);
      assert.deepEqual(listed.json.webhooks, [w]);
    });

    it('updates event types (POST and PUT) and the URL; id and secret stay', async () => {
      const client = await workspace();
      const w = await createWebhook(client, { url: 'http://127.0.0.1:9/old' });
      const r1 = await call(client, '/webhooks/update', {
        body: { webhook_id: w.webhook_id, event_types: ['lock.unlocked'] },
      });
      assert.equal(r1.status, 200, r1.text);
      assert.deepEqual(r1.json, { ok: true });
      assert.deepEqual((await get(client, w.webhook_id)).json.webhook, {
        ...w,
        event_types: ['lock.unlocked'],
      });

      const r2 = await call(client, '/webhooks/update', {
        method: 'PUT',
        body: {
          webhook_id: w.webhook_id,
          event_types: ['access_code.set_on_device', 'access_code.deleted'],
          url: 'http://127.0.0.1:9/new',
        },
      });
      assert.equal(r2.status, 200, r2.text);
      const after = (await get(client, w.webhook_id)).json.webhook;
      assert.deepEqual(after, {
        ...w,
        url: 'http://127.0.0.1:9/new',
        event_types: ['access_code.set_on_device', 'access_code.deleted'],
      });
      assert.deepEqual(await list(client), [after]);
    });

    it('deletes (POST and DELETE): then get, update, delete and deliveries answer 404 webhook_not_found', async () => {
      const client = await workspace();
      const a = await createWebhook(client, { url: 'http://127.0.0.1:9/a' });
      const b = await createWebhook(client, { url: 'http://127.0.0.1:9/b' });
      const r = await call(client, '/webhooks/delete', { body: { webhook_id: a.webhook_id } });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json, { ok: true });
      assert.deepEqual(await list(client), [b]);
      const r2 = await call(client, `/webhooks/delete?webhook_id=${b.webhook_id}`, { method: 'DELETE' });
      assert.equal(r2.status, 200, r2.text);
      assert.deepEqual(await list(client), []);

      for (const id of [a.webhook_id, b.webhook_id]) {
        assertSeamError(await get(client, id), 404, 'webhook_not_found');
        assertSeamError(
          await call(client, '/webhooks/update', { body: { webhook_id: id, event_types: ['*'] } }),
          404,
          'webhook_not_found',
        );
        assertSeamError(
          await call(client, '/webhooks/delete', { body: { webhook_id: id } }),
          404,
          'webhook_not_found',
        );
        assertSeamError(
          await call(client, '/webhooks/deliveries/list', { body: { webhook_id: id } }),
          404,
          'webhook_not_found',
        );
      }
    });

    it('answers 404 webhook_not_found for an unknown id and for another workspace’s webhook', async () => {
      const mine = await workspace();
      const theirs = await workspace();
      const w = await createWebhook(theirs, { url: 'http://127.0.0.1:9/theirs' });
      for (const id of [UNKNOWN_ID, w.webhook_id]) {
        const error = assertSeamError(await get(mine, id), 404, 'webhook_not_found');
        assert.deepEqual(error.data, { webhook_id: id });
        assertSeamError(
          await call(mine, '/webhooks/update', {
            body: { webhook_id: id, event_types: ['*'], url: 'http://127.0.0.1:9/stolen' },
          }),
          404,
          'webhook_not_found',
        );
        assertSeamError(
          await call(mine, '/webhooks/delete', { body: { webhook_id: id } }),
          404,
          'webhook_not_found',
        );
        assertSeamError(
          await call(mine, '/webhooks/deliveries/list', { body: { webhook_id: id } }),
          404,
          'webhook_not_found',
        );
      }
      assert.deepEqual(await list(mine), []);
      assert.deepEqual(await list(theirs), [w], 'the other workspace’s webhook is untouched');
    });

    it('refuses unknown event types with 400 invalid_event_types, on create and update, storing nothing', async () => {
      const client = await workspace();
      const r = await call(client, '/webhooks/create', {
        body: {
          url: 'http://127.0.0.1:9/x',
          event_types: ['lock.unlocked', 'lock.exploded', 'access_code.*'],
        },
      });
      const error = assertSeamError(r, 400, 'invalid_event_types');
      assert.deepEqual(error.data, { invalid_event_types: ['lock.exploded', 'access_code.*'] });
      assert.match(error.message, /lock\.exploded/);
      assert.deepEqual(await list(client), []);

      const w = await createWebhook(client, { url: 'http://127.0.0.1:9/x', event_types: ['lock.unlocked'] });
      assertSeamError(
        await call(client, '/webhooks/update', { body: { webhook_id: w.webhook_id, event_types: ['nope'] } }),
        400,
        'invalid_event_types',
      );
      assert.deepEqual(await list(client), [w]);
    });

    it('refuses bad input with 400: URLs that are not http(s), malformed bodies', async () => {
      const client = await workspace();
      const refusals: [body: unknown, type: string][] = [
        [{ url: 'ftp://127.0.0.1/hook' }, 'invalid_webhook_url'],
        [{ url: 'file:///etc/passwd' }, 'invalid_webhook_url'],
        [{ url: 'http://user:password@127.0.0.1:9/hook' }, 'invalid_webhook_url'],
        [{ url: 'not a url' }, 'invalid_input'],
        [{ url: '/relative/path' }, 'invalid_input'],
        [{ url: '' }, 'invalid_input'],
        [{}, 'invalid_input'],
        [{ url: 42 }, 'invalid_input'],
        [{ url: 'http://127.0.0.1:9/', event_types: [] }, 'invalid_input'],
        [{ url: 'http://127.0.0.1:9/', event_types: 'lock.unlocked' }, 'invalid_input'],
        [{ url: 'http://127.0.0.1:9/', surprise: true }, 'invalid_input'],
      ];
      for (const [body, type] of refusals) {
        const r = await call(client, '/webhooks/create', { body });
        assertSeamError(r, 400, type);
      }
      assert.deepEqual(await list(client), []);

      const w = await createWebhook(client, { url: 'http://127.0.0.1:9/ok' });
      for (const [body, type] of [
        [{ webhook_id: w.webhook_id }, 'invalid_input'],
        [{ webhook_id: w.webhook_id, event_types: ['*'], url: 'not a url' }, 'invalid_input'],
        [{ webhook_id: w.webhook_id, event_types: ['*'], url: 'ftp://127.0.0.1/' }, 'invalid_webhook_url'],
        [{ webhook_id: 'not-a-uuid', event_types: ['*'] }, 'invalid_input'],
      ] as const) {
        assertSeamError(await call(client, '/webhooks/update', { body }), 400, type);
      }
      assert.deepEqual(await list(client), [w], 'a refused update changes nothing');
    });

    it('needs an API key', async () => {
      const r = await call(server, '/webhooks/list', { body: {}, key: null });
      assert.equal(r.status, 401, r.text);
    });

    it('works through the official SDK seam-http-v2: create, list, get, update, delete', async () => {
      const ws = await server.createOtherWorkspace();
      const seam = sdk.SeamHttp.fromApiKey(ws.api_key, { endpoint: server.url, waitForActionAttempt: false });
      const created = await seam.webhooks.create({ url: 'http://127.0.0.1:9/sdk' });
      assertSeamShape('webhook', created);
      assert.deepEqual(created.event_types, ['*']);
      assert.match(created.secret ?? '', WEBHOOK_SECRET);
      const typed = await seam.webhooks.create({
        url: 'http://127.0.0.1:9/sdk-typed',
        event_types: ['access_code.set_on_device'],
      });
      assert.deepEqual(
        (await seam.webhooks.list()).map((w) => w.webhook_id).sort(),
        [created.webhook_id, typed.webhook_id].sort(),
      );
      assert.deepEqual(await seam.webhooks.get({ webhook_id: created.webhook_id }), created);

      assert.equal(
        await seam.webhooks.update({ webhook_id: created.webhook_id, event_types: ['lock.unlocked'] }),
        undefined,
      );
      assert.deepEqual((await seam.webhooks.get({ webhook_id: created.webhook_id })).event_types, [
        'lock.unlocked',
      ]);

      assert.equal(await seam.webhooks.delete({ webhook_id: typed.webhook_id }), undefined);
      assert.deepEqual(
        (await seam.webhooks.list()).map((w) => w.webhook_id),
        [created.webhook_id],
      );
      await assert.rejects(
        () => seam.webhooks.get({ webhook_id: typed.webhook_id }),
        (error: unknown) => {
          assert.ok(sdk.isSeamHttpApiError(error), String(error));
          assert.equal(error.code, 'webhook_not_found');
          assert.equal(error.statusCode, 404);
          return true;
        },
      );
      await assert.rejects(
        () => seam.webhooks.create({ url: 'http://127.0.0.1:9/x', event_types: ['lock.exploded'] }),
        (error: unknown) => sdk.isSeamHttpApiError(error) && error.code === 'invalid_event_types',
      );
    });
  });

  describe(`webhooks: request-forgery guard (${dialect.name})`, () => {
    let server: TestServer;
    let receiver: Receiver;
    /** A second API server on the same database whose policy refuses private and loopback networks. */
    let strict: { app: FastifyInstance; url: string; jobs: JobRunnerGroup };
    before(async () => {
      server = await startTestServer(dialect);
      server.clock.now = T0;
      receiver = await startReceiver();
      const logger = pino({ level: 'silent' });
      const { services, jobs } = createServices(
        server.store,
        server.services.masterKey,
        logger,
        () => server.clock.now,
        { allowPrivateNetworks: false },
      );
      const app = await buildApp({ services, logger });
      await app.listen({ host: '127.0.0.1', port: 0 });
      strict = { app, url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`, jobs };
    });
    after(async () => {
      await strict?.jobs.stop();
      await strict?.app.close();
      await receiver?.close();
      await server?.close();
    });

    /** A fresh sandbox workspace: on the default server, and the same workspace on the strict one. */
    const workspace = async () => {
      const ws = await server.createOtherWorkspace();
      return {
        ws,
        open: asClient(server, ws.api_key),
        closed: { url: strict.url, apiKey: ws.api_key },
      };
    };
    const webhookCount = async (client: Client) =>
      (await call(client, '/webhooks/list', { body: {} })).json.webhooks.length;

    // Never allowed, whatever the configuration: link-local (the cloud metadata endpoints), unspecified,
    // multicast, reserved — in every spelling the URL parser accepts.
    const FORBIDDEN = [
      'http://169.254.169.254/latest/meta-data/iam/security-credentials/',
      'http://169.254.169.254:80/',
      'https://169.254.169.254/',
      'http://2852039166/', // 169.254.169.254 as one decimal number
      'http://0xa9fea9fe/',
      'http://[::ffff:169.254.169.254]/',
      'http://[fd00:ec2::254]/latest/meta-data/',
      'http://169.254.1.1/',
      'http://[fe80::1]/',
      'http://[fe80::abcd:1]:8080/hook',
      'http://0.0.0.0/',
      'http://0/',
      'http://[::]/',
      'http://224.0.0.1/',
      'http://[ff02::1]/',
      'http://255.255.255.255/',
      'http://100.64.0.1/',
    ];
    // Loopback and private: allowed by default (local use), refused with LATCHKEY_WEBHOOK_ALLOW_PRIVATE=false.
    const PRIVATE = [
      'http://127.0.0.1:9/hook',
      'http://127.1.2.3/',
      'http://localhost:9/hook',
      'http://[::1]:9/',
      'http://[::ffff:127.0.0.1]:9/',
      'http://10.0.0.1/',
      'http://172.16.0.1/',
      'http://172.31.255.254/',
      'http://192.168.1.1/',
      'http://[fc00::1]/',
      'http://[fd12:3456::1]/',
    ];

    it('refuses link-local, metadata, unspecified and multicast URLs at creation with 400 invalid_webhook_url, under either policy', async () => {
      const { open, closed } = await workspace();
      for (const url of FORBIDDEN) {
        for (const client of [open, closed]) {
          const error = assertSeamError(
            await call(client, '/webhooks/create', { body: { url } }),
            400,
            'invalid_webhook_url',
          );
          assert.match(error.message, /refused|link-local|metadata/i, url);
        }
      }
      assert.equal(await webhookCount(open), 0, 'nothing stored');
    });

    it('refuses the same URLs when a webhook is updated to them', async () => {
      const { open } = await workspace();
      const w = await createWebhook(open, { url: receiver.url('/update-guard') });
      for (const url of FORBIDDEN) {
        assertSeamError(
          await call(open, '/webhooks/update', {
            body: { webhook_id: w.webhook_id, event_types: ['*'], url },
          }),
          400,
          'invalid_webhook_url',
        );
      }
      const got = await call(open, '/webhooks/get', { body: { webhook_id: w.webhook_id } });
      assert.equal(got.json.webhook.url, receiver.url('/update-guard'));
    });

    it('accepts loopback and private URLs by default (deleted at once: no event ever reaches them)', async () => {
      const { open } = await workspace();
      for (const url of PRIVATE) {
        const w = await createWebhook(open, { url });
        const r = await call(open, '/webhooks/delete', { body: { webhook_id: w.webhook_id } });
        assert.equal(r.status, 200, r.text);
      }
    });

    it('with LATCHKEY_WEBHOOK_ALLOW_PRIVATE=false refuses loopback and private URLs too, and still accepts public ones', async () => {
      const { open, closed } = await workspace();
      for (const url of PRIVATE) {
        const error = assertSeamError(
          await call(closed, '/webhooks/create', { body: { url } }),
          400,
          'invalid_webhook_url',
        );
        assert.match(error.message, /LATCHKEY_WEBHOOK_ALLOW_PRIVATE/, url);
      }
      const w = await createWebhook(open, { url: receiver.url('/strict-update') });
      assertSeamError(
        await call(closed, '/webhooks/update', {
          body: { webhook_id: w.webhook_id, event_types: ['*'], url: 'http://10.0.0.1/' },
        }),
        400,
        'invalid_webhook_url',
      );
      await call(open, '/webhooks/delete', { body: { webhook_id: w.webhook_id } });
      // A public address is fine (an IP literal: no DNS query; deleted before any event could go there).
      const pub = await createWebhook(closed, { url: 'http://8.8.8.8/hook' });
      await call(closed, '/webhooks/delete', { body: { webhook_id: pub.webhook_id } });
      assert.equal(await webhookCount(open), 0);
    });

    it('checks again when an attempt connects: a loopback webhook gets nothing from a server that now refuses private networks', async () => {
      const { open, ws } = await workspace();
      const w = await createWebhook(open, { url: receiver.url('/connect-guard') });
      // An event, while the webhook's URL is allowed (created through the default server).
      await createOffline(open, { device_id: ws.devices[0]?.device_id });
      // The strict server's delivery runner takes the attempt: refused at connect time, nothing sent.
      await strict.jobs.runDue();
      assert.deepEqual(receiver.at('/connect-guard'), []);
      const [delivery, ...more] = await listDeliveries(open, w.webhook_id, { limit: 1 });
      assert.ok(delivery && more.length === 0);
      assert.equal(delivery.status, 'pending', 'a refused attempt is a failed attempt, retried');
      assert.equal(delivery.attempt_count, 1);
      assert.equal(delivery.last_status_code, null);
      assert.match(delivery.last_error ?? '', /refused: 127\.0\.0\.1 resolves to 127\.0\.0\.1, a loopback/);
      assert.equal(delivery.attempts[0]?.status_code, null);

      // The default server's runner, when the retry comes due, delivers it (so the refusal was the policy's).
      server.clock.now += 5_000;
      await server.jobs.runDue();
      await strict.jobs.runDue();
      const deliveries = await listDeliveries(open, w.webhook_id);
      assert.equal(deliveries.length, 2, 'access_code.created and access_code.set_on_device');
      const got = receiver.at('/connect-guard');
      assert.deepEqual(
        got.map((r) => [String(r.headers['svix-id']), verified(w.secret, r).event_id]).sort(),
        deliveries.map((d) => [d.delivery_id, d.event_id]).sort(),
        'each delivered once the policy allows it',
      );
      for (const d of deliveries) {
        assert.equal(d.status, 'succeeded');
        assert.deepEqual(
          d.attempts.map((a) => a.status_code),
          [null, 200],
        );
      }
      await call(open, '/webhooks/delete', { body: { webhook_id: w.webhook_id } });
    });
  });
}
