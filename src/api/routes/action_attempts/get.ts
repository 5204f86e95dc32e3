import { z } from 'zod';
import { toSeamActionAttempt } from '../../../domain/seam/action-attempt.ts';
import { getActionAttempt } from '../../../store/repos/action-attempts.ts';
import { notFound } from '../../errors.ts';
import { defineRoute, READ_METHODS } from '../../route.ts';
import { id } from '../../schemas.ts';

export default defineRoute({
  path: '/action_attempts/get',
  methods: READ_METHODS,
  summary: 'Get an action attempt (the SDK polls this while waiting)',
  input: z.strictObject({ action_attempt_id: id() }),
  responseKeys: ['action_attempt'],
  handler: async (ctx, input) => {
    const attempt = await getActionAttempt(ctx.store.db, ctx.workspace.workspace_id, input.action_attempt_id);
    if (!attempt) {
      throw notFound('action_attempt', 'Action attempt not found.', {
        action_attempt_id: input.action_attempt_id,
      });
    }
    return { action_attempt: toSeamActionAttempt(attempt) };
  },
});
