import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { Db } from './index.ts';

/** A parameter's stand-in while the query is compiled; never a value a caller could send (NUL is refused). */
const MARK = '\u0000precompiled:';

interface Template {
  compiled: CompiledQuery;
  /** For each bound parameter of the SQL: the caller's parameter name, or a constant of the query. */
  slots: ({ name: string } | { constant: unknown })[];
}

/**
 * A query whose shape never changes, built and compiled once per dialect and then run with new values.
 * Building and compiling a Kysely query costs more than SQLite needs to execute our small hot queries (the
 * API profile in docs/benchmarks.md), so the statements of every request's hot path are precompiled. The SQL
 * is still Kysely's — each dialect gets its own, the builder stays type-checked — only the work is done once.
 *
 * `build` receives stand-ins for the parameters and must use each as a whole bound value (no arithmetic on it,
 * no `in` list whose length varies); a parameter used otherwise is caught the first time the query compiles.
 */
export function precompiled<P extends object, R>(
  build: (db: Db, params: P) => Compilable<R>,
): (db: Db, params: P) => Promise<QueryResult<R>> {
  // One template per dialect: the adapter's class tells SQLite and Postgres apart (a transaction shares its
  // database's adapter).
  const templates = new Map<unknown, Template>();
  return async (db, params) => {
    const dialectKey = db.getExecutor().adapter.constructor;
    let template = templates.get(dialectKey);
    if (!template) {
      template = compileTemplate(db, build, params);
      templates.set(dialectKey, template);
    }
    const parameters = template.slots.map((slot) =>
      'name' in slot ? params[slot.name as keyof P] : slot.constant,
    );
    return db.executeQuery<R>({ ...template.compiled, parameters } as CompiledQuery<R>);
  };
}

function compileTemplate<P extends object>(
  db: Db,
  build: (db: Db, params: P) => Compilable<unknown>,
  sample: P,
): Template {
  const names = new Set(Object.keys(sample));
  // Real keys (an insert's `.values(row)` enumerates them), and a loud error for a name the sample lacks.
  const marks = Object.fromEntries([...names].map((name) => [name, `${MARK}${name}`]));
  const standIns = new Proxy(marks as P, {
    get: (target, name) => {
      if (typeof name === 'string' && !names.has(name) && name !== 'then')
        throw new Error(`precompiled query: unknown parameter ${name}`);
      return Reflect.get(target, name);
    },
  });
  const compiled = build(db, standIns).compile();
  const used = new Set<string>();
  const slots = compiled.parameters.map((value) => {
    if (typeof value === 'string' && value.startsWith(MARK)) {
      const name = value.slice(MARK.length);
      used.add(name);
      return { name };
    }
    if (typeof value === 'string' && value.includes(MARK)) {
      throw new Error(`precompiled query: a parameter was transformed (${JSON.stringify(value)})`);
    }
    return { constant: value };
  });
  for (const name of names) {
    if (!used.has(name)) throw new Error(`precompiled query: parameter ${name} is not a bound value`);
  }
  return { compiled, slots };
}
