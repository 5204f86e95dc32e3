import { useState } from 'preact/hooks';
import { ApiError, call } from '../api.ts';
import { formatInstant, formatLength, formatWindow, parseUtcInput } from '../lib/format.ts';
import { KIND_LABELS, type MaxTimeRounding, pinLengthOf, previewOfflineCode } from '../lib/rules.ts';
import type { AccessCode, Device } from '../types.ts';
import { CopyButton } from './CopyButton.tsx';
import { ErrorBox } from './ErrorBox.tsx';

export interface Draft {
  name: string;
  /** `datetime-local` values, read as UTC. */
  starts: string;
  ends: string;
  oneTime: boolean;
  rounding: MaxTimeRounding;
}

export const EMPTY_DRAFT: Draft = { name: '', starts: '', ends: '', oneTime: false, rounding: '1hour' };

interface Props {
  device: Device;
  codes: readonly AccessCode[];
  now: number;
  draft: Draft;
  onDraft: (draft: Draft) => void;
  onCreated: (code: AccessCode) => void;
}

type Outcome = { created: AccessCode } | { refused: ApiError } | null;

/** Preview of a draft with the server's own rules, for the form and the calendar's highlight. */
export function previewOf(draft: Draft, device: Device, codes: readonly AccessCode[], now: number) {
  return previewOfflineCode(
    {
      starts_at: parseUtcInput(draft.starts),
      ends_at: parseUtcInput(draft.ends),
      is_one_time_use: draft.oneTime,
      max_time_rounding: draft.rounding,
    },
    { now, timeZone: device.location?.time_zone ?? null, codes },
  );
}

/**
 * Creates an offline (algoPIN) code. As the window is typed it shows what the server will make of it — the
 * kind, the rounded window, the rounding and whether "1d" is needed, the slot and its room, or the exact
 * error — then submits to /access_codes/create and shows the PIN or the server's refusal.
 */
export function CreateCodeForm({ device, codes, now, draft, onDraft, onCreated }: Props) {
  const [busy, setBusy] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const preview = previewOf(draft, device, codes, now);
  const frame = preview.frame;
  const refusal = outcome !== null && 'refused' in outcome ? outcome.refused : null;
  const edit = (patch: Partial<Draft>) => {
    setOutcome(null);
    onDraft({ ...draft, ...patch });
  };

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setOutcome(null);
    const startsAt = parseUtcInput(draft.starts);
    const endsAt = parseUtcInput(draft.ends);
    try {
      const answer = await call<{ access_code: AccessCode }>('/access_codes/create', {
        device_id: device.device_id,
        ...(draft.name.trim() === '' ? {} : { name: draft.name.trim() }),
        ...(startsAt === undefined ? {} : { starts_at: new Date(startsAt).toISOString() }),
        ...(endsAt === undefined ? {} : { ends_at: new Date(endsAt).toISOString() }),
        is_offline_access_code: true,
        ...(draft.oneTime ? { is_one_time_use: true } : {}),
        ...(draft.rounding === '1hour' ? {} : { max_time_rounding: draft.rounding }),
      });
      setOutcome({ created: answer.access_code });
      onCreated(answer.access_code);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error;
      setOutcome({ refused: error });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section class="panel" aria-labelledby="create-title">
      <h2 id="create-title">Create an offline code</h2>
      <form onSubmit={submit} class="create-form">
        <label>
          Name
          <input
            name="name"
            value={draft.name}
            maxLength={200}
            placeholder="Guest, cleaner, plumber…"
            onInput={(e) => edit({ name: e.currentTarget.value })}
          />
        </label>
        <div class="row2">
          <label>
            starts_at (UTC)
            <input
              name="starts_at"
              type="datetime-local"
              value={draft.starts}
              onInput={(e) => edit({ starts: e.currentTarget.value })}
            />
          </label>
          <label>
            ends_at (UTC)
            <input
              name="ends_at"
              type="datetime-local"
              value={draft.ends}
              onInput={(e) => edit({ ends: e.currentTarget.value })}
            />
          </label>
        </div>
        <div class="row2">
          <label class="check">
            <input
              name="is_one_time_use"
              type="checkbox"
              checked={draft.oneTime}
              onChange={(e) => edit({ oneTime: e.currentTarget.checked })}
            />
            One-time use
          </label>
          <label>
            max_time_rounding
            <select
              name="max_time_rounding"
              value={draft.rounding}
              onChange={(e) => edit({ rounding: e.currentTarget.value as MaxTimeRounding })}
            >
              <option value="1hour">1hour (default)</option>
              <option value="1day">1day</option>
            </select>
          </label>
        </div>
        <p class="muted hint">
          Leave both times empty for a permanent code. Times are UTC; the server floors starts_at and ceils
          ends_at to whole hours.
        </p>

        <div class="preview" aria-live="polite" data-testid="preview">
          <h3>What the server will do</h3>
          {frame === null ? null : (
            <dl>
              <dt>Kind</dt>
              <dd data-preview="kind">
                {KIND_LABELS[frame.kind]} <span class="muted">· {pinLengthOf(frame.kind)}-digit PIN</span>
              </dd>
              <dt>Lock window</dt>
              <dd data-preview="window">
                {formatWindow(frame.starts_at, frame.ends_at)}
                <br />
                <code class="iso">
                  {new Date(frame.starts_at).toISOString()} →{' '}
                  {frame.ends_at === null ? 'no end' : new Date(frame.ends_at).toISOString()}
                </code>
              </dd>
              <dt>Rounding</dt>
              <dd data-preview="rounding">
                {preview.rounding === '0 s' ? 'none' : preview.rounding}
                {preview.needs_1d ? (
                  <strong class="warn"> — needs max_time_rounding "1d"</strong>
                ) : (
                  <span class="muted"> — within the default (1 h)</span>
                )}
              </dd>
              {preview.slot === null ? null : (
                <>
                  <dt>Slot</dt>
                  <dd data-preview="slot">
                    {KIND_LABELS[preview.slot.kind]}{' '}
                    {preview.slot.kind === 'daily'
                      ? `on ${preview.slot.slot_key.slice('daily:'.length)} (${device.location?.time_zone ?? 'UTC'})`
                      : `at ${formatInstant(preview.slot.slot_starts_at)}`}
                    : {preview.slot_used} of {preview.slot.capacity} used,{' '}
                    {preview.slot_used >= preview.slot.capacity ? (
                      <strong class="bad">full</strong>
                    ) : (
                      <strong class="good">{preview.slot.capacity - preview.slot_used} free</strong>
                    )}
                  </dd>
                </>
              )}
              {frame.longer_than_24_hours ? (
                <>
                  <dt>Activation</dt>
                  <dd>
                    Longer than 24 h: it must be used once within 24 h of its start (
                    {formatInstant(frame.starts_at + 24 * 3_600_000)}), or the lock forgets it.
                  </dd>
                </>
              ) : null}
              {frame.kind === 'one_time' ? (
                <>
                  <dt>Use</dt>
                  <dd>Opens the door once, within {formatLength(24 * 3_600_000)} of its start hour.</dd>
                </>
              ) : null}
            </dl>
          )}
          {preview.error === null ? (
            <p class="good" data-preview="verdict">
              The server will accept this.
            </p>
          ) : refusal !== null &&
            refusal.type === preview.error.type &&
            refusal.message === preview.error.message ? (
            <p class="muted" data-preview="verdict">
              Predicted <code class="error-type">{preview.error.type}</code>: the server answered exactly that
              (below).
            </p>
          ) : (
            <ErrorBox error={preview.error} intro="The server would answer" />
          )}
        </div>

        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Creating…' : 'Create offline code'}
        </button>
      </form>

      <div aria-live="polite" data-testid="create-outcome">
        {outcome !== null && 'created' in outcome ? (
          <div class="notice success">
            <p>
              Created {outcome.created.name ? `“${outcome.created.name}”` : 'the code'}. PIN:{' '}
              <code class="pin big" data-created-pin>
                {outcome.created.code ?? 'pending (remote code server)'}
              </code>{' '}
              {outcome.created.code ? (
                <CopyButton text={outcome.created.code} label="Copy the new PIN" />
              ) : null}
            </p>
            <p class="muted">{formatWindow(outcome.created.starts_at, outcome.created.ends_at)}</p>
          </div>
        ) : null}
        {refusal === null ? null : <ErrorBox error={refusal} intro="The server answered" />}
      </div>
    </section>
  );
}
