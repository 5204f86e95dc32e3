import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

// Every suite that touches storage runs once per dialect: SQLite always, Postgres when
// LATCHKEY_TEST_DATABASE_URL names a server (CI sets it). Each test database is new and private to its
// caller (a temp file, or a freshly created Postgres database), and is removed by `drop()`.

export type DialectName = 'sqlite' | 'postgres';

export interface TestDatabase {
  dialect: DialectName;
  url: string;
  drop(): Promise<void>;
}

export interface TestDialect {
  name: DialectName;
  create(): Promise<TestDatabase>;
}

const postgresAdminUrl = process.env.LATCHKEY_TEST_DATABASE_URL;

const sqlite: TestDialect = {
  name: 'sqlite',
  async create() {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-test-'));
    return {
      dialect: 'sqlite',
      url: `sqlite:${join(dir, 'test.sqlite')}`,
      drop: async () => rmSync(dir, { recursive: true, force: true }),
    };
  },
};

const postgres = (adminUrl: string): TestDialect => ({
  name: 'postgres',
  async create() {
    const name = `latchkey_test_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name}`);
    } finally {
      await admin.end();
    }
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return {
      dialect: 'postgres',
      url: url.toString(),
      drop: async () => {
        const client = new pg.Client({ connectionString: adminUrl });
        await client.connect();
        try {
          await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        } finally {
          await client.end();
        }
      },
    };
  },
});

/** The dialects this run covers. */
export function testDialects(): TestDialect[] {
  return postgresAdminUrl ? [sqlite, postgres(postgresAdminUrl)] : [sqlite];
}

export function requirePostgres(): TestDialect | null {
  return postgresAdminUrl ? postgres(postgresAdminUrl) : null;
}
