import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import * as sdk from 'seam-http-v2';
import { pinParamsOf } from '../../src/app/access-codes/remote-pin.ts';
import { connectRemoteAccount } from '../../src/app/remote-accounts.ts';
import type { DeviceRecord } from '../../src/domain/records.ts';
import { createIgloohomeClient } from '../../src/igloohome/clients.ts';
import { getAccessCodeById } from '../../src/store/repos/access-codes.ts';
import { testDialects } from '../helpers/databases.ts';
import { assertSeamShape } from '../helpers/seam-schemas.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';

// Two Latchkey servers: A serves the igloohome-compatible API from its own key registry; B's connected
// account uses A as its remote code server. Between them sits a switchable proxy, to take A down, make it
// refuse, or expire B's token.

type Mode = 'up' | 'down' | 'refuse_422' | 'unauthorized_once';

function startProxy(target: string) {
  const state = { mode: 'up' as Mode, tokenRequests: 0, pinRequests: 0 };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const isToken = req.url?.endsWith('/oauth2/token') ?? false;
      if (isToken) state.tokenRequests++;
      else if (req.url?.includes('/algopin/')) state.pinRequests++;
      if (state.mode === 'down') return req.socket.destroy();
      if (!isToken && state.mode === 'refuse_422') {
        res.writeHead(422, { 'content-type': 'application/json' });
        return res.end(
          JSON.stringify({ status: 'ERROR', code: '422', message: 'Exceeded the limit of 367 days' }),
        );
      }
      if (!isToken && state.mode === 'unauthorized_once') {
        state.mode = 'up';
        res.writeHead(401, { 'content-type': 'application/json' });
        return res.end(JSON.stringify({ status: 'ERROR', code: '401', message: 'token expired' }));
      }
      const upstream = http.request(
        `${target}${req.url}`,
        { method: req.method, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(Buffer.concat(chunks));
    });
  });
  return new Promise<{ url: string; state: typeof state; close: () => Promise<void> }>((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${port}`,
        state,
        close: () =>
          new Promise<void>((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}

const HOUR = 3_600_000;

for (const dialect of testDialects()) {
  describe(`a Latchkey using another Latchkey as its igloohome code server (${dialect.name})`, () => {
    let a: TestServer;
    let b: TestServer;
    let proxy: Awaited<ReturnType<typeof startProxy>>;
    let seam: sdk.SeamHttp;
    let bFront: DeviceRecord;
    let aFront: DeviceRecord;
    const start = Date.UTC(2030, 0, 7, 9, 30);

    before(async () => {
      a = await startTestServer(dialect);
      b = await startTestServer(dialect);
      a.clock.now = start;
      b.clock.now = start;
      proxy = await startProxy(a.url);
      const client = await createIgloohomeClient(
        a.store,
        a.sandbox.workspace.workspace_id,
        { name: 'B' },
        start,
      );
      const connected = await connectRemoteAccount(
        b.services,
        b.sandbox.workspace.workspace_id,
        {
          base_url: `${proxy.url}/igloohome`,
          client_id: client.client_id,
          client_secret: client.client_secret,
        },
        start,
      );
      const front = connected.devices.find((d) => d.name === 'Front Door');
      const aFrontDevice = a.sandbox.devices.find((d) => d.name === 'Front Door');
      assert.ok(front && aFrontDevice);
      bFront = front;
      aFront = aFrontDevice;
      seam = sdk.SeamHttp.fromApiKey(b.apiKey, { endpoint: b.url, waitForActionAttempt: false });
    });
    after(async () => {
      await proxy.close();
      await b.close();
      await a.close();
    });

    it('imports the remote’s locks under the same igloohome device ids', () => {
      assert.equal(bFront.provider_device_id, aFront.provider_device_id);
    });

    it('issues exactly the PIN that A’s own registry derives, once A answers, and B’s keypad accepts it', async () => {
      const created = await seam.accessCodes.create({
        device_id: bFront.device_id,
        name: 'guest',
        starts_at: new Date(start + 2 * HOUR).toISOString(),
        ends_at: new Date(start + 7 * HOUR).toISOString(),
        is_offline_access_code: true,
      });
      assertSeamShape('access_code', created);
      assert.equal(created.code, null, 'a remote code server answers later');
      assert.equal(created.is_waiting_for_code_assignment, true);
      await b.jobs.runDue();
      const filled = await seam.accessCodes.get({ access_code_id: created.access_code_id });
      assert.match(filled.code ?? '', /^\d{10}$/);
      const record = await getAccessCodeById(b.store.db, created.access_code_id);
      assert.ok(record);
      const expected = await a.services.codes.issueOfflinePin(a.store.db, aFront, pinParamsOf(record));
      assert.equal(filled.code, expected);
      const attempts = await seam.actionAttempts.list({ device_id: bFront.device_id });
      const attempt = attempts.find((x) => x.action_type === 'CREATE_ACCESS_CODE');
      assert.equal(attempt?.status, 'success');
      await call(b, '/workspaces/simulate/advance_clock', { body: { by: 'PT3H' } });
      const entry = await call(b, '/locks/simulate/keypad_code_entry', {
        body: { device_id: bFront.device_id, code: filled.code },
      });
      assert.deepEqual(entry.json.action_attempt.result, { accepted: true });
    });

    it('waits while A is down and completes when A is back', async () => {
      proxy.state.mode = 'down';
      const created = await seam.accessCodes.create({
        device_id: bFront.device_id,
        starts_at: new Date(b.clock.now + 30 * HOUR).toISOString(),
        ends_at: new Date(b.clock.now + 33 * HOUR).toISOString(),
        is_offline_access_code: true,
      });
      await b.jobs.runDue();
      assert.equal((await seam.accessCodes.get({ access_code_id: created.access_code_id })).code, null);
      proxy.state.mode = 'up';
      b.clock.now += 10_000; // past the runner's first backoff
      await b.jobs.runDue();
      const filled = await seam.accessCodes.get({ access_code_id: created.access_code_id });
      assert.match(filled.code ?? '', /^\d{10}$/);
      assert.deepEqual(filled.errors, []);
    });

    it('fails the code with A’s message when A refuses (422)', async () => {
      proxy.state.mode = 'refuse_422';
      const created = await seam.accessCodes.create({
        device_id: bFront.device_id,
        starts_at: new Date(b.clock.now + 40 * HOUR).toISOString(),
        ends_at: new Date(b.clock.now + 41 * HOUR).toISOString(),
        is_offline_access_code: true,
      });
      await b.jobs.runDue();
      proxy.state.mode = 'up';
      const code = await seam.accessCodes.get({ access_code_id: created.access_code_id });
      assert.equal(code.code, null);
      assert.deepEqual(
        code.errors.map((e) => e.error_code),
        ['provider_issue'],
      );
      const attempt = (await seam.actionAttempts.list({ device_id: bFront.device_id })).find(
        (x) => x.action_type === 'CREATE_ACCESS_CODE' && x.status === 'error',
      );
      assert.ok(attempt && attempt.status === 'error');
      assert.match(attempt.error.message, /Exceeded the limit of 367 days/);
      const events = await call(b, '/events/list', {
        body: { since: '2000-01-01T00:00:00Z', event_type: 'access_code.failed_to_set_on_device' },
      });
      assert.equal(events.json.events.length, 1);
      assertSeamShape('event', events.json.events[0]);
    });

    it('renews its token when A says it expired, and caches it otherwise', async () => {
      const before = proxy.state.tokenRequests;
      proxy.state.mode = 'unauthorized_once';
      const created = await seam.accessCodes.create({
        device_id: bFront.device_id,
        starts_at: new Date(b.clock.now + 50 * HOUR).toISOString(),
        ends_at: new Date(b.clock.now + 51 * HOUR).toISOString(),
        is_offline_access_code: true,
      });
      await b.jobs.runDue();
      assert.match(
        (await seam.accessCodes.get({ access_code_id: created.access_code_id })).code ?? '',
        /^\d{10}$/,
      );
      assert.equal(proxy.state.tokenRequests, before + 1, 'one new token after the 401');
      const again = await seam.accessCodes.create({
        device_id: bFront.device_id,
        starts_at: new Date(b.clock.now + 52 * HOUR).toISOString(),
        ends_at: new Date(b.clock.now + 53 * HOUR).toISOString(),
        is_offline_access_code: true,
      });
      await b.jobs.runDue();
      assert.match(
        (await seam.accessCodes.get({ access_code_id: again.access_code_id })).code ?? '',
        /^\d{10}$/,
      );
      assert.equal(proxy.state.tokenRequests, before + 1, 'the renewed token is reused');
    });
  });
}
