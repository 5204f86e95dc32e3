import { useEffect, useState } from 'preact/hooks';
import { ApiError, listAccessCodes, listDevices } from '../api.ts';
import { IssueList } from '../components/IssueList.tsx';
import { MAX_ACTIVE_CODES } from '../lib/rules.ts';
import type { Device } from '../types.ts';

interface Row {
  device: Device;
  codes: number | null;
}

/** Bridge state as a person reads it: keypad-only locks have none. */
export function connectionOf(device: Device): { label: string; tone: 'good' | 'bad' | 'muted' } {
  if (!device.can_program_online_access_codes) return { label: 'keypad only (no bridge)', tone: 'muted' };
  return device.properties.online
    ? { label: 'bridge online', tone: 'good' }
    : { label: 'bridge offline', tone: 'bad' };
}

/** Every lock of the workspace with its bridge state and how many of its 199 codes are used. */
export function Devices() {
  const [rows, setRows] = useState<Row[] | null>(null);
  const [error, setError] = useState<ApiError | null>(null);

  const load = async () => {
    try {
      const devices = await listDevices();
      setRows(devices.map((device) => ({ device, codes: null })));
      const counts = await Promise.all(
        devices.map((d) => listAccessCodes(d.device_id).then((c) => c.length)),
      );
      setRows(devices.map((device, i) => ({ device, codes: counts[i] ?? null })));
      setError(null);
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      setError(e);
    }
  };
  useEffect(() => {
    void load();
  }, []);

  return (
    <main class="page">
      <div class="section-head">
        <h1>Devices</h1>
        <button type="button" class="small" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      {error === null ? null : (
        <p class="notice error" role="alert">
          <code>{error.type}</code> {error.message}
        </p>
      )}
      {rows === null ? (
        <p class="muted">Loading…</p>
      ) : rows.length === 0 ? (
        <p class="muted">This workspace has no devices.</p>
      ) : (
        <div class="table-wrap">
          <table class="devices" aria-label="Devices">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Model</th>
                <th scope="col">Connection</th>
                <th scope="col">Codes used</th>
                <th scope="col">Time zone</th>
                <th scope="col">Notices</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ device, codes }) => {
                const connection = connectionOf(device);
                return (
                  <tr key={device.device_id} data-device-id={device.device_id}>
                    <td>
                      <a class="device-link" href={`#/devices/${device.device_id}`}>
                        {device.display_name}
                      </a>
                    </td>
                    <td>{device.properties.model?.display_name ?? device.device_type}</td>
                    <td>
                      <span class={`dot ${connection.tone}`} aria-hidden="true" /> {connection.label}
                    </td>
                    <td class="codes-used">
                      {codes === null ? (
                        <span class="muted">…</span>
                      ) : (
                        <>
                          <meter
                            min={0}
                            max={MAX_ACTIVE_CODES}
                            high={MAX_ACTIVE_CODES * 0.9}
                            value={codes}
                            aria-hidden="true"
                          />{' '}
                          {codes} of {MAX_ACTIVE_CODES}
                        </>
                      )}
                    </td>
                    <td>{device.location?.time_zone ?? 'UTC'}</td>
                    <td>
                      <IssueList errors={device.errors} warnings={device.warnings} />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </main>
  );
}
