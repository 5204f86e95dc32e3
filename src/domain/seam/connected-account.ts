import type { ConnectedAccountRecord } from '../records.ts';
import { isoUtc } from '../time.ts';

/** The Seam `connected_account` object. */
export function toSeamConnectedAccount(a: ConnectedAccountRecord) {
  return {
    connected_account_id: a.connected_account_id,
    account_type: a.account_type,
    account_type_display_name: a.account_type === 'igloohome' ? 'igloohome' : a.account_type,
    display_name: a.display_name,
    created_at: isoUtc(a.created_at),
    errors: [],
    warnings: [],
    custom_metadata: a.custom_metadata,
    automatically_manage_new_devices: true,
    accepted_capabilities: ['lock'],
    user_identifier: { username: a.display_name },
  };
}
