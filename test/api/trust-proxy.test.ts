import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { loadConfig, parseTrustProxy } from '../../src/config.ts';
import { testDialects } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';

// LATCHKEY_TRUST_PROXY: behind a TLS-terminating proxy, `pagination.next_page_url` takes its scheme from
// X-Forwarded-Proto, but only when the connecting peer is a configured proxy. Off by default: a client that
// forges the header changes nothing.

const FORWARDED = { 'x-forwarded-proto': 'https' };

/** The first page of two devices, one per page: its next_page_url. */
async function nextPageUrl(server: TestServer, headers: Record<string, string> = {}): Promise<string> {
  const page = await call(server, '/devices/list?limit=1', { method: 'GET', headers });
  assert.equal(page.status, 200, page.text);
  assert.equal(page.json.pagination.has_next_page, true);
  return page.json.pagination.next_page_url as string;
}

for (const dialect of testDialects()) {
  describe(`trust proxy on ${dialect.name}`, () => {
    const servers: Record<string, TestServer> = {};
    before(async () => {
      servers.off = await startTestServer(dialect);
      servers.on = await startTestServer(dialect, { trustProxy: true });
      servers.loopback = await startTestServer(dialect, { trustProxy: ['127.0.0.1'] });
      servers.elsewhere = await startTestServer(dialect, { trustProxy: ['10.0.0.0/8', '192.0.2.7'] });
    });
    after(async () => {
      for (const server of Object.values(servers)) await server.close();
    });

    it('off (the default): a forged X-Forwarded-Proto is ignored', async () => {
      const server = servers.off as TestServer;
      const url = await nextPageUrl(server, FORWARDED);
      assert.ok(url.startsWith(`${server.url}/devices/list?page_cursor=`), url);
      assert.equal(await nextPageUrl(server), url);
      const forgedHost = await nextPageUrl(server, { 'x-forwarded-host': 'evil.example' });
      assert.ok(forgedHost.startsWith(`${server.url}/devices/list?`), forgedHost);
    });

    it('on: next_page_url takes the https scheme from the proxy, and still works as a page link', async () => {
      const server = servers.on as TestServer;
      const url = await nextPageUrl(server, FORWARDED);
      const host = new URL(server.url).host;
      assert.ok(url.startsWith(`https://${host}/devices/list?page_cursor=`), url);
      // The proxy's X-Forwarded-Host names the public host.
      const proxied = await nextPageUrl(server, { ...FORWARDED, 'x-forwarded-host': 'api.example.com' });
      assert.ok(proxied.startsWith('https://api.example.com/devices/list?page_cursor='), proxied);
      // Without the header the connection's own scheme shows.
      assert.ok((await nextPageUrl(server)).startsWith('http://'));
      // The proxy's last hop counts (nginx appends): "http, https" is https.
      assert.ok((await nextPageUrl(server, { 'x-forwarded-proto': 'http, https' })).startsWith('https://'));
      // The link, followed through the plain connection, serves the second page.
      const second = await call(server, `/devices/list${url.slice(url.indexOf('?'))}&limit=1`, {
        method: 'GET',
      });
      assert.equal(second.status, 200, second.text);
      assert.equal(second.json.devices.length, 1);
      assert.equal(second.json.pagination.has_next_page, false);
    });

    it('a list: honoured from a listed proxy address, ignored from any other peer', async () => {
      const listed = servers.loopback as TestServer;
      assert.ok((await nextPageUrl(listed, FORWARDED)).startsWith('https://'));
      const unlisted = servers.elsewhere as TestServer;
      assert.ok(
        (await nextPageUrl(unlisted, FORWARDED)).startsWith('http://'),
        'the test client is not 10/8',
      );
    });
  });
}

describe('LATCHKEY_TRUST_PROXY parsing', () => {
  it('is off unless set', () => {
    assert.equal(loadConfig({}).trustProxy, false);
    for (const off of ['', 'false', 'FALSE', '0', 'no', 'off', ' false '])
      assert.equal(parseTrustProxy(off), false);
  });

  it('accepts true and its spellings', () => {
    for (const on of ['true', 'True', '1', 'yes', 'on']) assert.equal(parseTrustProxy(on), true);
    assert.equal(loadConfig({ LATCHKEY_TRUST_PROXY: 'true' }).trustProxy, true);
  });

  it('accepts a comma-separated list of addresses, CIDR ranges and proxy-addr range names', () => {
    assert.deepEqual(parseTrustProxy('10.0.0.1'), ['10.0.0.1']);
    assert.deepEqual(parseTrustProxy(' 10.0.0.0/8, 192.168.1.10 ,fd00::/8,::1,Loopback'), [
      '10.0.0.0/8',
      '192.168.1.10',
      'fd00::/8',
      '::1',
      'loopback',
    ]);
    assert.deepEqual(loadConfig({ LATCHKEY_TRUST_PROXY: '127.0.0.1,uniquelocal' }).trustProxy, [
      '127.0.0.1',
      'uniquelocal',
    ]);
  });

  it('whatever it accepts, Fastify accepts too', async () => {
    for (const value of ['10.0.0.0/8,192.168.1.10,fd00::/8,::1,loopback,linklocal,uniquelocal', 'true']) {
      const app = Fastify({ trustProxy: parseTrustProxy(value) });
      await app.ready();
      await app.close();
    }
  });

  it('refuses anything else, naming the variable, so a typo cannot silently trust everyone or no one', () => {
    for (const bad of [
      'maybe',
      '10.0.0.0/33',
      '::1/129',
      '10.0.0',
      '10.0.0.1,',
      '10.0.0.1/8/8',
      'example.com',
      '10.0.0.0/x',
      '*',
    ]) {
      assert.throws(() => loadConfig({ LATCHKEY_TRUST_PROXY: bad }), /LATCHKEY_TRUST_PROXY/, bad);
    }
  });
});
