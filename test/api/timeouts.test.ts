import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import pino from 'pino';
import { buildApp } from '../../src/api/server.ts';
import { createServices } from '../../src/app/serve.ts';
import { openStore } from '../../src/store/index.ts';

describe('connection limits', () => {
  it('gives a client 30 s to send its request and closes idle keep-alive connections after 65 s', async () => {
    const store = await openStore('sqlite::memory:');
    try {
      const logger = pino({ level: 'silent' });
      const { services } = createServices(store, randomBytes(32), logger);
      const app = await buildApp({ services, logger });
      await app.listen({ host: '127.0.0.1', port: 0 });
      try {
        assert.equal(app.server.requestTimeout, 30_000);
        assert.equal(app.server.keepAliveTimeout, 65_000);
        assert.ok(app.server.headersTimeout <= app.server.requestTimeout, 'headers come first');
        const r = await fetch(`http://127.0.0.1:${(app.server.address() as { port: number }).port}/health`);
        assert.equal(r.status, 200);
      } finally {
        await app.close();
      }
    } finally {
      await store.close();
    }
  });
});
