import { formatWindow } from '../lib/format.ts';
import { kindLabelOf, offlineKindOf } from '../lib/rules.ts';
import type { AccessCode } from '../types.ts';
import { CopyButton } from './CopyButton.tsx';
import { IssueList } from './IssueList.tsx';

/** The device's live codes: name, kind, status, the window the lock enforces, the PIN and any warnings. */
export function CodesTable({
  codes,
  colorOf,
}: {
  codes: readonly AccessCode[];
  colorOf: (id: string) => number;
}) {
  if (codes.length === 0) {
    return <p class="muted">No access codes on this lock yet. Create one with the form.</p>;
  }
  return (
    <div class="table-wrap">
      <table class="codes" aria-label="Access codes">
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col">Kind</th>
            <th scope="col">Status</th>
            <th scope="col">Window (UTC)</th>
            <th scope="col">PIN</th>
            <th scope="col">Warnings</th>
          </tr>
        </thead>
        <tbody>
          {codes.map((code) => (
            <tr key={code.access_code_id} data-access-code-id={code.access_code_id}>
              <td>
                <span class={`swatch c${colorOf(code.access_code_id)}`} aria-hidden="true" />
                {code.name ?? <span class="muted">(unnamed)</span>}
              </td>
              <td>
                <span class={`kind kind-${offlineKindOf(code) ?? 'online'}`}>{kindLabelOf(code)}</span>
                {code.is_offline_access_code ? null : <span class="muted"> via bridge</span>}
              </td>
              <td>
                <span class={`status status-${code.status}`}>{code.status}</span>
              </td>
              <td class="window">{formatWindow(code.starts_at, code.ends_at)}</td>
              <td class="pin-cell">
                {code.code === null ? (
                  <span class="muted">pending</span>
                ) : (
                  <>
                    <code class="pin">{code.code}</code>{' '}
                    <CopyButton text={code.code} label={`Copy the PIN of ${code.name ?? 'this code'}`} />
                  </>
                )}
              </td>
              <td>
                <IssueList errors={code.errors} warnings={code.warnings} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
