import type SqliteDatabase from 'better-sqlite3';
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
} from 'kysely';

/**
 * Group commit for SQLite: the commit, not the statements, was the largest cost of a create (WAL frames for
 * every page the create dirtied, ~190 µs of ~800 µs; docs/benchmarks.md). Under load, requests queue for the
 * single connection; instead of committing each one, the requests that find the connection busy run one after
 * another inside one SQLite transaction, each in a savepoint of its own, and one COMMIT ends them all.
 *
 * What each caller sees is unchanged: a transaction's `execute` (and a write outside one) resolves only once
 * the COMMIT that made it durable has run, and fails if that COMMIT fails (then nothing of the group was
 * kept). A transaction that fails rolls back to its savepoint: the others in the group are untouched. One
 * connection serves the whole process, so a read inside a group sees its earlier members' writes — and, being a
 * member, answers only after they are committed.
 *
 * A group closes when the event loop has run what was waiting in it (see commitSoon) and nobody holds the
 * connection, or once it has `maxMembers` members or is `maxAgeMs` old, so a steady stream of requests cannot
 * hold back the first ones' answers.
 */
export interface GroupCommitOptions {
  maxMembers: number;
  maxAgeMs: number;
}

const DEFAULTS: GroupCommitOptions = { maxMembers: 32, maxAgeMs: 4 };

export function groupCommitSqliteDialect(
  database: SqliteDatabase.Database,
  options: Partial<GroupCommitOptions> = {},
): Dialect {
  return {
    createAdapter: () => new SqliteAdapter(),
    createDriver: () => new GroupCommitDriver(database, { ...DEFAULTS, ...options }),
    createIntrospector: (db) => new SqliteIntrospector(db),
    createQueryCompiler: () => new SqliteQueryCompiler(),
  };
}

/** The statements run under one COMMIT, and how the callers waiting on it learn its outcome. */
class Group {
  members = 0;
  /** Set when SQLite rolled the whole group back under a statement: its members' work is gone. */
  failure: unknown = null;
  readonly openedAt = performance.now();
  readonly done: Promise<void>;
  settle!: (error?: unknown) => void;
  constructor() {
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = (error) => (error === undefined ? resolve() : reject(error));
    });
    // A group nobody waits on (its members all failed first) must not be an unhandled rejection.
    this.done.catch(() => {});
  }
}

const SAVEPOINT = 'latchkey_tx';
/** Enough for every distinct query the server makes; the oldest statement goes first beyond that. */
const STATEMENT_CACHE_SIZE = 1000;

class GroupCommitDriver implements Driver {
  private group: Group | null = null;
  private holder: Connection | null = null;
  private commitScheduled = false;
  private readonly waiting: Array<(connection: Connection) => void> = [];
  private readonly statements = new Map<string, SqliteDatabase.Statement>();

  constructor(
    private readonly database: SqliteDatabase.Database,
    private readonly options: GroupCommitOptions,
  ) {}

  /**
   * Kysely's own SQLite driver prepares every query from scratch, which was the largest single cost of an API
   * request (docs/benchmarks.md, API profile). Statements are reusable and run one at a time on the single
   * connection, so they are cached by SQL text.
   */
  private exec(sql: string): void {
    this.prepare(sql).run();
  }

  private prepare(sql: string): SqliteDatabase.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.database.prepare(sql);
      this.statements.set(sql, statement);
      if (this.statements.size > STATEMENT_CACHE_SIZE) {
        const oldest = this.statements.keys().next().value;
        if (oldest !== undefined) this.statements.delete(oldest);
      }
    }
    return statement;
  }

  async init(): Promise<void> {}

  acquireConnection(): Promise<DatabaseConnection> {
    if (!this.holder) {
      this.holder = new Connection(this);
      return Promise.resolve(this.holder);
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    this.join(connection as Connection);
    this.exec(`SAVEPOINT ${SAVEPOINT}`);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const { group } = connection as Connection;
    if (group && group.failure !== null) throw group.failure;
    // Made durable by the group's COMMIT, which the caller awaits in releaseConnection.
    this.exec(`RELEASE ${SAVEPOINT}`);
  }

  async rollbackTransaction(): Promise<void> {
    if (!this.database.inTransaction) return; // SQLite already rolled the whole group back; see failed().
    this.exec(`ROLLBACK TO ${SAVEPOINT}`);
    this.exec(`RELEASE ${SAVEPOINT}`);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    const { group } = connection as Connection;
    const next = this.waiting.shift();
    if (group && this.group === group) {
      const full = group.members >= this.options.maxMembers;
      const old = performance.now() - group.openedAt >= this.options.maxAgeMs;
      if (full || old) this.commit(group);
      else if (!next) this.commitSoon();
    }
    if (next) {
      this.holder = new Connection(this);
      next(this.holder);
    } else {
      this.holder = null;
    }
    if (group) await group.done;
  }

  async destroy(): Promise<void> {
    if (this.group) this.commit(this.group);
    this.database.close();
  }

  /** The statement about to run changes the database: it joins the open group, or opens one. */
  join(connection: Connection): void {
    if (connection.group) {
      // Its group was rolled back under it: nothing it does now may run outside a transaction.
      if (connection.group.failure !== null) throw connection.group.failure;
      return;
    }
    if (!this.group) {
      this.exec('BEGIN');
      this.group = new Group();
    }
    this.group.members += 1;
    connection.group = this.group;
  }

  /** A read joins a group that is open (it sees the group's writes), but does not open one. */
  joinIfOpen(connection: Connection): void {
    if (this.group || connection.group) this.join(connection);
  }

  run(connection: Connection, compiled: CompiledQuery): QueryResult<unknown> {
    const statement = this.prepare(compiled.sql);
    if (statement.reader) this.joinIfOpen(connection);
    else this.join(connection);
    const parameters = compiled.parameters as unknown[];
    try {
      if (statement.reader) return { rows: statement.all(parameters) };
      const { changes, lastInsertRowid } = statement.run(parameters);
      return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
    } catch (error) {
      // Some errors (SQLITE_FULL, I/O errors) make SQLite roll back the whole transaction, not the statement.
      if (this.group && !this.database.inTransaction) this.failed(this.group, error);
      throw error;
    }
  }

  /**
   * Nobody waits for the connection now, but requests may be on their way: commit once the event loop has polled
   * for I/O once more (a setImmediate inside a setImmediate runs after the next poll), so that the requests
   * whose bytes arrive meanwhile join this group. Unless a member holds the connection then — its release
   * decides again.
   */
  private commitSoon(): void {
    if (this.commitScheduled) return;
    this.commitScheduled = true;
    setImmediate(() =>
      setImmediate(() => {
        this.commitScheduled = false;
        if (this.group && !this.holder) this.commit(this.group);
      }),
    );
  }

  private commit(group: Group): void {
    this.group = null;
    try {
      this.exec('COMMIT');
      group.settle();
    } catch (error) {
      // A COMMIT refused (a deferred constraint, a full disk) leaves the transaction open: end it. This runs from
      // a timer too, so nothing may escape; should ROLLBACK fail as well, SQLite has already ended the
      // transaction or the connection is unusable, and the members learn of the COMMIT's error either way.
      try {
        if (this.database.inTransaction) this.exec('ROLLBACK');
      } catch {}
      group.settle(error);
    }
  }

  private failed(group: Group, error: unknown): void {
    this.group = null;
    group.failure = error ?? new Error('the SQLite transaction was rolled back');
    group.settle(group.failure);
  }
}

class Connection implements DatabaseConnection {
  group: Group | null = null;
  constructor(private readonly driver: GroupCommitDriver) {}

  executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    return Promise.resolve(this.driver.run(this, compiled) as QueryResult<R>);
  }

  // biome-ignore lint/correctness/useYield: streaming is not used; Kysely requires the method.
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming is not supported by the SQLite store');
  }
}
