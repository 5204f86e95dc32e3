import { z } from 'zod';
import { toSeamWebhook } from '../../../domain/webhooks.ts';
import { defineRoute, READ_METHODS } from '../../route.ts';
import { id } from '../../schemas.ts';
import { findWebhook } from '../../webhook-lookup.ts';

export default defineRoute({
  path: '/webhooks/get',
  methods: READ_METHODS,
  summary: 'Get a webhook (with its signing secret)',
  input: z.strictObject({ webhook_id: id() }),
  responseKeys: ['webhook'],
  handler: async (ctx, input) => ({ webhook: toSeamWebhook(await findWebhook(ctx, input.webhook_id)) }),
});
