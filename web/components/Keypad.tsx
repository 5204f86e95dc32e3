import { useState } from 'preact/hooks';
import { ApiError, call } from '../api.ts';
import type { ActionAttempt } from '../types.ts';
import { ErrorBox } from './ErrorBox.tsx';

const KEYS = ['1', '2', '3', '4', '5', '6', '7', '8', '9'];

interface KeypadResult {
  accepted: boolean;
  reason_code?: string;
  detail?: string;
}

/** The reason codes of `lock.access_denied`, as a person reads them. */
const REASONS: Record<string, string> = {
  unknown_code: 'the lock does not recognise this PIN',
  expired_code: 'the PIN is outside its window (or its 24-hour activation passed, or it was used once)',
  blocklisted_code: 'the PIN was deleted from the lock',
  too_many_attempts: 'the keypad is locked after too many wrong PINs',
};

/** A sandbox lock's keypad: the virtual lock decides offline, as the real one would. */
export function Keypad({ deviceId, onEntered }: { deviceId: string; onEntered: () => void }) {
  const [pin, setPin] = useState('');
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ pin: string; outcome: KeypadResult } | ApiError | null>(null);

  const press = (digit: string) => {
    setResult(null);
    setPin((p) => (p + digit).slice(0, 16));
  };
  const enter = async () => {
    if (pin === '') return;
    setBusy(true);
    try {
      const answer = await call<{ action_attempt: ActionAttempt }>('/locks/simulate/keypad_code_entry', {
        device_id: deviceId,
        code: pin,
      });
      setResult({ pin, outcome: answer.action_attempt.result as KeypadResult });
      setPin('');
      onEntered();
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      setResult(error);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel keypad" aria-labelledby="keypad-title">
      <h2 id="keypad-title">Virtual keypad</h2>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          void enter();
        }}
      >
        <label>
          PIN
          <input
            name="keypad_pin"
            class="keypad-display"
            inputMode="numeric"
            autoComplete="off"
            value={pin}
            onInput={(e) => {
              setResult(null);
              setPin(e.currentTarget.value.replace(/\D/g, '').slice(0, 16));
            }}
          />
        </label>
        <fieldset class="keys">
          <legend class="sr-only">Keypad</legend>
          {KEYS.map((k) => (
            <button key={k} type="button" class="key" onClick={() => press(k)}>
              {k}
            </button>
          ))}
          <button type="button" class="key" onClick={() => setPin('')} aria-label="Clear">
            C
          </button>
          <button type="button" class="key" onClick={() => press('0')}>
            0
          </button>
          <button type="submit" class="key enter" disabled={busy || pin === ''} aria-label="Enter">
            ✓
          </button>
        </fieldset>
      </form>
      <div aria-live="polite" data-testid="keypad-result">
        {result instanceof ApiError ? <ErrorBox error={result} intro="The server answered" /> : null}
        {result !== null && !(result instanceof ApiError) ? (
          result.outcome.accepted ? (
            <p class="notice success">
              <strong>accepted</strong> — {result.pin} opened the lock.
            </p>
          ) : (
            <p class="notice error">
              <strong>refused</strong> — {result.pin}: <code>{result.outcome.reason_code}</code>,{' '}
              {REASONS[result.outcome.reason_code ?? ''] ?? result.outcome.detail ?? 'no reason given'}.
            </p>
          )
        ) : null}
      </div>
    </section>
  );
}
