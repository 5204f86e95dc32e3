// The bookings file of `latchkey code import`: a CSV whose header row names the columns `name`,
// `starts_at`, `ends_at` and optionally `one_time` (any order, case-insensitive). Each data row becomes one
// access-code request; a row that cannot become one (a missing name, a bad one_time value) carries its own
// error instead, so one bad line never stops the others.

import { CsvSyntaxError, parseCsv } from './csv.ts';
import { CliUsageError } from './http.ts';

export interface BookingRow {
  /** 1-based data row (the header is row 0). */
  row: number;
  /** Line in the file where the row starts. */
  line: number;
  name: string;
  starts_at: string | undefined;
  ends_at: string | undefined;
  one_time: boolean;
  /** Set when the row itself is unusable; nothing is sent for it. */
  error?: { type: string; message: string };
}

const REQUIRED = ['name', 'starts_at', 'ends_at'] as const;
const KNOWN = new Set<string>([...REQUIRED, 'one_time']);
const TRUE = new Set(['true', 'yes', 'y', '1']);
const FALSE = new Set(['false', 'no', 'n', '0', '']);

/** Reads the whole file; a syntax error or a bad header is a usage error (nothing is imported). */
export function parseBookings(text: string, source = 'bookings file'): BookingRow[] {
  let records: ReturnType<typeof parseCsv>;
  try {
    records = parseCsv(text);
  } catch (error) {
    if (error instanceof CsvSyntaxError) throw new CliUsageError(`${source}, ${error.message}`);
    throw error;
  }
  const isBlank = (fields: string[]) => fields.every((f) => f.trim() === '');
  const nonBlank = records.filter((r) => !isBlank(r.fields));
  const header = nonBlank[0];
  if (!header) {
    throw new CliUsageError(`${source} is empty: it needs a header row (name,starts_at,ends_at[,one_time]).`);
  }
  const columns = header.fields.map((f) => f.trim().toLowerCase());
  const unknown = columns.filter((c) => !KNOWN.has(c));
  const missing = REQUIRED.filter((c) => !columns.includes(c));
  const duplicated = columns.filter((c, i) => columns.indexOf(c) !== i);
  if (unknown.length > 0 || missing.length > 0 || duplicated.length > 0) {
    const problems = [
      missing.length ? `missing ${missing.join(', ')}` : '',
      unknown.length ? `unknown ${unknown.map((c) => `"${c}"`).join(', ')}` : '',
      duplicated.length ? `repeated ${duplicated.join(', ')}` : '',
    ].filter(Boolean);
    throw new CliUsageError(
      `${source}, line ${header.line}: the header row must name the columns name,starts_at,ends_at and ` +
        `optionally one_time (${problems.join('; ')}).`,
    );
  }
  const index = (c: string) => columns.indexOf(c);
  return nonBlank.slice(1).map((record, i): BookingRow => {
    const get = (c: string) => {
      const at = index(c);
      return at < 0 ? undefined : record.fields[at]?.trim();
    };
    const optional = (c: string) => {
      const v = get(c);
      return v === undefined || v === '' ? undefined : v;
    };
    const row: BookingRow = {
      row: i + 1,
      line: record.line,
      name: get('name') ?? '',
      starts_at: optional('starts_at'),
      ends_at: optional('ends_at'),
      one_time: false,
    };
    const rowError = (message: string) => ({ ...row, error: { type: 'invalid_row', message } });
    if (record.fields.length !== columns.length) {
      return rowError(
        `line ${record.line} has ${record.fields.length} fields, the header ${columns.length} ` +
          '(quote fields that contain commas).',
      );
    }
    if (row.name === '') return rowError(`line ${record.line}: name is empty.`);
    const oneTime = (get('one_time') ?? '').toLowerCase();
    if (TRUE.has(oneTime)) row.one_time = true;
    else if (!FALSE.has(oneTime)) {
      return rowError(
        `line ${record.line}: one_time must be true/false, yes/no, 1/0 or empty (got "${oneTime}").`,
      );
    }
    return row;
  });
}
