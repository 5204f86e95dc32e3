import type { AccessCodeRecord } from '../domain/records.ts';
import type { Db } from '../store/index.ts';
import { getAccessCode } from '../store/repos/access-codes.ts';
import { notFound } from './errors.ts';
import type { RouteContext } from './route.ts';

/** A live code of the workspace, or 404 `access_code_not_found` (unknown, another workspace's, or removed). */
export async function findAccessCode(
  ctx: RouteContext,
  accessCodeId: string,
  db: Db = ctx.store.db,
): Promise<AccessCodeRecord> {
  const code = await getAccessCode(db, ctx.workspace.workspace_id, accessCodeId);
  if (!code) throw notFound('access_code', 'Access code not found.', { access_code_id: accessCodeId });
  return code;
}
