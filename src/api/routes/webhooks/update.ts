import { z } from 'zod';
import { checkWebhookUrl } from '../../../app/webhook-sender.ts';
import { updateWebhookRow } from '../../../store/repos/webhooks.ts';
import { defineRoute } from '../../route.ts';
import { id } from '../../schemas.ts';
import { checkEventTypes, findWebhook } from '../../webhook-lookup.ts';

export default defineRoute({
  path: '/webhooks/update',
  methods: ['POST', 'PUT'],
  summary: 'Change the event types (and optionally the URL) of a webhook',
  input: z.strictObject({
    webhook_id: id(),
    event_types: z.array(z.string().min(1)).min(1),
    url: z.string().url().max(2048).optional(),
  }),
  responseKeys: [],
  handler: async (ctx, input) => {
    const webhook = await findWebhook(ctx, input.webhook_id);
    checkEventTypes(input.event_types);
    if (input.url !== undefined) await checkWebhookUrl(input.url, ctx.services.network);
    await updateWebhookRow(ctx.store.db, webhook.webhook_id, {
      event_types: JSON.stringify(input.event_types),
      ...(input.url === undefined ? {} : { url: input.url }),
    });
    return {};
  },
});
