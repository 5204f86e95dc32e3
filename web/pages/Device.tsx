import { useCallback, useEffect, useMemo, useState } from 'preact/hooks';
import { ApiError, call, listAccessCodes } from '../api.ts';
import { ClockControls } from '../components/ClockControls.tsx';
import { CodesTable } from '../components/CodesTable.tsx';
import { CreateCodeForm, type Draft, EMPTY_DRAFT, previewOf } from '../components/CreateCodeForm.tsx';
import { EventsFeed } from '../components/EventsFeed.tsx';
import { Keypad } from '../components/Keypad.tsx';
import { SlotCalendar } from '../components/SlotCalendar.tsx';
import { HOUR, toUtcInput } from '../lib/format.ts';
import { useWorkspaceNow } from '../lib/hooks.ts';
import { MAX_ACTIVE_CODES } from '../lib/rules.ts';
import type { AccessCode, Device, Workspace } from '../types.ts';
import { connectionOf } from './Devices.tsx';

const COLORS = 8;

/** One lock: its codes, the slot calendar, the create form, and (sandbox) the keypad, clock and events. */
export function DevicePage({ deviceId, workspace }: { deviceId: string; workspace: Workspace }) {
  const [device, setDevice] = useState<Device | null>(null);
  const [codes, setCodes] = useState<AccessCode[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);
  const [draft, setDraft] = useState<Draft>(EMPTY_DRAFT);
  const [refreshKey, setRefreshKey] = useState(0);
  const now = useWorkspaceNow();

  const reload = useCallback(async () => {
    try {
      const [answer, list] = await Promise.all([
        call<{ device: Device }>('/devices/get', { device_id: deviceId }),
        listAccessCodes(deviceId),
      ]);
      setDevice(answer.device);
      setCodes(list);
      setError(null);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setError(e);
    }
  }, [deviceId]);
  useEffect(() => {
    void reload();
  }, [reload]);

  // Stable colours: by creation order, so a code keeps its colour in the table, the calendar and the legend.
  const colorOf = useMemo(() => {
    const order = new Map(
      [...(codes ?? [])]
        .sort(
          (a, b) =>
            a.created_at.localeCompare(b.created_at) || a.access_code_id.localeCompare(b.access_code_id),
        )
        .map((c, i) => [c.access_code_id, i % COLORS] as const),
    );
    return (id: string) => order.get(id) ?? 0;
  }, [codes]);

  if (error !== null && device === null) {
    return (
      <main class="page">
        <p class="notice error" role="alert">
          <code>{error.type}</code> {error.message}
        </p>
        <a href="#/devices">← Devices</a>
      </main>
    );
  }
  if (device === null || codes === null) {
    return (
      <main class="page">
        <p class="muted">Loading…</p>
      </main>
    );
  }

  const connection = connectionOf(device);
  const timeZone = device.location?.time_zone ?? null;
  const preview = previewOf(draft, device, codes, now);
  const afterAction = () => {
    setRefreshKey((k) => k + 1);
    void reload();
  };

  return (
    <main class="page device-page">
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href="#/devices">Devices</a> <span aria-hidden="true">/</span> {device.display_name}
      </nav>
      <header class="device-head">
        <h1>{device.display_name}</h1>
        <ul class="chips" aria-label="Device status">
          <li class={`chip ${connection.tone}`}>{connection.label}</li>
          <li class="chip" data-testid="codes-used">
            {codes.length} of {MAX_ACTIVE_CODES} codes used
          </li>
          <li class="chip">time zone {timeZone ?? 'UTC'}</li>
          {device.errors.map((e) => (
            <li key={e.error_code} class="chip bad" title={e.message}>
              {e.error_code}
            </li>
          ))}
        </ul>
      </header>
      {error === null ? null : (
        <p class="notice error" role="alert">
          <code>{error.type}</code> {error.message}
        </p>
      )}
      <div class="layout">
        <div class="main-col">
          <section class="panel" aria-labelledby="codes-title">
            <div class="section-head">
              <h2 id="codes-title">Access codes</h2>
              <button type="button" class="small" onClick={() => void reload()}>
                Refresh
              </button>
            </div>
            <CodesTable codes={codes} colorOf={colorOf} />
          </section>
          <div class="panel">
            <SlotCalendar
              codes={codes}
              timeZone={timeZone}
              now={now}
              highlight={preview.slot}
              colorOf={colorOf}
              onPickHour={(hour) =>
                setDraft({
                  ...draft,
                  starts: toUtcInput(hour),
                  ends:
                    draft.ends === '' || draft.ends <= toUtcInput(hour)
                      ? toUtcInput(hour + HOUR)
                      : draft.ends,
                })
              }
            />
          </div>
          <EventsFeed
            deviceId={device.device_id}
            codes={codes}
            refreshKey={refreshKey}
            onNewEvents={() => void reload()}
          />
        </div>
        <aside class="side-col">
          <CreateCodeForm
            device={device}
            codes={codes}
            now={now}
            draft={draft}
            onDraft={setDraft}
            onCreated={afterAction}
          />
          {workspace.is_sandbox ? (
            <>
              <Keypad deviceId={device.device_id} onEntered={afterAction} />
              <ClockControls now={now} onAdvanced={afterAction} />
            </>
          ) : null}
        </aside>
      </div>
    </main>
  );
}
