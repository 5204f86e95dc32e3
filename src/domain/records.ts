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

export type AccessCodeKind = 'hourly' | 'daily' | 'one_time' | 'permanent' | 'online';
export type AccessCodeStatus = 'unset' | 'setting' | 'set' | 'removing';

export interface AccessCodeWarning {
  warning_code: string;
  message: string;
  created_at: number;
}

export interface AccessCodeError {
  error_code: string;
  message: string;
  created_at: number;
}

export interface AccessCodeRecord {
  access_code_id: string;
  workspace_id: string;
  device_id: string;
  name: string | null;
  code: string | null;
  common_code_key: string | null;
  type: 'time_bound' | 'ongoing';
  kind: AccessCodeKind;
  is_offline: boolean;
  is_one_time_use: boolean;
  /** What the lock enforces (rounded for offline codes); null for an online ongoing code. */
  starts_at: number | null;
  ends_at: number | null;
  status: AccessCodeStatus;
  slot_key: string | null;
  variance: number | null;
  warnings: AccessCodeWarning[];
  errors: AccessCodeError[];
  created_at: number;
  /** Set when the code left the lock (ended, or deleted): the API answers 404 from then on. */
  removed_at: number | null;
  /** Online codes: the PIN the lock holds now, as last confirmed through the bridge (null: none). */
  programmed_code: string | null;
  /** Online codes: deletion asked through the API, waiting for the bridge to remove the PIN. */
  delete_requested: boolean;
}
