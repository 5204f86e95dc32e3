import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

// Access tokens are stateless: a JWT (RFC 7519) signed with HS256 under a key derived from the master key,
// so every server process sharing the master key accepts every other's tokens without a table. igloohome's
// own tokens are JWTs too (integrators read `exp` from them to cache), so a client that peeks at `exp` works.
//
//   header  {"alg":"HS256","typ":"JWT","kid":"latchkey-igloohome-v1"}
//   payload {"iss":"latchkey","sub":client_id,"client_id","workspace_id","scope":"a b","token_use":"access",
//            "iat","exp","jti"}          (iat/exp in Unix seconds)

const KID = 'latchkey-igloohome-v1';
const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: KID })).toString('base64url');

export const DEFAULT_TOKEN_TTL_SECONDS = 86_400;

export interface TokenClaims {
  client_id: string;
  workspace_id: string;
  scopes: string[];
  /** Unix seconds. */
  iat: number;
  /** Unix seconds; the token is refused from this second on. */
  exp: number;
}

/** The signing key: HMAC-SHA256(masterKey, "igloohome-token-v1"). */
export function tokenSigningKey(masterKey: Uint8Array): Buffer {
  return createHmac('sha256', masterKey).update('igloohome-token-v1').digest();
}

const sign = (key: Uint8Array, signingInput: string) =>
  createHmac('sha256', key).update(signingInput).digest();

export function issueAccessToken(
  key: Uint8Array,
  claims: { client_id: string; workspace_id: string; scopes: readonly string[] },
  nowMs: number,
  ttlSeconds: number,
): { token: string; exp: number } {
  const iat = Math.floor(nowMs / 1000);
  const exp = iat + ttlSeconds;
  const payload = {
    iss: 'latchkey',
    sub: claims.client_id,
    client_id: claims.client_id,
    workspace_id: claims.workspace_id,
    scope: claims.scopes.join(' '),
    token_use: 'access',
    iat,
    exp,
    jti: randomUUID(),
  };
  const signingInput = `${HEADER}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return { token: `${signingInput}.${sign(key, signingInput).toString('base64url')}`, exp };
}

export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: 'invalid' | 'expired' };

/** Checks signature, header and expiry. Never throws. */
export function verifyAccessToken(key: Uint8Array, token: string, nowMs: number): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'invalid' };
  const [header, body, signature] = parts as [string, string, string];
  // Only our exact header: no "alg":"none", no key confusion.
  if (header !== HEADER) return { ok: false, reason: 'invalid' };
  const expected = sign(key, `${header}.${body}`);
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { ok: false, reason: 'invalid' };
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8'));
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  const { client_id, workspace_id, scope, iat, exp } = payload;
  if (
    typeof client_id !== 'string' ||
    typeof workspace_id !== 'string' ||
    typeof scope !== 'string' ||
    typeof iat !== 'number' ||
    typeof exp !== 'number'
  ) {
    return { ok: false, reason: 'invalid' };
  }
  if (Math.floor(nowMs / 1000) >= exp) return { ok: false, reason: 'expired' };
  return {
    ok: true,
    claims: { client_id, workspace_id, scopes: scope === '' ? [] : scope.split(' '), iat, exp },
  };
}
