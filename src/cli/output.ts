// Human-readable output by default, JSON with --json: one place decides, so every command behaves alike.

type Row = Record<string, unknown>;

function cell(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A plain-text table: a header row, then one line per row, columns padded to their widest cell. */
export function formatTable(rows: Row[]): string {
  if (rows.length === 0) return '(none)';
  const columns = [...new Set(rows.flatMap((r) => Object.keys(r)))];
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => v.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(columns), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n');
}

export function formatRecord(record: Row): string {
  const width = Math.max(...Object.keys(record).map((k) => k.length));
  return Object.entries(record)
    .map(([k, v]) => `${k.padEnd(width)}  ${Array.isArray(v) ? formatList(v) : cell(v)}`)
    .join('\n');
}

function formatList(values: unknown[]): string {
  return values.length === 0 ? '(none)' : values.map(cell).join(', ');
}

export function printResult(opts: { json?: boolean }, result: Row | Row[]): void {
  if (opts.json) console.log(JSON.stringify(result, null, 2));
  else console.log(Array.isArray(result) ? formatTable(result) : formatRecord(result));
}
