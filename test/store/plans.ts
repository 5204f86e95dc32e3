// Capturing the SQL a server runs, and reading its query plans. The capture sits under Kysely, on the
// drivers (better-sqlite3's statements, pg's client), so it sees every statement actually executed — built
// by Kysely, precompiled, or raw — with its bound parameters. `explainSqlite` / `explainPostgres` ask the
// database for the plan of one statement with those parameters, and name what would grow with the tables: a
// full scan of a large table, a sort that an index could have spared, an index built for one query, or a
// search of a growing table keyed only by its workspace (or flags and instants: one workspace may hold every
// row). Used by test/store/query-plans.test.ts and bench/growth.ts.
import { createRequire } from 'node:module';
import type SqliteDatabase from 'better-sqlite3';
import pg from 'pg';

export type DialectName = 'sqlite' | 'postgres';

export interface CapturedStatement {
  sql: string;
  /** The parameters of its first execution. */
  parameters: unknown[];
  count: number;
  /** Time spent executing it, in all (ms): in the driver for SQLite, until pg's answer for Postgres. */
  ms: number;
}

/** Every distinct statement (by SQL text) executed in this process while `enabled`. */
export const captured = {
  enabled: false,
  statements: new Map<string, CapturedStatement>(),
};

function record(text: string, parameters: unknown): CapturedStatement {
  let seen = captured.statements.get(text);
  if (!seen) {
    seen = {
      sql: text,
      parameters: Array.isArray(parameters) ? [...parameters] : parameters === undefined ? [] : [parameters],
      count: 0,
      ms: 0,
    };
    captured.statements.set(text, seen);
  }
  seen.count += 1;
  return seen;
}

let installed = false;

/** Wraps the drivers' execute methods (once per process); recording starts with `captured.enabled = true`. */
export function installStatementCapture(): void {
  if (installed) return;
  installed = true;
  const Database = createRequire(import.meta.url)('better-sqlite3') as typeof SqliteDatabase;
  const probe = new Database(':memory:');
  const statement = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, unknown>;
  probe.close();
  for (const method of ['all', 'get', 'run', 'iterate']) {
    const original = statement[method] as (...args: unknown[]) => unknown;
    statement[method] = function captureRun(this: { source: string }, ...args: unknown[]) {
      if (!captured.enabled) return original.apply(this, args);
      const seen = record(this.source, args.length === 1 ? args[0] : args);
      const t = performance.now();
      try {
        return original.apply(this, args);
      } finally {
        seen.ms += performance.now() - t;
      }
    };
  }
  const query = pg.Client.prototype.query as (...args: unknown[]) => unknown;
  pg.Client.prototype.query = function captureQuery(this: pg.Client, ...args: unknown[]) {
    if (!captured.enabled) return query.apply(this, args);
    const [first, values] = args;
    const seen =
      typeof first === 'string'
        ? record(first, values)
        : first && typeof first === 'object' && 'text' in first
          ? record(String((first as { text: unknown }).text), (first as { values?: unknown }).values)
          : null;
    const t = performance.now();
    const result = query.apply(this, args);
    if (seen && result instanceof Promise) {
      const done = () => {
        seen.ms += performance.now() - t;
      };
      result.then(done, done);
    }
    return result;
  } as typeof pg.Client.prototype.query;
}

/** Statements worth a plan: reads and writes (not BEGIN, COMMIT, SET, DDL). */
export function isPlannable(text: string): boolean {
  return /^\s*(select|insert|update|delete|with)\b/i.test(text);
}

/** Tables that grow with use, without bound: every code leaves rows in them, and they are never pruned. */
export const GROWING_TABLES: ReadonlySet<string> = new Set([
  'access_codes',
  'action_attempts',
  'events',
  'igloohome_pins',
  'jobs',
  'webhook_attempts',
  'webhook_deliveries',
]);

/**
 * Tables that grow with what workspaces own — locks, accounts, keys, webhooks — not with use (10 000 locks at
 * the growth bench's scale). `meta` and `workspaces` are in neither set: a handful of rows.
 */
export const INVENTORY_TABLES: ReadonlySet<string> = new Set([
  'api_keys',
  'connected_accounts',
  'devices',
  'igloohome_clients',
  'lock_keys',
  'virtual_locks',
  'webhooks',
]);

const large = (table: string) => GROWING_TABLES.has(table) || INVENTORY_TABLES.has(table);

/**
 * Columns that do not narrow a search of a growing table: one workspace can hold every row, and the flags
 * and instants below split a table in a few large parts. A search keyed by these alone reads a share of the
 * table that grows with it — unless an ORDER BY … LIMIT that the index serves stops it early: such
 * statements are allow-listed one by one, with that reason.
 */
const UNSELECTIVE_COLUMNS: ReadonlySet<string> = new Set([
  'workspace_id',
  'removed_at',
  'deleted_at',
  'revoked_at',
  'status',
  'kind',
  'created_at',
  'occurred_at',
]);

const unselective = (columns: string[]) =>
  columns.length > 0 && columns.every((c) => UNSELECTIVE_COLUMNS.has(c));

export interface Plan {
  /** The plan, one line per node, indented. */
  text: string;
  /** What grows with the tables, one line each ("<table>: <what>"). */
  problems: string[];
}

/** `EXPLAIN QUERY PLAN` with the statement's parameters. SQLite plans as in production: no ANALYZE statistics. */
export function explainSqlite(
  db: SqliteDatabase.Database,
  statement: Pick<CapturedStatement, 'sql' | 'parameters'>,
): Plan {
  const rows = db
    .prepare(`EXPLAIN QUERY PLAN ${statement.sql}`)
    .all(...bindable(statement.parameters)) as SqliteRow[];
  return sqlitePlan(rows, aliases(statement.sql));
}

/**
 * `EXPLAIN (FORMAT JSON)` with the statement's parameters; nothing is executed. On tables of a few rows the
 * planner rightly prefers sequential scans and sorts, so with `forceIndexes` (the default) it plans twice:
 * with sequential scans disabled, to see which index serves each table (a Seq Scan that remains has none);
 * and with sorts disabled too, to see whether an index gives the ORDER BY (a Sort that remains: none can).
 * Sorts are judged on the second plan only — it may take any path to avoid one — everything else on the first.
 */
export async function explainPostgres(
  client: pg.Client,
  statement: Pick<CapturedStatement, 'sql' | 'parameters'>,
  options: { forceIndexes?: boolean } = {},
): Promise<Plan> {
  const force = options.forceIndexes ?? true;
  const access = await pgExplain(client, statement, force ? ['enable_seqscan'] : []);
  if (!force) return postgresPlan(access, { scans: true, sorts: true });
  const ordered = await pgExplain(client, statement, ['enable_seqscan', 'enable_sort']);
  const a = postgresPlan(access, { scans: true, sorts: false });
  const b = postgresPlan(ordered, { scans: false, sorts: true });
  return {
    text: a.text === b.text ? a.text : `${a.text}\n(without sorts:)\n${b.text}`,
    problems: [...a.problems, ...b.problems],
  };
}

async function pgExplain(
  client: pg.Client,
  statement: Pick<CapturedStatement, 'sql' | 'parameters'>,
  disabled: string[],
): Promise<PgNode> {
  await client.query('BEGIN');
  try {
    for (const setting of disabled) await client.query(`SET LOCAL ${setting} = off`);
    const { rows } = await client.query(`EXPLAIN (FORMAT JSON) ${statement.sql}`, statement.parameters);
    const json = rows[0]?.['QUERY PLAN'];
    return ((typeof json === 'string' ? JSON.parse(json) : json) as [{ Plan: PgNode }])[0].Plan;
  } finally {
    await client.query('ROLLBACK');
  }
}

/** better-sqlite3 takes one array (or one object) of parameters, as Kysely passed them. */
function bindable(parameters: unknown[]): unknown[] {
  return parameters.length === 1 && Array.isArray(parameters[0]) ? parameters[0] : parameters;
}

/**
 * `"jobs" as "j"`, or raw SQL's `from jobs j` → j: jobs, so that plans naming an alias are read as the table
 * (without the second form SQLite's `SEARCH j …` of src/metrics/queue.ts went unjudged).
 */
function aliases(text: string): Map<string, string> {
  const map = new Map<string, string>();
  for (const m of text.matchAll(/"?(\w+)"? as "?(\w+)"?/gi)) map.set(m[2] as string, m[1] as string);
  for (const m of text.matchAll(/\b(?:from|join)\s+"?(\w+)"?\s+"?(\w+)"?/gi)) {
    if (!SQL_WORDS.test(m[2] as string)) map.set(m[2] as string, m[1] as string);
  }
  return map;
}
/** Words that may follow a table name in `from …` / `join …` and are not an alias. */
const SQL_WORDS =
  /^(as|where|on|left|right|inner|outer|cross|full|natural|join|order|group|limit|offset|using|for|union|except|intersect|returning|having|window|set|values)$/i;

// ------------------------------------------------------------------------------------------------ SQLite
interface SqliteRow {
  id: number;
  parent: number;
  detail: string;
}

const SQLITE_ACCESS =
  /^(SCAN|SEARCH) (\w+)(?: USING (?:(COVERING|AUTOMATIC COVERING|AUTOMATIC PARTIAL COVERING|AUTOMATIC) )?INDEX (\S+)(?: \((.*)\))?| USING (?:INTEGER )?PRIMARY KEY(?: \((.*)\))?)?/;

function sqlitePlan(rows: SqliteRow[], alias: Map<string, string>): Plan {
  const depth = new Map<number, number>([[0, -1]]);
  const lines: string[] = [];
  const problems = new Set<string>();
  const table = (name: string) => alias.get(name) ?? name;
  for (const row of rows) {
    const d = (depth.get(row.parent) ?? -1) + 1;
    depth.set(row.id, d);
    lines.push(`${'  '.repeat(d)}${row.detail}`);
    const access = SQLITE_ACCESS.exec(row.detail);
    if (access) {
      const [, verb, name, kind, index, keys] = access;
      const t = table(name as string);
      if (!large(t)) continue;
      if (kind?.startsWith('AUTOMATIC')) {
        problems.add(`${t}: an automatic index, built for this statement (no index serves it)`);
      } else if (verb === 'SCAN' && index === undefined && !/PRIMARY KEY/.test(row.detail)) {
        problems.add(`${t}: full table scan`);
      } else if (
        GROWING_TABLES.has(t) &&
        verb === 'SEARCH' &&
        keys !== undefined &&
        unselective(sqliteKeyColumns(keys))
      ) {
        problems.add(`${t}: searched by ${keys} only (${index})`);
      }
      continue;
    }
    if (/^USE TEMP B-TREE FOR (ORDER BY|GROUP BY|DISTINCT)/.test(row.detail)) {
      // The sort belongs to the query block of its parent: the tables that block reads are sorted.
      for (const sibling of rows) {
        if (sibling.parent !== row.parent || sibling === row) continue;
        const name = /^(?:SCAN|SEARCH) (\w+)/.exec(sibling.detail)?.[1];
        if (name !== undefined && large(table(name))) {
          problems.add(`${table(name)}: rows sorted in a temporary B-tree (no index gives the order)`);
        }
      }
    }
  }
  return { text: lines.join('\n'), problems: [...problems] };
}

/** `device_id=? AND removed_at=? AND (created_at,id)>(?,?)` → device_id, removed_at, created_at, id. */
function sqliteKeyColumns(keys: string): string[] {
  return keys
    .split(' AND ')
    .flatMap((k) => /^\((.*)\)[<>=]/.exec(k)?.[1]?.split(',') ?? [/^(\w+)/.exec(k)?.[1] ?? k])
    .map((c) => c.trim());
}

// ------------------------------------------------------------------------------------------------ Postgres
interface PgNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Index Name'?: string;
  'Index Cond'?: string;
  'Sort Key'?: string[];
  Filter?: string;
  Plans?: PgNode[];
}

function postgresPlan(root: PgNode, judge: { scans: boolean; sorts: boolean }): Plan {
  const lines: string[] = [];
  const problems = new Set<string>();
  const relations = (n: PgNode): string[] => [
    ...(n['Relation Name'] ? [n['Relation Name']] : []),
    ...(n.Plans ?? []).flatMap(relations),
  ];
  const walk = (n: PgNode, d: number, heap: string | undefined) => {
    const type = n['Node Type'];
    const rel = n['Relation Name'] ?? (type === 'Bitmap Index Scan' ? heap : undefined);
    lines.push(
      `${'  '.repeat(d)}${[
        type,
        n['Relation Name'] ? `on ${n['Relation Name']}` : '',
        n['Index Name'] ? `using ${n['Index Name']}` : '',
        n['Index Cond'] ? `(${n['Index Cond']})` : '',
        n['Sort Key'] ? `by ${n['Sort Key'].join(', ')}` : '',
        n.Filter ? `filter ${n.Filter}` : '',
      ]
        .filter(Boolean)
        .join(' ')}`,
    );
    if (judge.scans && rel && large(rel)) {
      if (type === 'Seq Scan') problems.add(`${rel}: sequential scan`);
      const cond = n['Index Cond'];
      if (GROWING_TABLES.has(rel) && cond !== undefined && unselective(pgCondColumns(cond))) {
        problems.add(`${rel}: searched by ${cond} only (${n['Index Name']})`);
      }
    }
    if (judge.sorts && type === 'Sort') {
      for (const t of new Set(relations(n).filter(large))) {
        problems.add(`${t}: rows sorted (no index gives the order)`);
      }
    }
    const nextHeap = type === 'Bitmap Heap Scan' ? n['Relation Name'] : heap;
    for (const child of n.Plans ?? []) walk(child, d + 1, nextHeap);
  };
  walk(root, 0, undefined);
  return { text: lines.join('\n'), problems: [...problems] };
}

/** `((workspace_id = $1) AND (removed_at IS NULL))` → workspace_id, removed_at. */
function pgCondColumns(cond: string): string[] {
  const columns = new Set<string>();
  for (const m of cond.matchAll(/(?:ROW\(([\w, ]+)\)|\(?(\w+)\)?) (?:=|<|>|<=|>=|IS NULL|IS NOT NULL)/g)) {
    for (const c of (m[1] ?? m[2] ?? '').split(','))
      if (c.trim() && !/^\$?\d+$/.test(c.trim())) columns.add(c.trim());
  }
  return [...columns];
}
