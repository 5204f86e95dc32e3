import { z } from 'zod';
import { toDeliveryObject } from '../../../../domain/webhooks.ts';
import { recentDeliveries } from '../../../../store/repos/webhooks.ts';
import { defineRoute, READ_METHODS } from '../../../route.ts';
import { id } from '../../../schemas.ts';
import { findWebhook } from '../../../webhook-lookup.ts';

export default defineRoute({
  path: '/webhooks/deliveries/list',
  methods: READ_METHODS,
  summary: 'Recent deliveries of a webhook, newest first, each with its attempts (status code, error)',
  input: z.strictObject({
    webhook_id: id(),
    status: z.enum(['pending', 'succeeded', 'failed']).optional(),
    limit: z.number().int().min(1).max(1000).default(100),
  }),
  responseKeys: ['deliveries'],
  handler: async (ctx, input) => {
    const webhook = await findWebhook(ctx, input.webhook_id);
    const rows = await recentDeliveries(ctx.store.db, webhook.webhook_id, input.limit, input.status);
    return { deliveries: rows.map((r) => toDeliveryObject(r.delivery, r.attempts)) };
  },
});
