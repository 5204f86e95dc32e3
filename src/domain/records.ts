// The records the domain works with: what storage holds, already decoded (JSON parsed, 0/1 made boolean).
// Instants are milliseconds since the Unix epoch, UTC.

export type CustomMetadata = Record<string, string | boolean>;

export interface WorkspaceRecord {
  workspace_id: string;
  name: string;
  company_name: string;
  is_sandbox: boolean;
  clock_offset_ms: number;
  created_at: number;
}

export interface ConnectedAccountRecord {
  connected_account_id: string;
  workspace_id: string;
  account_type: string;
  display_name: string;
  custom_metadata: CustomMetadata;
  created_at: number;
}

export interface DeviceRecord {
  device_id: string;
  workspace_id: string;
  connected_account_id: string;
  device_type: 'igloohome_lock';
  name: string;
  model_name: string;
  has_bridge: boolean;
  bridge_online: boolean;
  time_zone: string | null;
  provider_device_id: string;
  /** The lock key epoch in force; rotation bumps it. */
  key_epoch: number;
  custom_metadata: CustomMetadata;
  created_at: number;
}

export type ActionAttemptStatus = 'pending' | 'success' | 'error';

export interface ActionAttemptRecord {
  action_attempt_id: string;
  workspace_id: string;
  device_id: string | null;
  action_type: string;
  status: ActionAttemptStatus;
  result: Record<string, unknown> | null;
  error: { type: string; message: string } | null;
  created_at: number;
  updated_at: number;
}
