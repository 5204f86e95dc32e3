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
