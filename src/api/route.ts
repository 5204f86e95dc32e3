import type { Logger } from 'pino';
import type { z } from 'zod';
import type { Services } from '../app/services.ts';
import type { WorkspaceRecord } from '../domain/records.ts';
import type { Store } from '../store/index.ts';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** Reads go by GET or POST (old SDKs POST everything), as the Seam API accepts both. */
export const READ_METHODS: readonly HttpMethod[] = ['GET', 'POST'];
export const WRITE_METHODS: readonly HttpMethod[] = ['POST'];

/** What a route handler gets besides its validated input. */
export interface RouteContext {
  services: Services;
  store: Store;
  workspace: WorkspaceRecord;
  /** The workspace's clock (real time plus its sandbox offset), read once per request. */
  now: number;
  requestId: string;
  /** Absolute URL of this route without its query string (for `pagination.next_page_url`). */
  routeUrl: string;
  log: Logger;
}

export interface RouteDefinition<S extends z.ZodType = z.ZodType> {
  /** The URL path, e.g. `/devices/get`; the file lives at `routes/devices/get.ts`. */
  path: string;
  methods: readonly HttpMethod[];
  summary: string;
  /** The zod schema: the single source of validation, of the handler's input type and of the OpenAPI doc. */
  input: S;
  /** The keys of a success body besides `ok`, for the OpenAPI document. */
  responseKeys: readonly string[];
  /** Refused with 400 `workspace_not_sandbox` outside sandbox workspaces. */
  sandboxOnly?: boolean;
  handler(ctx: RouteContext, input: z.output<S>): Promise<Record<string, unknown>>;
}

/** Identity function that lets TypeScript infer the handler's input type from the schema. */
export function defineRoute<S extends z.ZodType>(def: RouteDefinition<S>): RouteDefinition<S> {
  return def;
}
