// Row types of every table, as Kysely sees them. Instants are integer milliseconds since the Unix epoch
// (bigint in Postgres, integer in SQLite), booleans are 0/1 integers and structured values are JSON text:
// the same representation on both dialects, so one migration set and one query set serve both.
import type { Generated } from 'kysely';
import type { AccessCodeKind, AccessCodeStatus } from '../domain/records.ts';

export interface WorkspaceTable {
  workspace_id: string;
  name: string;
  company_name: string;
  is_sandbox: number;
  /** Sandbox time travel: milliseconds added to the real clock for this workspace. */
  clock_offset_ms: number;
  created_at: number;
}

export interface ApiKeyTable {
  api_key_id: string;
  workspace_id: string;
  name: string;
  /** SHA-256 of the whole key, hex. The key itself is never stored. */
  key_hash: string;
  /** First characters of the key, shown in listings so a user can tell keys apart. */
  key_prefix: string;
  created_at: number;
  revoked_at: number | null;
}

export interface ConnectedAccountTable {
  connected_account_id: string;
  workspace_id: string;
  account_type: string;
  display_name: string;
  custom_metadata: string;
  created_at: number;
  /** Remote code server (base URL and client credentials), sealed; null: the built-in one. */
  sealed_provider_config: Generated<string | null>;
}

export interface DeviceTable {
  device_id: string;
  workspace_id: string;
  connected_account_id: string;
  device_type: string;
  name: string;
  model_name: string;
  has_bridge: number;
  /** Bridge connectivity (meaningful only with a bridge). */
  bridge_online: number;
  time_zone: string | null;
  /** igloohome's own device id (what the iglooaccess API calls deviceId). */
  provider_device_id: string;
  /** The lock key epoch in force (rotation bumps it). */
  key_epoch: Generated<number>;
  custom_metadata: string;
  created_at: number;
}

export interface ActionAttemptTable {
  action_attempt_id: string;
  workspace_id: string;
  device_id: string | null;
  action_type: string;
  status: 'pending' | 'success' | 'error';
  result: string | null;
  error: string | null;
  created_at: number;
  updated_at: number;
}

export type JobStatus = 'pending' | 'running' | 'done' | 'failed';

export interface JobTable {
  job_id: string;
  workspace_id: string | null;
  kind: string;
  payload: string;
  /** Due time on the workspace's clock (real time + clock_offset_ms). */
  run_at: number;
  status: JobStatus;
  attempts: Generated<number>;
  /** A running job whose lease passed (its process died) is claimed again. */
  locked_until: number | null;
  last_error: string | null;
  created_at: number;
  /** The device a job acts on through its bridge, if any. */
  device_id: Generated<string | null>;
  /** `run_at` on the real clock (run_at − the workspace's offset, moved with it): what runners claim by. */
  due: number;
  /** The claim that holds a running job; only its holder may renew, complete or fail it. */
  lease_token: Generated<string | null>;
}

export interface LockKeyTable {
  device_id: string;
  epoch: number;
  /** AES-256-GCM under the master key, bound to (device_id, epoch): see codeserver/sealed-box.ts. */
  sealed_key: string;
  created_at: number;
}

export interface VirtualLockTable {
  device_id: string;
  sealed_state: string;
  updated_at: number;
}

export interface AccessCodeTable {
  access_code_id: string;
  workspace_id: string;
  device_id: string;
  name: string | null;
  code: string | null;
  common_code_key: string | null;
  type: 'time_bound' | 'ongoing';
  kind: AccessCodeKind;
  is_offline: number;
  is_one_time_use: number;
  starts_at: number | null;
  ends_at: number | null;
  status: AccessCodeStatus;
  /** Offline codes: `<kind>:<slot>`; with `variance`, unique per device. */
  slot_key: string | null;
  variance: number | null;
  warnings: string;
  errors: string;
  created_at: number;
  removed_at: number | null;
  /** Online codes: the PIN the lock holds now (null: none), as last confirmed through the bridge. */
  programmed_code: Generated<string | null>;
  /** Online codes: deletion asked through the API, waiting for the bridge to remove the PIN. */
  delete_requested: Generated<number>;
}

export interface EventTable {
  event_id: string;
  workspace_id: string;
  event_type: string;
  device_id: string | null;
  access_code_id: string | null;
  occurred_at: number;
  created_at: number;
  /** The Seam event object. */
  body: string;
}

export interface WebhookTable {
  webhook_id: string;
  workspace_id: string;
  url: string;
  /** JSON array; `["*"]` is every event. */
  event_types: string;
  /** The `whsec_…` signing secret, sealed under the master key. */
  sealed_secret: string;
  created_at: number;
  deleted_at: number | null;
}

export type DeliveryStatus = 'pending' | 'succeeded' | 'failed';

export interface WebhookDeliveryTable {
  /** Also the `svix-id` of every attempt, so a receiver can drop duplicates. */
  delivery_id: string;
  webhook_id: string;
  workspace_id: string;
  event_id: string;
  status: DeliveryStatus;
  attempts: Generated<number>;
  /** Workspace clock; null once finished. */
  next_attempt_at: number | null;
  last_status_code: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface WebhookAttemptTable {
  attempt_id: string;
  delivery_id: string;
  attempt_number: number;
  attempted_at: number;
  status_code: number | null;
  error: string | null;
  duration_ms: number;
}

export interface IgloohomeClientTable {
  client_id: string;
  workspace_id: string;
  name: string;
  /** SHA-256 of the client secret, hex. The secret itself is never stored. */
  secret_hash: string;
  /** JSON array of OAuth2 scopes (`igloohomeapi/…`). */
  scopes: string;
  created_at: number;
  revoked_at: number | null;
}

export interface IgloohomePinTable {
  pin_id: string;
  workspace_id: string;
  device_id: string;
  client_id: string;
  kind: 'hourly' | 'daily' | 'one_time' | 'permanent';
  /** UTC epoch hours. */
  start_hour: number;
  duration_hours: number | null;
  duration_days: number | null;
  variance: number;
  access_name: string;
  created_at: number;
}

export interface MetaTable {
  key: string;
  value: string;
}

export interface Database {
  meta: MetaTable;
  workspaces: WorkspaceTable;
  api_keys: ApiKeyTable;
  connected_accounts: ConnectedAccountTable;
  devices: DeviceTable;
  action_attempts: ActionAttemptTable;
  jobs: JobTable;
  lock_keys: LockKeyTable;
  virtual_locks: VirtualLockTable;
  access_codes: AccessCodeTable;
  events: EventTable;
  webhooks: WebhookTable;
  webhook_deliveries: WebhookDeliveryTable;
  webhook_attempts: WebhookAttemptTable;
  igloohome_clients: IgloohomeClientTable;
  igloohome_pins: IgloohomePinTable;
}
