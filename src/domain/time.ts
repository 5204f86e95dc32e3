// Time as the domain sees it: plain millisecond numbers handed in by the caller. Nothing here reads
// the system clock, so sandbox time travel (a per-workspace offset) is just a different `now`.

export const HOUR_MS = 3_600_000;
export const DAY_MS = 24 * HOUR_MS;

/** ISO 8601 in UTC with milliseconds, the only timestamp form the API returns. */
export function isoUtc(ms: number): string {
  return new Date(ms).toISOString();
}

/** The instant a workspace lives at: real time moved by its sandbox offset. */
export function workspaceNow(realNowMs: number, workspace: { clock_offset_ms: number }): number {
  return realNowMs + workspace.clock_offset_ms;
}

const ISO_DURATION =
  /^([+-])?P(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/**
 * An ISO 8601 duration in weeks, days, hours, minutes and seconds (`PT25H`, `P1DT2H30M`, `-PT5M`), as
 * milliseconds. Years and months have no fixed length, so they are refused; null for anything else.
 */
export function parseIsoDuration(text: string): number | null {
  const m = ISO_DURATION.exec(text);
  if (!m || text.endsWith('T') || /^[+-]?P$/.test(text)) return null;
  const [, sign, weeks, days, hours, minutes, seconds] = m;
  const ms =
    Number(weeks ?? 0) * 7 * DAY_MS +
    Number(days ?? 0) * DAY_MS +
    Number(hours ?? 0) * HOUR_MS +
    Number(minutes ?? 0) * 60_000 +
    Number(seconds ?? 0) * 1000;
  if (!Number.isFinite(ms)) return null;
  return Math.round(sign === '-' ? -ms : ms);
}
