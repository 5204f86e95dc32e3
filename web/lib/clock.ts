// The workspace clock as the page knows it. The public API has no "what time is it" read, and a sandbox
// workspace runs ahead of real time by however far advance_clock moved it. So the page keeps the offset the
// server last answered (`advance_clock` returns `now`) in sessionStorage, per workspace, and adds it to this
// browser's clock. A clock advanced from elsewhere (the CLI, an SDK) is not seen until the next advance here;
// the server still decides every request with its own clock.

const OFFSET_PREFIX = 'latchkey.clock_offset.';
const listeners = new Set<() => void>();
let workspaceId: string | null = null;

export function setClockWorkspace(id: string | null): void {
  workspaceId = id;
}

function offset(): number {
  if (workspaceId === null) return 0;
  const stored = Number(sessionStorage.getItem(OFFSET_PREFIX + workspaceId) ?? '0');
  return Number.isFinite(stored) ? stored : 0;
}

/** The workspace clock, ms. */
export function workspaceNow(): number {
  return Date.now() + offset();
}

/** True when the page has seen this workspace's clock moved (sandbox time travel). */
export function clockIsMoved(): boolean {
  return offset() !== 0;
}

/** Record the server's answer (`advance_clock` → `now`). */
export function learnWorkspaceNow(nowIso: string): void {
  if (workspaceId === null) return;
  const serverNow = Date.parse(nowIso);
  if (!Number.isFinite(serverNow)) return;
  sessionStorage.setItem(OFFSET_PREFIX + workspaceId, String(serverNow - Date.now()));
  for (const listener of listeners) listener();
}

export function onClockChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
