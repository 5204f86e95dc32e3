import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { buildApp } from '../../src/api/server.ts';
import { bootstrap } from '../../src/app/bootstrap.ts';
import { createServices } from '../../src/app/serve.ts';
import { openStore } from '../../src/store/index.ts';
import { testDialects } from '../helpers/databases.ts';
import { call, TEST_API_KEY } from '../helpers/server.ts';

describe('request logging', () => {
  it('writes one structured line per request with its request id, and never the API key or query values', async () => {
    const dialect = testDialects()[0];
    assert.ok(dialect);
    const database = await dialect.create();
    const store = await openStore(database.url);
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(...String(chunk).trim().split('\n'));
        done();
      },
    });
    try {
      const logger = pino({ level: 'info' }, sink);
      const { services } = createServices(store, randomBytes(32), logger);
      await bootstrap(services, { now: Date.now(), bootstrapApiKey: TEST_API_KEY });
      const app = await buildApp({ services, logger });
      await app.listen({ host: '127.0.0.1', port: 0 });
      const server = {
        url: `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`,
        apiKey: TEST_API_KEY,
      };
      const responses = [
        await call(server, '/devices/list?search=secret-query-value-1234567', { method: 'GET' }),
        await call(server, '/devices/get', { body: { name: 'nope' } }),
        await call(server, '/devices/list', { key: 'seam_wrong_key_abcdefghijklmnop' }),
      ];
      await app.close();
      const entries = lines.map((l) => JSON.parse(l));
      assert.equal(entries.length, 3);
      for (const [i, entry] of entries.entries()) {
        assert.equal(entry.req_id, responses[i]?.headers.get('seam-request-id'));
        assert.equal(typeof entry.status, 'number');
      }
      const all = lines.join('\n');
      assert.ok(!all.includes(TEST_API_KEY));
      assert.ok(!all.includes('seam_wrong_key'));
      assert.ok(!all.includes('secret-query-value'));
    } finally {
      await store.close();
      await database.drop();
    }
  });
});
