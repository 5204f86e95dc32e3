import { z } from 'zod';
import { toSeamWorkspace } from '../../../../domain/seam/workspace.ts';
import { isoUtc, workspaceNow } from '../../../../domain/time.ts';
import { shiftWorkspaceJobs } from '../../../../store/repos/jobs.ts';
import { advanceWorkspaceClock } from '../../../../store/repos/workspaces.ts';
import { defineRoute, WRITE_METHODS } from '../../../route.ts';
import { duration } from '../../../schemas.ts';

const FIVE_YEARS_MS = 5 * 366 * 24 * 3_600_000;

export default defineRoute({
  path: '/workspaces/simulate/advance_clock',
  methods: WRITE_METHODS,
  summary: 'Move the sandbox workspace’s clock forward; due transitions and events happen at once',
  sandboxOnly: true,
  input: z.strictObject({
    by: duration().refine((ms) => ms > 0 && ms <= FIVE_YEARS_MS, 'must be forward, and at most five years'),
  }),
  responseKeys: ['workspace', 'now'],
  handler: async (ctx, input) => {
    // The workspace's open jobs come due sooner on the real clock (their `due`): moved with the offset, atomically.
    const workspace = await ctx.store.db.transaction().execute(async (tx) => {
      await shiftWorkspaceJobs(tx, ctx.store.dialect, ctx.workspace.workspace_id, input.by);
      return advanceWorkspaceClock(tx, ctx.workspace.workspace_id, input.by);
    });
    // Every lifecycle step that fell inside the skipped interval runs now, in due order.
    await ctx.services.runDueJobs();
    return {
      workspace: toSeamWorkspace(workspace),
      now: isoUtc(workspaceNow(ctx.services.realNow(), workspace)),
    };
  },
});
