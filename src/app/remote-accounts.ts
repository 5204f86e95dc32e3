import { randomUUID } from 'node:crypto';
import type { RemoteProviderConfig } from '../codeserver/remote.ts';
import { RemoteCodeProvider } from '../codeserver/remote.ts';
import type { ConnectedAccountRecord, DeviceRecord } from '../domain/records.ts';
import { insertConnectedAccount } from '../store/repos/connected-accounts.ts';
import { insertDevice } from '../store/repos/devices.ts';
import { getWorkspace } from '../store/repos/workspaces.ts';
import { createVirtualLock, lockRecord } from './devices.ts';
import type { Services } from './services.ts';

/**
 * Connects a workspace to a remote igloohome-style code server: a connected account that uses it as its
 * provider, and one device per lock the server lists. In a sandbox workspace each device is a virtual lock
 * paired with the key the remote registry holds for it (as a real lock is paired with its maker's cloud), so
 * the keypad accepts the remote's PINs end to end.
 */
export async function connectRemoteAccount(
  services: Pick<Services, 'store' | 'providers' | 'masterKey' | 'realNow'>,
  workspaceId: string,
  config: RemoteProviderConfig,
  now: number,
): Promise<{ connected_account: ConnectedAccountRecord; devices: DeviceRecord[] }> {
  const workspace = await getWorkspace(services.store.db, workspaceId);
  if (!workspace) throw new Error(`no workspace ${workspaceId}`);
  // Ask the remote first (and fail before writing anything if the credentials do not work).
  const remoteDevices = await new RemoteCodeProvider(config, services.realNow).listDevices();
  return services.store.db.transaction().execute(async (tx) => {
    const account: ConnectedAccountRecord = {
      connected_account_id: randomUUID(),
      workspace_id: workspaceId,
      account_type: 'igloohome',
      display_name: `igloohome via ${new URL(config.base_url).host}`,
      custom_metadata: {},
      created_at: now,
    };
    await insertConnectedAccount(tx, account);
    await services.providers.configure(tx, account.connected_account_id, config);
    const devices: DeviceRecord[] = [];
    for (const [i, remote] of remoteDevices.entries()) {
      const lock = {
        workspace_id: workspaceId,
        connected_account_id: account.connected_account_id,
        name: remote.deviceName,
        has_bridge: false,
        provider_device_id: remote.deviceId,
        now: now + i,
      };
      if (workspace.is_sandbox) {
        devices.push(await createVirtualLock(services, tx, lock));
      } else {
        const device = lockRecord(lock);
        await insertDevice(tx, device);
        devices.push(device);
      }
    }
    return { connected_account: account, devices };
  });
}
