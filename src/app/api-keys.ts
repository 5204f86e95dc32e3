import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Db } from '../store/index.ts';
import { insertApiKey } from '../store/repos/api-keys.ts';

/**
 * Seam SDKs accept keys that start with `seam_` but not `seam_cst`, `seam_at` or `seam_pk`; the fixed
 * `seam_lk1_` prefix keeps ours clear of those and tells a leaked key's origin at a glance.
 */
export const API_KEY_PREFIX = 'seam_lk1_';
const API_KEY_PATTERN = /^seam_[A-Za-z0-9_]{16,200}$/;

/** Keys carry 192 random bits, so one SHA-256 is a sufficient (and lookup-friendly) hash. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(24).toString('base64url').replace(/[-_]/g, '0');
}

export function isWellFormedApiKey(key: string): boolean {
  return API_KEY_PATTERN.test(key) && !/^seam_(cst|at|pk)/.test(key);
}

/** Stores the hash of `key` (a fresh one unless given) for the workspace; returns the key in clear once. */
export async function issueApiKey(
  db: Db,
  workspaceId: string,
  options: { name: string; now: number; key?: string | undefined },
): Promise<{ api_key_id: string; key: string }> {
  const key = options.key ?? generateApiKey();
  if (!isWellFormedApiKey(key)) {
    throw new Error('an API key must look like seam_<16 or more letters, digits or underscores>');
  }
  const api_key_id = randomUUID();
  await insertApiKey(db, {
    api_key_id,
    workspace_id: workspaceId,
    name: options.name,
    key_hash: hashApiKey(key),
    key_prefix: key.slice(0, API_KEY_PREFIX.length + 4),
    created_at: options.now,
    revoked_at: null,
  });
  return { api_key_id, key };
}
