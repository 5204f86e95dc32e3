import { useState } from 'preact/hooks';
import { ApiError, call } from '../api.ts';
import { learnWorkspaceNow } from '../lib/clock.ts';
import { formatInstant } from '../lib/format.ts';
import { ErrorBox } from './ErrorBox.tsx';

/** Sandbox time travel: every lifecycle step due in the skipped interval happens at once. */
export function ClockControls({ now, onAdvanced }: { now: number; onAdvanced: () => void }) {
  const [custom, setCustom] = useState('PT25H');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);

  const advance = async (by: string) => {
    setBusy(true);
    setError(null);
    try {
      const answer = await call<{ now: string }>('/workspaces/simulate/advance_clock', { by });
      learnWorkspaceNow(answer.now);
      onAdvanced();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setError(e);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel" aria-labelledby="clock-title">
      <h2 id="clock-title">Workspace clock</h2>
      <p class="clock-now" data-testid="workspace-clock">
        {formatInstant(now)}
      </p>
      <p class="muted hint">
        As this tab knows it: this browser's clock plus the last advance made here. The server decides with
        its own clock.
      </p>
      <div class="button-row">
        <button type="button" disabled={busy} onClick={() => advance('PT1H')}>
          +1 hour
        </button>
        <button type="button" disabled={busy} onClick={() => advance('P1D')}>
          +1 day
        </button>
      </div>
      <form
        class="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          void advance(custom.trim());
        }}
      >
        <label>
          Advance by (ISO 8601 duration)
          <input
            name="advance_by"
            value={custom}
            placeholder="PT25H, P2DT3H"
            onInput={(e) => setCustom(e.currentTarget.value)}
          />
        </label>
        <button type="submit" disabled={busy || custom.trim() === ''}>
          Advance
        </button>
      </form>
      {error === null ? null : <ErrorBox error={error} intro="The server answered" />}
    </section>
  );
}
