import { randomUUID } from 'node:crypto';
import type { ConnectedAccountRecord, DeviceRecord, WorkspaceRecord } from '../domain/records.ts';
import type { Db } from '../store/index.ts';
import { insertConnectedAccount } from '../store/repos/connected-accounts.ts';
import { insertWorkspace } from '../store/repos/workspaces.ts';
import { issueApiKey } from './api-keys.ts';
import { createVirtualLock } from './devices.ts';
import type { Services } from './services.ts';

type WorkspaceServices = Pick<Services, 'store' | 'providers' | 'masterKey'>;

export interface CreatedWorkspace {
  workspace: WorkspaceRecord;
  api_key: string;
  connected_account: ConnectedAccountRecord | null;
  devices: DeviceRecord[];
}

export interface NewWorkspace {
  name: string;
  is_sandbox: boolean;
  now: number;
  /** Use exactly this API key (for tests and demos) instead of a fresh random one. */
  api_key?: string | undefined;
}

/**
 * Creates a workspace and its first API key in one transaction. A sandbox workspace also gets an igloohome
 * connected account with the two virtual locks of the contract: "Front Door" (keypad only) and
 * "Back Door" (with a bridge).
 */
export async function createWorkspace(
  services: WorkspaceServices,
  input: NewWorkspace,
): Promise<CreatedWorkspace> {
  return services.store.db.transaction().execute((tx) => createWorkspaceIn(services, tx, input));
}

/** `createWorkspace` inside a transaction the caller already holds. */
export async function createWorkspaceIn(
  services: WorkspaceServices,
  tx: Db,
  input: NewWorkspace,
): Promise<CreatedWorkspace> {
  {
    const workspace: WorkspaceRecord = {
      workspace_id: randomUUID(),
      name: input.name,
      company_name: input.name,
      is_sandbox: input.is_sandbox,
      clock_offset_ms: 0,
      created_at: input.now,
    };
    await insertWorkspace(tx, workspace);
    const { key } = await issueApiKey(tx, workspace.workspace_id, {
      name: 'default',
      now: input.now,
      key: input.api_key,
    });
    if (!input.is_sandbox) return { workspace, api_key: key, connected_account: null, devices: [] };

    const account: ConnectedAccountRecord = {
      connected_account_id: randomUUID(),
      workspace_id: workspace.workspace_id,
      account_type: 'igloohome',
      display_name: 'igloohome sandbox account',
      custom_metadata: {},
      created_at: input.now,
    };
    await insertConnectedAccount(tx, account);
    const devices: DeviceRecord[] = [];
    // Distinct created_at values keep the seeded order stable in lists.
    for (const [i, lock] of [
      { name: 'Front Door', has_bridge: false },
      { name: 'Back Door', has_bridge: true },
    ].entries()) {
      devices.push(
        await createVirtualLock(services, tx, {
          ...lock,
          workspace_id: workspace.workspace_id,
          connected_account_id: account.connected_account_id,
          now: input.now + i,
        }),
      );
    }
    return { workspace, api_key: key, connected_account: account, devices };
  }
}
