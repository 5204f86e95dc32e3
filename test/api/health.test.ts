import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { HEALTH_TIMEOUT_MS } from '../../src/api/health.ts';
import { buildApp } from '../../src/api/server.ts';
import { createServices } from '../../src/app/serve.ts';
import { openPostgres } from '../../src/store/dialects/postgres.ts';
import { openStore } from '../../src/store/index.ts';
import { requirePostgres, testDialects } from '../helpers/databases.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';

// GET /health answers 200 only when the process serves *and* its database answers a trivial query; otherwise
// 503 service_unavailable in the Seam error envelope. No API key, no rate limit, nothing of the error leaked.

const health = (server: Pick<TestServer, 'url'>, headers: Record<string, string> = {}) =>
  call({ url: server.url, apiKey: '' }, '/health', { method: 'GET', key: null, headers });

function assertUnavailable(response: Awaited<ReturnType<typeof health>>) {
  assert.equal(response.status, 503, response.text);
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(response.json, {
    error: { type: 'service_unavailable', message: 'The database is not answering.' },
    ok: false,
  });
  assert.ok(response.headers.get('seam-request-id'), 'the usual request id header');
}

for (const dialect of testDialects()) {
  describe(`/health on ${dialect.name}`, () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer(dialect, { rateLimit: { perSecond: 1, burst: 1 } });
    });
    after(async () => {
      // The store is closed by the last test: close may complain about it; the database goes regardless.
      await server.close().catch(() => {});
      await server.database.drop();
    });

    it('answers 200 {"ok": true} without a key, and ignores a wrong one', async () => {
      const ok = await health(server);
      assert.equal(ok.status, 200);
      assert.deepEqual(ok.json, { ok: true });
      const wrongKey = await health(server, { authorization: 'Bearer seam_not_a_real_key_000000' });
      assert.equal(wrongKey.status, 200);
    });

    it('is outside the per-key rate limit', async () => {
      const answers = await Promise.all(Array.from({ length: 20 }, () => health(server)));
      assert.deepEqual(new Set(answers.map((a) => a.status)), new Set([200]));
      // The Seam routes are limited (1 per second, bursts of 1) for the same caller meanwhile.
      const seam = await Promise.all(
        Array.from({ length: 4 }, () => call(server, '/devices/list', { body: {} })),
      );
      assert.ok(seam.some((r) => r.status === 429));
    });

    it('answers 503 in the Seam envelope once the database is gone, and leaks nothing of the error', async () => {
      await server.store.close();
      const down = await health(server);
      assertUnavailable(down);
      assert.doesNotMatch(down.text, /destroyed|sqlite|postgres|select/i);
      // The Seam routes fail too (the database is gone): health says so instead of 200.
      assert.equal((await call(server, '/devices/list', { body: {} })).status >= 500, true);
    });
  });
}

describe('/health on a Postgres database dropped and made again', () => {
  const postgres = requirePostgres();
  const skip = postgres ? false : 'set LATCHKEY_TEST_DATABASE_URL to run the Postgres-only tests';
  let server: TestServer;
  before(async () => {
    if (postgres) server = await startTestServer(postgres);
  });
  after(async () => {
    if (postgres) await server.close();
  });

  it('goes 503 while the database is missing, and back to 200 when it is there again', { skip }, async () => {
    assert.equal((await health(server)).status, 200);
    const url = new URL(server.database.url);
    const name = url.pathname.slice(1);
    const admin = new pg.Client({ connectionString: process.env.LATCHKEY_TEST_DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE ${name} WITH (FORCE)`);
      assertUnavailable(await health(server));
      assertUnavailable(await health(server));
      await admin.query(`CREATE DATABASE ${name}`);
      assert.equal((await health(server)).status, 200, 'the pool reconnects');
    } finally {
      await admin.end();
    }
  });
});

describe('/health against a database that accepts connections but never answers', () => {
  let silentServer: net.Server;
  const sockets = new Set<net.Socket>();
  let port: number;
  before(async () => {
    // Swallows everything: the Postgres driver's connection attempt hangs (it has no timeout of its own).
    silentServer = net.createServer((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => silentServer.listen(0, '127.0.0.1', resolve));
    port = (silentServer.address() as net.AddressInfo).port;
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silentServer.close(resolve));
  });

  it(`answers 503 after ${HEALTH_TIMEOUT_MS} ms, and probes once however often it is asked`, async () => {
    const db = openPostgres(`postgres://nobody@127.0.0.1:${port}/nothing`);
    const store = { db, jobsDb: db, dialect: 'postgres' as const, close: () => db.destroy() };
    const silent = pino({ level: 'silent' });
    const { services } = createServices(store, randomBytes(32), silent);
    const app = await buildApp({ services, logger: silent });
    try {
      const started = Date.now();
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => app.inject({ method: 'GET', url: '/health' })),
      );
      const elapsed = Date.now() - started;
      for (const answer of answers) {
        assert.equal(answer.statusCode, 503);
        assert.equal(answer.json().error.type, 'service_unavailable');
      }
      assert.ok(elapsed >= HEALTH_TIMEOUT_MS - 50 && elapsed < HEALTH_TIMEOUT_MS + 2_000, `${elapsed} ms`);
      assert.equal(sockets.size, 1, 'one connection attempt for five checks');
    } finally {
      await app.close();
      for (const socket of sockets) socket.destroy();
      await db.destroy().catch(() => {});
    }
  });
});

describe('/health logs', () => {
  it('logs a warning without the error detail leaking to the client, and no credentials', async () => {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    const store = await openStore('sqlite::memory:');
    const { services } = createServices(store, randomBytes(32), logger);
    const app = await buildApp({ services, logger });
    try {
      const secret = `seam_health_${randomBytes(12).toString('hex')}`;
      const up = await app.inject({
        method: 'GET',
        url: '/health',
        headers: { authorization: `Bearer ${secret}` },
      });
      assert.equal(up.statusCode, 200);
      assert.equal(lines.filter((l) => l.level === 40).length, 0, 'no warning while healthy');
      await store.close();
      const down = await app.inject({
        method: 'GET',
        url: '/health',
        headers: { authorization: `Bearer ${secret}` },
      });
      assert.equal(down.statusCode, 503);
      const warnings = lines.filter((l) => l.msg === 'health: the database did not answer');
      assert.equal(warnings.length, 1);
      assert.equal(warnings[0]?.level, 40);
      assert.equal(typeof warnings[0]?.reason, 'string');
      assert.ok(!JSON.stringify(lines).includes(secret), 'the Authorization header is never logged');
      assert.ok(!down.body.includes(String(warnings[0]?.reason)), 'the reason stays in the log');
    } finally {
      await app.close();
    }
  });
});
