import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db, Store } from '../store/index.ts';
import {
  getIgloohomeClientWithSecret,
  type IgloohomeClientRecord,
  insertIgloohomeClient,
  listIgloohomeClients,
  revokeIgloohomeClient,
} from '../store/repos/igloohome-clients.ts';
import { getWorkspace } from '../store/repos/workspaces.ts';
import { KNOWN_SCOPES, SCOPES, SERVED_SCOPES } from './scopes.ts';

// OAuth2 clients of the igloohome-compatible API, one or more per workspace. The secret is shown once and
// stored as its SHA-256 (it carries 256 random bits, so a plain hash suffices, as for API keys).

export type { IgloohomeClientRecord } from '../store/repos/igloohome-clients.ts';

export interface CreatedIgloohomeClient {
  client_id: string;
  /** Shown once; only its hash is stored. */
  client_secret: string;
  workspace_id: string;
  name: string;
  scopes: string[];
  created_at: number;
}

export function hashClientSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** 26 lowercase letters and digits (130 random bits), like the client ids of igloohome's OAuth2 server. */
function generateClientId(): string {
  return [...randomBytes(26)].map((b) => BASE32[b & 31]).join('');
}

/**
 * Creates a client for a workspace. Without `scopes` it gets every scope this server serves, plus
 * `igloohomeapi/sandbox-pairing` when the workspace is a sandbox. Unknown scopes, and the sandbox-pairing
 * scope on a production workspace, are refused.
 */
export async function createIgloohomeClient(
  store: Pick<Store, 'db'>,
  workspaceId: string,
  options: { name?: string | undefined; scopes?: readonly string[] | undefined } = {},
  now: number = Date.now(),
): Promise<CreatedIgloohomeClient> {
  const workspace = await getWorkspace(store.db, workspaceId);
  if (!workspace) throw new Error(`no workspace ${workspaceId}`);
  const scopes = [
    ...new Set(
      options.scopes ?? [...SERVED_SCOPES, ...(workspace.is_sandbox ? [SCOPES.sandboxPairing] : [])],
    ),
  ];
  const unknown = scopes.filter((s) => !KNOWN_SCOPES.includes(s));
  if (unknown.length > 0) {
    throw new Error(`unknown scope ${unknown.join(', ')} (known: ${KNOWN_SCOPES.join(', ')})`);
  }
  if (!workspace.is_sandbox && scopes.includes(SCOPES.sandboxPairing)) {
    throw new Error(`${SCOPES.sandboxPairing} is only for sandbox workspaces`);
  }
  const client_secret = randomBytes(32).toString('base64url');
  const client = {
    client_id: generateClientId(),
    workspace_id: workspaceId,
    name: options.name ?? 'igloohome client',
    scopes,
    created_at: now,
  };
  await insertIgloohomeClient(store.db, {
    ...client,
    scopes: JSON.stringify(scopes),
    secret_hash: hashClientSecret(client_secret),
    revoked_at: null,
  });
  return { ...client, client_secret };
}

/** The live client with these credentials, or null (unknown id, wrong secret, or revoked). */
export async function authenticateIgloohomeClient(
  db: Db,
  clientId: string,
  clientSecret: string,
): Promise<IgloohomeClientRecord | null> {
  const client = await getIgloohomeClientWithSecret(db, clientId);
  const given = Buffer.from(hashClientSecret(clientSecret), 'hex');
  // Hash and compare even for an unknown id, so timing does not tell ids apart.
  const stored = Buffer.from(client?.secret_hash ?? '0'.repeat(64), 'hex');
  const match = stored.length === given.length && timingSafeEqual(stored, given);
  if (!client || !match || client.revoked_at !== null) return null;
  const { secret_hash: _, ...record } = client;
  return record;
}

export function listIgloohomeClientsOf(
  store: Pick<Store, 'db'>,
  workspaceId: string,
): Promise<IgloohomeClientRecord[]> {
  return listIgloohomeClients(store.db, workspaceId);
}

/** Revokes a client: it gets no new token, and its tokens stop working at once. False if none was live. */
export function revokeIgloohomeClientOf(
  store: Pick<Store, 'db'>,
  workspaceId: string,
  clientId: string,
  now: number = Date.now(),
): Promise<boolean> {
  return revokeIgloohomeClient(store.db, workspaceId, clientId, now);
}
