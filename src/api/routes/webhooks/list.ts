import { z } from 'zod';
import { webhookRecordOf } from '../../../app/webhooks.ts';
import { toSeamWebhook } from '../../../domain/webhooks.ts';
import { liveWebhookRows } from '../../../store/repos/webhooks.ts';
import { defineRoute, READ_METHODS } from '../../route.ts';

export default defineRoute({
  path: '/webhooks/list',
  methods: READ_METHODS,
  summary: 'List the workspace’s webhooks',
  input: z.strictObject({}),
  responseKeys: ['webhooks'],
  handler: async (ctx) => {
    const rows = await liveWebhookRows(ctx.store.db, ctx.workspace.workspace_id);
    return { webhooks: rows.map((r) => toSeamWebhook(webhookRecordOf(r, ctx.services.masterKey))) };
  },
});
