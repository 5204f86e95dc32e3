import type { AccessCodeRecord } from '../domain/records.ts';
import { getAccessCode } from '../store/repos/access-codes.ts';
import { notFound } from './errors.ts';
import type { RouteContext } from './route.ts';

/** A live code of the workspace, or 404 `access_code_not_found` (unknown, another workspace's, or removed). */
export async function findAccessCode(ctx: RouteContext, accessCodeId: string): Promise<AccessCodeRecord> {
  const code = await getAccessCode(ctx.store.db, ctx.workspace.workspace_id, accessCodeId);
  if (!code) throw notFound('access_code', 'Access code not found.', { access_code_id: accessCodeId });
  return code;
}
