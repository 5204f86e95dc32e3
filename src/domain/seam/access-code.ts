import type { AccessCodeRecord } from '../records.ts';
import { isoUtc } from '../time.ts';

/** The Seam `access_code` object. */
export function toSeamAccessCode(c: AccessCodeRecord) {
  return {
    access_code_id: c.access_code_id,
    device_id: c.device_id,
    workspace_id: c.workspace_id,
    name: c.name,
    code: c.code,
    common_code_key: c.common_code_key,
    type: c.type,
    status: c.status,
    starts_at: c.starts_at === null ? null : isoUtc(c.starts_at),
    ends_at: c.ends_at === null ? null : isoUtc(c.ends_at),
    created_at: isoUtc(c.created_at),
    errors: c.errors.map((e) => ({ ...e, is_access_code_error: true, created_at: isoUtc(e.created_at) })),
    warnings: c.warnings.map((w) => ({ ...w, created_at: isoUtc(w.created_at) })),
    is_managed: true,
    is_backup_access_code_available: false,
    is_external_modification_allowed: false,
    is_one_time_use: c.is_one_time_use,
    is_offline_access_code: c.is_offline,
    is_scheduled_on_device: c.status === 'set',
    is_waiting_for_code_assignment: c.code === null,
    pending_mutations: [],
  };
}
