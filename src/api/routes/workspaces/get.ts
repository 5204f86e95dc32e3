import { z } from 'zod';
import { toSeamWorkspace } from '../../../domain/seam/workspace.ts';
import { defineRoute, READ_METHODS } from '../../route.ts';

export default defineRoute({
  path: '/workspaces/get',
  methods: READ_METHODS,
  summary: 'Get the workspace of the API key',
  input: z.strictObject({}),
  responseKeys: ['workspace'],
  handler: async (ctx) => ({ workspace: toSeamWorkspace(ctx.workspace) }),
});
