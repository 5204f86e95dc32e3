import { decodeCursor, type PageCursor } from './pagination.ts';

export interface ListOptions {
  limit: number;
  pageCursor?: string | null | undefined;
}

/** A cursor the server did not issue: the API layer maps this to 400 `invalid_input`. */
export class InvalidCursorError extends Error {
  constructor() {
    super('page_cursor is not a cursor returned by this list');
    this.name = 'InvalidCursorError';
  }
}

export function decodeCursorOrThrow(raw: string | null | undefined): PageCursor | null {
  if (raw === undefined || raw === null || raw === '') return null;
  const cursor = decodeCursor(raw);
  if (!cursor) throw new InvalidCursorError();
  return cursor;
}
