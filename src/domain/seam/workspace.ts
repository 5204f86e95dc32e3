import type { WorkspaceRecord } from '../records.ts';

/** The Seam `workspace` object. */
export function toSeamWorkspace(w: WorkspaceRecord) {
  return {
    workspace_id: w.workspace_id,
    name: w.name,
    company_name: w.company_name,
    is_sandbox: w.is_sandbox,
    is_suspended: false,
    connect_partner_name: w.company_name,
    is_publishable_key_auth_enabled: false,
    organization_id: null,
    connect_webview_customization: {},
  };
}
