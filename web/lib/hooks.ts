import { useEffect, useState } from 'preact/hooks';
import { onClockChange, workspaceNow } from './clock.ts';

/** The workspace clock, re-read every few seconds and whenever the page advances it. */
export function useWorkspaceNow(periodMs = 5000): number {
  const [now, setNow] = useState(workspaceNow);
  useEffect(() => {
    const timer = setInterval(() => setNow(workspaceNow()), periodMs);
    const off = onClockChange(() => setNow(workspaceNow()));
    return () => {
      clearInterval(timer);
      off();
    };
  }, [periodMs]);
  return now;
}
