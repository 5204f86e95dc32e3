import type { Notice } from '../types.ts';

/** Errors (red) then warnings (amber) of a device or a code, each titled with its code; a dash when none. */
export function IssueList({ errors, warnings }: { errors: readonly Notice[]; warnings: readonly Notice[] }) {
  if (errors.length + warnings.length === 0) return <span class="muted">—</span>;
  return (
    <ul class="plain">
      {errors.map((e) => (
        <li key={e.error_code} class="bad" title={e.error_code}>
          {e.message}
        </li>
      ))}
      {warnings.map((w) => (
        <li key={w.warning_code} class="warn" title={w.warning_code}>
          {w.message}
        </li>
      ))}
    </ul>
  );
}
