import { type RawBuilder, type SqlBool, sql } from 'kysely';
// Keyset pagination on (created_at, id): stable under inserts, O(limit) per page at any depth.
// The cursor is opaque to clients: base64url of `[created_at, id]`.

export interface PageCursor {
  created_at: number;
  id: string;
}

export function encodeCursor(c: PageCursor): string {
  return Buffer.from(JSON.stringify([c.created_at, c.id])).toString('base64url');
}

/** Returns null for anything that is not a cursor this server issued. */
export function decodeCursor(raw: string): PageCursor | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
    if (
      Array.isArray(value) &&
      value.length === 2 &&
      Number.isSafeInteger(value[0]) &&
      typeof value[1] === 'string'
    ) {
      return { created_at: value[0], id: value[1] };
    }
  } catch {
    // fall through: malformed cursor
  }
  return null;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** Given `limit + 1` rows fetched in order, returns the page and the cursor of the next one. */
export function toPage<R, T>(rows: R[], limit: number, key: (r: R) => PageCursor, map: (r: R) => T): Page<T> {
  const hasNext = rows.length > limit;
  const pageRows = hasNext ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return {
    items: pageRows.map(map),
    nextCursor: hasNext && last ? encodeCursor(key(last)) : null,
  };
}

/** `WHERE (created_at, id) > cursor`: a row-value comparison both SQLite and Postgres index well. */
export function afterCursor(idColumn: string, c: PageCursor): RawBuilder<SqlBool> {
  return sql<SqlBool>`(created_at, ${sql.ref(idColumn)}) > (${c.created_at}, ${c.id})`;
}
