// The parts of the Seam objects the dashboard reads (the API returns more).

export interface Workspace {
  workspace_id: string;
  name: string;
  is_sandbox: boolean;
}

export interface Notice {
  warning_code?: string;
  error_code?: string;
  message: string;
}

export interface Device {
  device_id: string;
  display_name: string;
  device_type: string;
  can_program_online_access_codes: boolean;
  can_program_offline_access_codes: boolean;
  properties: {
    online: boolean;
    name: string;
    model?: { display_name?: string };
  };
  location?: { time_zone?: string };
  errors: Notice[];
  warnings: Notice[];
}

export interface AccessCode {
  access_code_id: string;
  device_id: string;
  name: string | null;
  code: string | null;
  type: 'time_bound' | 'ongoing';
  status: string;
  starts_at: string | null;
  ends_at: string | null;
  created_at: string;
  is_one_time_use: boolean;
  is_offline_access_code: boolean;
  warnings: Notice[];
  errors: Notice[];
}

export interface SeamEvent {
  event_id: string;
  event_type: string;
  event_description?: string;
  occurred_at: string;
  created_at: string;
  device_id?: string;
  access_code_id?: string;
  code?: string;
  method?: string;
  reason?: { reason_code?: string };
}

export interface ActionAttempt {
  action_attempt_id: string;
  action_type: string;
  status: 'pending' | 'success' | 'error';
  result: unknown;
  error: { type: string; message: string } | null;
}

export interface Pagination {
  has_next_page: boolean;
  next_page_cursor: string | null;
}
