import { z } from 'zod';
import { createWebhook } from '../../../app/webhooks.ts';
import { toSeamWebhook } from '../../../domain/webhooks.ts';
import { defineRoute, WRITE_METHODS } from '../../route.ts';
import { checkEventTypes } from '../../webhook-lookup.ts';

export default defineRoute({
  path: '/webhooks/create',
  methods: WRITE_METHODS,
  summary: 'Subscribe a URL to events; the response carries the signing secret (whsec_…)',
  input: z.strictObject({
    url: z.string().url().max(2048),
    event_types: z.array(z.string().min(1)).min(1).default(['*']),
  }),
  responseKeys: ['webhook'],
  handler: async (ctx, input) => {
    checkEventTypes(input.event_types);
    const webhook = await createWebhook(ctx.services, ctx.workspace.workspace_id, input, ctx.now);
    return { webhook: toSeamWebhook(webhook) };
  },
});
