import { z } from 'zod';
import { toSeamActionAttempt } from '../../../domain/seam/action-attempt.ts';
import { listActionAttempts } from '../../../store/repos/action-attempts.ts';
import { paginationOf } from '../../pagination.ts';
import { defineRoute, READ_METHODS } from '../../route.ts';
import { id, limit, pageCursor } from '../../schemas.ts';

export default defineRoute({
  path: '/action_attempts/list',
  methods: READ_METHODS,
  summary: 'List action attempts',
  input: z.strictObject({
    action_attempt_ids: z.array(id()).optional(),
    device_id: id().optional(),
    limit: limit(500),
    page_cursor: pageCursor(),
  }),
  responseKeys: ['action_attempts', 'pagination'],
  handler: async (ctx, input) => {
    const page = await listActionAttempts(
      ctx.store.db,
      ctx.workspace.workspace_id,
      { action_attempt_ids: input.action_attempt_ids, device_id: input.device_id },
      { limit: input.limit, pageCursor: input.page_cursor },
    );
    return { action_attempts: page.items.map(toSeamActionAttempt), pagination: paginationOf(page, ctx) };
  },
});
