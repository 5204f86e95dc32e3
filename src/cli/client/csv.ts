// A minimal, strict RFC 4180 reader (no CSV package is installed, and bookings files are small):
// comma-separated fields, records ended by CRLF or LF, fields optionally enclosed in double quotes, where
// they may hold commas, line breaks and doubled quotes (""). Anything RFC 4180 does not allow — a quote
// inside an unquoted field, text after a closing quote, a quote left open — is an error naming the line,
// rather than a guess that would quietly shift columns.

export interface CsvRecord {
  /** The fields as written (quotes removed, "" turned into "); no trimming. */
  fields: string[];
  /** 1-based line on which the record starts (a quoted line break makes a record span lines). */
  line: number;
}

export class CsvSyntaxError extends Error {
  override readonly name = 'CsvSyntaxError';
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
  }
}

/**
 * Every record of `text`. A leading UTF-8 byte-order mark is ignored; a final line break does not start
 * an empty record. An empty line is a record with one empty field (RFC 4180), left for the caller to skip.
 */
export function parseCsv(text: string): CsvRecord[] {
  const input = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = '';
  let line = 1;
  let recordLine = 1;
  let i = 0;
  // State at the start of each field: quoted or not is decided by its first character.
  let atFieldStart = true;
  let quoted = false;
  let afterClosingQuote = false;

  const endField = () => {
    fields.push(field);
    field = '';
    atFieldStart = true;
    quoted = false;
    afterClosingQuote = false;
  };
  const endRecord = () => {
    endField();
    records.push({ fields, line: recordLine });
    fields = [];
  };

  while (i < input.length) {
    const ch = input[i] as string;
    if (quoted && !afterClosingQuote) {
      if (ch === '"') {
        if (input[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        afterClosingQuote = true;
        i++;
        continue;
      }
      if (ch === '\n') line++;
      field += ch;
      i++;
      continue;
    }
    if (ch === ',') {
      endField();
      i++;
      continue;
    }
    if (ch === '\n' || (ch === '\r' && input[i + 1] === '\n')) {
      endRecord();
      i += ch === '\r' ? 2 : 1;
      line++;
      recordLine = line;
      continue;
    }
    if (afterClosingQuote) {
      throw new CsvSyntaxError(
        line,
        `unexpected ${describe(ch)} after a closing quote (a field that starts with " must end with " followed by a comma or the end of the line)`,
      );
    }
    if (ch === '"') {
      if (!atFieldStart) {
        throw new CsvSyntaxError(
          line,
          'a quote inside an unquoted field; enclose the whole field in quotes and double the quote ("")',
        );
      }
      quoted = true;
      atFieldStart = false;
      i++;
      continue;
    }
    if (ch === '\r') {
      throw new CsvSyntaxError(
        line,
        'a carriage return not followed by a line feed; enclose the field in quotes',
      );
    }
    atFieldStart = false;
    field += ch;
    i++;
  }
  if (quoted && !afterClosingQuote) {
    throw new CsvSyntaxError(recordLine, 'a quoted field is never closed (missing ")');
  }
  // The last record, unless the text ended with its line break (or was empty).
  if (!atFieldStart || fields.length > 0 || field !== '' || quoted) endRecord();
  return records;
}

function describe(ch: string): string {
  return ch === ' ' ? 'space' : ch === '\t' ? 'tab' : `"${ch}"`;
}
