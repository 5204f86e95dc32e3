import { z } from 'zod';
import { updateWebhookRow } from '../../../store/repos/webhooks.ts';
import { defineRoute } from '../../route.ts';
import { id } from '../../schemas.ts';
import { findWebhook } from '../../webhook-lookup.ts';

export default defineRoute({
  path: '/webhooks/delete',
  methods: ['POST', 'DELETE'],
  summary: 'Delete a webhook; its pending deliveries are dropped',
  input: z.strictObject({ webhook_id: id() }),
  responseKeys: [],
  handler: async (ctx, input) => {
    const webhook = await findWebhook(ctx, input.webhook_id);
    await updateWebhookRow(ctx.store.db, webhook.webhook_id, { deleted_at: ctx.now });
    return {};
  },
});
