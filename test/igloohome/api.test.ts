import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { derivePin, derivePinKey, type PinParams } from '../../src/algopin/index.ts';
import { BuiltinCodeProvider } from '../../src/codeserver/builtin.ts';
import type { DeviceRecord } from '../../src/domain/records.ts';
import { revokeIgloohomeClientOf } from '../../src/igloohome/clients.ts';
import { createIgloohomeClient, registerIgloohomeApi } from '../../src/igloohome/index.ts';
import { SCOPES } from '../../src/igloohome/scopes.ts';
import { issueAccessToken, tokenSigningKey } from '../../src/igloohome/tokens.ts';
import { listIgloohomePins } from '../../src/store/repos/igloohome-clients.ts';
import { testDialects } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';

// The igloohome-compatible API of a real Latchkey server (src/igloohome, docs/providers.md): OAuth2 tokens,
// devices, algoPINs from the server's own registry, igloohome's error shapes, the sandbox pairing extension,
// and a PIN from the API opening the virtual lock.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const FORM = 'application/x-www-form-urlencoded';
/** A whole UTC hour well in the future: dates below are relative to it. */
const T0 = Date.UTC(2031, 4, 1, 2);
const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');
/** The same instant written in +08:00. */
const iso8 = (ms: number) => `${new Date(ms + 8 * HOUR).toISOString().slice(0, 19)}+08:00`;

interface Credentials {
  client_id: string;
  client_secret: string;
}

for (const dialect of testDialects()) {
  describe(`igloohome API (${dialect.name})`, () => {
    let server: TestServer;
    let sandboxClient: Credentials;
    let workspaceId: string;
    let front: DeviceRecord;
    let back: DeviceRecord;

    before(async () => {
      server = await startTestServer(dialect);
      workspaceId = server.sandbox.workspace.workspace_id;
      [front, back] = server.sandbox.devices as [DeviceRecord, DeviceRecord];
      sandboxClient = await createIgloohomeClient(
        server.store,
        workspaceId,
        { name: 'tests' },
        server.clock.now,
      );
    });
    after(() => server?.close());

    const basic = (c: Credentials) =>
      `Basic ${Buffer.from(`${c.client_id}:${c.client_secret}`).toString('base64')}`;

    function tokenRequest(c: Credentials | null, form: string, headers: Record<string, string> = {}) {
      return call(server, '/igloohome/oauth2/token', {
        key: null,
        rawBody: form,
        headers: { 'content-type': FORM, ...(c ? { authorization: basic(c) } : {}), ...headers },
      });
    }

    async function tokenFor(c: Credentials = sandboxClient, scope?: string): Promise<string> {
      const form = `grant_type=client_credentials${scope === undefined ? '' : `&scope=${encodeURIComponent(scope)}`}`;
      const r = await tokenRequest(c, form);
      assert.equal(r.status, 200, r.text);
      return r.json.access_token;
    }

    function api(path: string, token: string | null, init: { method?: string; body?: unknown } = {}) {
      return call(server, `/igloohome${path}`, {
        key: token,
        method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
        ...(init.body === undefined ? {} : { body: init.body }),
      });
    }

    function assertIgloohomeError(
      r: { status: number; json: unknown; text: string },
      status: number,
      message: RegExp,
    ) {
      assert.equal(r.status, status, r.text);
      const body = r.json as { status: string; code: string; message: string };
      assert.deepEqual(Object.keys(body).sort(), ['code', 'message', 'status']);
      assert.equal(body.status, 'ERROR');
      assert.equal(body.code, String(status));
      assert.match(body.message, message);
    }

    describe('token endpoint', () => {
      it('client credentials with HTTP Basic: a Bearer token for every scope of the client', async () => {
        const r = await tokenRequest(sandboxClient, 'grant_type=client_credentials');
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(Object.keys(r.json).sort(), ['access_token', 'expires_in', 'scope', 'token_type']);
        assert.equal(r.json.token_type, 'Bearer');
        assert.equal(r.json.expires_in, 86_400);
        assert.equal(r.headers.get('cache-control'), 'no-store');
        assert.deepEqual(r.json.scope.split(' ').sort(), [
          SCOPES.algopinDaily,
          SCOPES.algopinHourly,
          SCOPES.algopinOnetime,
          SCOPES.algopinPermanent,
          SCOPES.getDevices,
          SCOPES.sandboxPairing,
        ]);
        assert.equal((await api('/devices', r.json.access_token)).status, 200);
      });

      it('a requested scope narrows the token; the other routes answer 403', async () => {
        const r = await tokenRequest(
          sandboxClient,
          `grant_type=client_credentials&scope=${SCOPES.getDevices}+${SCOPES.algopinOnetime}`,
        );
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.scope, `${SCOPES.getDevices} ${SCOPES.algopinOnetime}`);
        const token = r.json.access_token;
        assert.equal((await api('/devices', token)).status, 200);
        const body = { variance: 1, startDate: iso(T0), accessName: 'x' };
        assert.equal(
          (await api(`/devices/${front.provider_device_id}/algopin/onetime`, token, { body })).status,
          200,
        );
        assertIgloohomeError(
          await api(`/devices/${front.provider_device_id}/algopin/permanent`, token, { body }),
          403,
          /igloohomeapi\/algopin-permanent/,
        );
        assertIgloohomeError(
          await api(`/devices/${front.provider_device_id}/sandbox_pairing_key`, token),
          403,
          /igloohomeapi\/sandbox-pairing/,
        );
      });

      it('client_id and client_secret in the form body work too', async () => {
        const form = `grant_type=client_credentials&client_id=${sandboxClient.client_id}&client_secret=${encodeURIComponent(sandboxClient.client_secret)}`;
        assert.equal((await tokenRequest(null, form)).status, 200);
      });

      it('401 invalid_client for a wrong secret, an unknown client or no credentials', async () => {
        for (const c of [
          { ...sandboxClient, client_secret: `${sandboxClient.client_secret}x` },
          { client_id: 'nosuchclient', client_secret: sandboxClient.client_secret },
          null,
        ]) {
          const r = await tokenRequest(c, 'grant_type=client_credentials');
          assert.equal(r.status, 401, r.text);
          assert.equal(r.json.error, 'invalid_client');
          assert.match(r.headers.get('www-authenticate') ?? '', /^Basic/);
        }
      });

      it('400 unsupported_grant_type, invalid_request and invalid_scope', async () => {
        const wrongGrant = await tokenRequest(sandboxClient, 'grant_type=password&username=a&password=b');
        assert.equal(wrongGrant.status, 400);
        assert.deepEqual(wrongGrant.json, { error: 'unsupported_grant_type' });
        const noGrant = await tokenRequest(sandboxClient, 'scope=igloohomeapi/get-devices');
        assert.equal(noGrant.status, 400);
        assert.equal(noGrant.json.error, 'invalid_request');
        const json = await call(server, '/igloohome/oauth2/token', {
          key: null,
          body: { grant_type: 'client_credentials' },
          headers: { authorization: basic(sandboxClient) },
        });
        assert.equal(json.status, 400);
        assert.equal(json.json.error, 'invalid_request');

        const narrow = await createIgloohomeClient(server.store, workspaceId, {
          scopes: [SCOPES.getDevices],
        });
        for (const scope of [SCOPES.algopinHourly, `${SCOPES.getDevices} igloohomeapi/made-up`]) {
          const r = await tokenRequest(
            narrow,
            `grant_type=client_credentials&scope=${encodeURIComponent(scope)}`,
          );
          assert.equal(r.status, 400, r.text);
          assert.equal(r.json.error, 'invalid_scope');
        }
        const ok = await tokenRequest(narrow, 'grant_type=client_credentials');
        assert.equal(ok.json.scope, SCOPES.getDevices);
      });

      it('tokens expire after expires_in (the server clock is pinned); a new token works', async () => {
        const token = await tokenFor();
        const issuedAt = server.clock.now;
        try {
          server.clock.now = issuedAt + 86_400_000 - 1000;
          assert.equal((await api('/devices', token)).status, 200);
          server.clock.now = issuedAt + 86_400_000;
          assertIgloohomeError(await api('/devices', token), 401, /expired/);
          assert.equal((await api('/devices', await tokenFor())).status, 200);
        } finally {
          server.clock.now = issuedAt;
        }
      });

      it('expires_in is an option of registerIgloohomeApi (a bare Fastify app works too)', async () => {
        // Whole seconds: JWT iat/exp are seconds.
        let now = Math.floor(server.clock.now / 1000) * 1000;
        const app = Fastify();
        await registerIgloohomeApi(app, server.services, { tokenTtlSeconds: 2, now: () => now });
        try {
          const r = await app.inject({
            method: 'POST',
            url: '/igloohome/oauth2/token',
            headers: { authorization: basic(sandboxClient), 'content-type': FORM },
            payload: 'grant_type=client_credentials',
          });
          assert.equal(r.statusCode, 200, r.body);
          assert.equal(r.json().expires_in, 2);
          const get = () =>
            app.inject({
              url: '/igloohome/devices',
              headers: { authorization: `Bearer ${r.json().access_token}` },
            });
          assert.equal((await get()).statusCode, 200);
          now += 1999;
          assert.equal((await get()).statusCode, 200);
          now += 1;
          assert.equal((await get()).statusCode, 401);
          assert.equal((await get()).json().message, 'The access token has expired');
          const missing = await app.inject({ url: '/igloohome/nope' });
          assert.equal(missing.statusCode, 404);
          assert.equal(missing.json().status, 'ERROR');
        } finally {
          await app.close();
        }
      });

      it('a revoked client gets no token, and its live tokens stop at once', async () => {
        const c = await createIgloohomeClient(server.store, workspaceId, { name: 'to revoke' });
        const token = await tokenFor(c);
        assert.equal((await api('/devices', token)).status, 200);
        assert.equal(await revokeIgloohomeClientOf(server.store, workspaceId, c.client_id), true);
        assert.equal(await revokeIgloohomeClientOf(server.store, workspaceId, c.client_id), false);
        assertIgloohomeError(await api('/devices', token), 401, /revoked/);
        assert.equal((await tokenRequest(c, 'grant_type=client_credentials')).status, 401);
      });
    });

    describe('authentication of the API routes', () => {
      it('401 without a token, with a malformed one, or one signed under another master key', async () => {
        assertIgloohomeError(await api('/devices', null), 401, /Missing access token/);
        assertIgloohomeError(await api('/devices', 'garbage'), 401, /not valid/);
        const foreign = issueAccessToken(
          tokenSigningKey(randomBytes(32)),
          { client_id: sandboxClient.client_id, workspace_id: workspaceId, scopes: [SCOPES.getDevices] },
          server.clock.now,
          60,
        ).token;
        assertIgloohomeError(await api('/devices', foreign), 401, /not valid/);
        // A Seam API key is not an igloohome token.
        assertIgloohomeError(await api('/devices', server.apiKey), 401, /not valid/);
      });

      it('403 without the route scope', async () => {
        const c = await createIgloohomeClient(server.store, workspaceId, { scopes: [SCOPES.algopinHourly] });
        const token = await tokenFor(c);
        assertIgloohomeError(await api('/devices', token), 403, /igloohomeapi\/get-devices/);
        assertIgloohomeError(await api(`/devices/${front.provider_device_id}`, token), 403, /get-devices/);
      });
    });

    describe('devices', () => {
      it('GET /devices lists the workspace locks in igloohome shape; GET /devices/{deviceId} one of them', async () => {
        const token = await tokenFor();
        const r = await api('/devices', token);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.nextCursor, null);
        assert.deepEqual(r.json.payload, [
          {
            id: front.device_id,
            type: 'Lock',
            deviceId: front.provider_device_id,
            deviceName: 'Front Door',
            pairedAt: new Date(front.created_at).toISOString(),
            homeId: [],
            linkedDevices: [],
            batteryLevel: 100,
          },
          {
            id: back.device_id,
            type: 'Lock',
            deviceId: back.provider_device_id,
            deviceName: 'Back Door',
            pairedAt: new Date(back.created_at).toISOString(),
            homeId: [],
            linkedDevices: [{ type: 'Bridge', deviceId: `BR${back.provider_device_id}` }],
            batteryLevel: 100,
          },
        ]);
        assert.match(front.provider_device_id, /^\d+$/);
        const one = await api(`/devices/${back.provider_device_id}`, token);
        assert.equal(one.status, 200);
        assert.deepEqual(one.json, r.json.payload[1]);
      });

      it('pages with limit and cursor', async () => {
        const token = await tokenFor();
        const first = await api('/devices?limit=1', token);
        assert.equal(first.json.payload.length, 1);
        assert.equal(first.json.payload[0].deviceId, front.provider_device_id);
        assert.equal(typeof first.json.nextCursor, 'string');
        const second = await api(
          `/devices?limit=1&cursor=${encodeURIComponent(first.json.nextCursor)}`,
          token,
        );
        assert.deepEqual(
          second.json.payload.map((d: { deviceId: string }) => d.deviceId),
          [back.provider_device_id],
        );
        assert.equal(second.json.nextCursor, null);
        assertIgloohomeError(await api('/devices?limit=0', token), 400, /'limit'/);
        assertIgloohomeError(await api('/devices?cursor=nonsense', token), 400, /'cursor'/);
      });

      it('404 for an unknown deviceId and for another workspace’s lock; unknown routes 404 in igloohome shape', async () => {
        const token = await tokenFor();
        const other = await server.createOtherWorkspace(true);
        const foreignId = other.devices[0]!.provider_device_id;
        assertIgloohomeError(await api('/devices/123', token), 404, /^Device 123 not found$/);
        assertIgloohomeError(await api(`/devices/${foreignId}`, token), 404, /not found/);
        const body = { variance: 1, startDate: iso(T0), accessName: 'x' };
        assertIgloohomeError(
          await api(`/devices/${foreignId}/algopin/onetime`, token, { body }),
          404,
          /not found/,
        );
        assertIgloohomeError(await api(`/devices/${foreignId}/sandbox_pairing_key`, token), 404, /not found/);
        // The other workspace's own client sees it.
        const otherToken = await tokenFor(
          await createIgloohomeClient(server.store, other.workspace.workspace_id),
        );
        assert.equal((await api(`/devices/${foreignId}`, otherToken)).status, 200);

        assertIgloohomeError(await api('/nope', token), 404, /No route GET \/igloohome\/nope/);
        assertIgloohomeError(await api('/devices', token, { method: 'DELETE' }), 404, /No route/);
        // Outside /igloohome the Seam envelope is untouched.
        const seam = await call(server, '/nope', { method: 'GET' });
        assert.equal(seam.status, 404);
        assert.equal(seam.json.error.type, 'route_not_found');
      });
    });

    describe('algoPINs', () => {
      const builtin = () => new BuiltinCodeProvider(server.services.masterKey);
      const startHour = T0 / HOUR;
      const cases: { type: string; body: Record<string, unknown>; params: PinParams; length: number }[] = [
        {
          type: 'hourly',
          body: { variance: 2, startDate: iso8(T0), endDate: iso8(T0 + 5 * HOUR), accessName: 'Cleaner' },
          params: { kind: 'hourly', startHour, durationHours: 5, variance: 2 },
          length: 10,
        },
        {
          type: 'daily',
          body: { variance: 3, startDate: iso(T0), endDate: iso(T0 + 30 * DAY), accessName: 'Tenant' },
          params: { kind: 'daily', startHour, durationDays: 30, variance: 3 },
          length: 10,
        },
        {
          type: 'onetime',
          body: { variance: 5, startDate: iso8(T0), accessName: 'Courier' },
          params: { kind: 'one_time', startHour, variance: 5 },
          length: 8,
        },
        {
          type: 'permanent',
          body: { variance: 1, startDate: iso(T0), accessName: 'Owner' },
          params: { kind: 'permanent', startHour, variance: 1 },
          length: 9,
        },
      ];

      it('each kind answers {pin, pinId}: the PIN the built-in registry derives, recorded without its digits', async () => {
        const token = await tokenFor();
        for (const c of cases) {
          const r = await api(`/devices/${front.provider_device_id}/algopin/${c.type}`, token, {
            body: c.body,
          });
          assert.equal(r.status, 200, `${c.type}: ${r.text}`);
          assert.deepEqual(Object.keys(r.json).sort(), ['pin', 'pinId']);
          assert.equal(r.json.pin.length, c.length);
          assert.equal(r.json.pin, await builtin().issueOfflinePin(server.store.db, front, c.params), c.type);
          // Deterministic: the same request gives the same PIN, under a new pinId.
          const again = await api(`/devices/${front.provider_device_id}/algopin/${c.type}`, token, {
            body: c.body,
          });
          assert.equal(again.json.pin, r.json.pin);
          assert.notEqual(again.json.pinId, r.json.pinId);
          // Another lock, another key, another PIN.
          const other = await api(`/devices/${back.provider_device_id}/algopin/${c.type}`, token, {
            body: c.body,
          });
          assert.equal(other.json.pin, await builtin().issueOfflinePin(server.store.db, back, c.params));
          assert.notEqual(other.json.pin, r.json.pin);
        }
        const rows = await listIgloohomePins(server.store.db, front.device_id);
        const hourly = rows.find((p) => p.kind === 'hourly');
        assert.ok(hourly);
        assert.equal(hourly.client_id, sandboxClient.client_id);
        assert.equal(hourly.start_hour, startHour);
        assert.equal(hourly.duration_hours, 5);
        assert.equal(hourly.variance, 2);
        assert.equal(hourly.access_name, 'Cleaner');
        assert.equal(rows.find((p) => p.kind === 'daily')?.duration_days, 30);
        assert.ok(!JSON.stringify(rows).includes(`"pin"`));
      });

      it('the caller allocates variances: the server does not cap codes per slot', async () => {
        const token = await tokenFor();
        const pins = new Set<string>();
        for (let i = 0; i < 4; i++) {
          for (const variance of [1, 2, 3]) {
            const body = {
              variance,
              startDate: iso(T0 + 7 * HOUR),
              endDate: iso(T0 + 9 * HOUR),
              accessName: `g${i}`,
            };
            const r = await api(`/devices/${front.provider_device_id}/algopin/hourly`, token, { body });
            assert.equal(r.status, 200, r.text);
            pins.add(r.json.pin);
          }
        }
        assert.equal(pins.size, 3);
      });

      it('400 for malformed dates, missing fields, bad JSON', async () => {
        const token = await tokenFor();
        const path = `/devices/${front.provider_device_id}/algopin`;
        const hourly = (over: Record<string, unknown>) =>
          api(`${path}/hourly`, token, {
            body: { variance: 1, startDate: iso(T0), endDate: iso(T0 + HOUR), accessName: 'x', ...over },
          });
        const format = /^'startDate' must be in format YYYY-MM-DDTHH:00:00\+hh:mm$/;
        assertIgloohomeError(await hourly({ startDate: '2031-05-01T10:00:00' }), 400, format);
        assertIgloohomeError(await hourly({ startDate: '2031-05-01' }), 400, format);
        assertIgloohomeError(await hourly({ startDate: '01/05/2031 10:00' }), 400, format);
        assertIgloohomeError(
          await hourly({ endDate: '2031-05-01T03:00:00' }),
          400,
          /^'endDate' must be in format/,
        );
        assertIgloohomeError(
          await hourly({ startDate: '2031-05-01T10:30:00+08:00' }),
          400,
          /'startDate' must be on the hour/,
        );
        assertIgloohomeError(
          await hourly({ endDate: '2031-05-01T03:00:30Z' }),
          400,
          /'endDate' must be on the hour/,
        );
        assertIgloohomeError(await hourly({ startDate: '2031-05-01T10:00:00+05:30' }), 400, /whole hours/);
        assertIgloohomeError(await hourly({ endDate: undefined }), 400, /'endDate' is required/);
        assertIgloohomeError(await hourly({ variance: '1' }), 400, /'variance' must be an integer/);
        assertIgloohomeError(await hourly({ accessName: undefined }), 400, /'accessName' is required/);
        assertIgloohomeError(
          await api(`${path}/onetime`, token, {
            body: { variance: 1, startDate: iso(T0), endDate: iso(T0 + DAY), accessName: 'x' },
          }),
          400,
          /'endDate' is not accepted/,
        );
        const bad = await call(server, `/igloohome${path}/hourly`, {
          key: token,
          rawBody: '{"variance": 1,',
          headers: { 'content-type': 'application/json' },
        });
        assertIgloohomeError(bad, 400, /JSON/);
        assertIgloohomeError(await api(`${path}/hourly`, token, { body: [1] }), 400, /JSON object/);
        assertIgloohomeError(await api(`${path}/hourly`, token, { method: 'POST' }), 400, /JSON object/);
      });

      it('422 on both sides of every limit, with igloohome’s messages', async () => {
        const token = await tokenFor();
        const path = `/devices/${front.provider_device_id}/algopin`;
        const post = (type: string, over: Record<string, unknown>) =>
          api(`${path}/${type}`, token, {
            body: { variance: 1, startDate: iso8(T0), accessName: 'Guest', ...over },
          });
        const ok = async (type: string, over: Record<string, unknown>) => {
          const r = await post(type, over);
          assert.equal(r.status, 200, `${type} ${JSON.stringify(over)}: ${r.text}`);
        };
        // hourly 1..672 h
        assertIgloohomeError(await post('hourly', { endDate: iso8(T0) }), 422, /at least 1 hour/);
        await ok('hourly', { endDate: iso8(T0 + HOUR) });
        await ok('hourly', { endDate: iso8(T0 + 672 * HOUR) });
        assertIgloohomeError(
          await post('hourly', { endDate: iso8(T0 + 673 * HOUR) }),
          422,
          /^Exceeded the limit of 672 hours$/,
        );
        // daily 29..367 days, same time of day
        assertIgloohomeError(
          await post('daily', { endDate: iso8(T0 + 28 * DAY) }),
          422,
          /^Below the minimum of 29 days$/,
        );
        await ok('daily', { endDate: iso8(T0 + 29 * DAY) });
        await ok('daily', { endDate: iso8(T0 + 367 * DAY) });
        assertIgloohomeError(
          await post('daily', { endDate: iso8(T0 + 368 * DAY) }),
          422,
          /^Exceeded the limit of 367 days$/,
        );
        assertIgloohomeError(
          await post('daily', { endDate: iso8(T0 + 40 * DAY + HOUR) }),
          422,
          /whole number of days/,
        );
        // variance 1..3 (one-time 1..5)
        for (const [type, max, extra] of [
          ['hourly', 3, { endDate: iso8(T0 + 2 * HOUR) }],
          ['daily', 3, { endDate: iso8(T0 + 31 * DAY) }],
          ['permanent', 3, {}],
          ['onetime', 5, {}],
        ] as const) {
          assertIgloohomeError(
            await post(type, { ...extra, variance: 0 }),
            422,
            new RegExp(`between 1 and ${max}`),
          );
          await ok(type, { ...extra, variance: max });
          assertIgloohomeError(
            await post(type, { ...extra, variance: max + 1 }),
            422,
            new RegExp(`between 1 and ${max}`),
          );
        }
        // accessName ≤ 60 characters
        await ok('onetime', { accessName: 'n'.repeat(60) });
        assertIgloohomeError(
          await post('onetime', { accessName: 'n'.repeat(61) }),
          422,
          /at most 60 characters/,
        );
      });
    });

    describe('sandbox pairing extension', () => {
      it('GET /devices/{deviceId}/sandbox_pairing_key gives the lock key that derives the API’s PINs', async () => {
        const token = await tokenFor();
        const r = await api(`/devices/${front.provider_device_id}/sandbox_pairing_key`, token);
        assert.equal(r.status, 200, r.text);
        assert.deepEqual(Object.keys(r.json).sort(), ['deviceId', 'keyEpoch', 'lockKey']);
        assert.equal(r.json.deviceId, front.provider_device_id);
        assert.equal(r.json.keyEpoch, 0);
        assert.match(r.json.lockKey, /^[0-9a-f]{64}$/);
        const body = { variance: 1, startDate: iso(T0), endDate: iso(T0 + 3 * HOUR), accessName: 'x' };
        const pin = await api(`/devices/${front.provider_device_id}/algopin/hourly`, token, { body });
        const params: PinParams = { kind: 'hourly', startHour: T0 / HOUR, durationHours: 3, variance: 1 };
        assert.equal(
          derivePin(derivePinKey(Buffer.from(r.json.lockKey, 'hex'), r.json.keyEpoch), params),
          pin.json.pin,
        );
        const backKey = await api(`/devices/${back.provider_device_id}/sandbox_pairing_key`, token);
        assert.notEqual(backKey.json.lockKey, r.json.lockKey);
      });

      it('needs the sandbox-pairing scope, and a production workspace never serves it (403)', async () => {
        const noPairing = await createIgloohomeClient(server.store, workspaceId, {
          scopes: [SCOPES.getDevices, SCOPES.algopinHourly],
        });
        assertIgloohomeError(
          await api(`/devices/${front.provider_device_id}/sandbox_pairing_key`, await tokenFor(noPairing)),
          403,
          /igloohomeapi\/sandbox-pairing/,
        );

        const production = await server.createOtherWorkspace(false);
        const prodId = production.workspace.workspace_id;
        await assert.rejects(
          createIgloohomeClient(server.store, prodId, { scopes: [SCOPES.sandboxPairing] }),
          /only for sandbox workspaces/,
        );
        const prodClient = await createIgloohomeClient(server.store, prodId);
        assert.ok(!prodClient.scopes.includes(SCOPES.sandboxPairing));
        const prodToken = await tokenFor(prodClient);
        assert.deepEqual((await api('/devices', prodToken)).json, { payload: [], nextCursor: null });
        assertIgloohomeError(
          await api(`/devices/${front.provider_device_id}/sandbox_pairing_key`, prodToken),
          403,
          /sandbox extension/,
        );
        // Even a token that claims the scope (signed by this server) is refused in production.
        const forged = issueAccessToken(
          tokenSigningKey(server.services.masterKey),
          { client_id: prodClient.client_id, workspace_id: prodId, scopes: [SCOPES.sandboxPairing] },
          server.clock.now,
          60,
        ).token;
        assertIgloohomeError(await api('/devices/1/sandbox_pairing_key', forged), 403, /not a sandbox/);
      });
    });

    it('a PIN from the API opens the virtual lock once its window starts (advance_clock, keypad entry)', async () => {
      const ws = await server.createOtherWorkspace(true);
      const lock = ws.devices.find((d) => !d.has_bridge)!;
      const seam = { url: server.url, apiKey: ws.api_key };
      const token = await tokenFor(await createIgloohomeClient(server.store, ws.workspace.workspace_id));
      const start = Math.ceil(server.clock.now / HOUR) * HOUR + 2 * HOUR;
      const body = {
        variance: 1,
        startDate: iso8(start),
        endDate: iso8(start + 4 * HOUR),
        accessName: 'Guest',
      };
      const r = await api(`/devices/${lock.provider_device_id}/algopin/hourly`, token, { body });
      assert.equal(r.status, 200, r.text);
      const enter = async () => {
        const e = await call(seam, '/locks/simulate/keypad_code_entry', {
          body: { device_id: lock.device_id, code: r.json.pin },
        });
        assert.equal(e.status, 200, e.text);
        return e.json.action_attempt.result as { accepted: boolean; reason_code?: string };
      };
      assert.equal((await enter()).accepted, false, 'not before its start hour');
      const by = start + 30 * 60_000 - server.clock.now;
      const adv = await call(seam, '/workspaces/simulate/advance_clock', { body: { by: `PT${by / 1000}S` } });
      assert.equal(adv.status, 200, adv.text);
      assert.deepEqual(await enter(), { accepted: true });
    });
  });
}
