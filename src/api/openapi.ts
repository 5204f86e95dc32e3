import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { RouteDefinition } from './route.ts';

type JsonSchema = Record<string, unknown> & { properties?: Record<string, unknown>; required?: string[] };

const errorResponse = {
  description: 'Error in the Seam envelope',
  content: {
    'application/json': {
      schema: {
        type: 'object',
        required: ['error', 'ok'],
        properties: {
          ok: { type: 'boolean', enum: [false] },
          error: {
            type: 'object',
            required: ['type', 'message'],
            properties: {
              type: { type: 'string' },
              message: { type: 'string' },
              data: {},
              validation_errors: { type: 'object' },
            },
          },
        },
      },
    },
  },
};

/** The OpenAPI 3.0 document, generated from the same zod schemas that validate requests. */
export function buildOpenApiDocument(routes: readonly RouteDefinition[]) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const schema = z.toJSONSchema(route.input, { io: 'input', target: 'openapi-3.0' }) as JsonSchema;
    delete schema.$schema;
    const operations: Record<string, unknown> = {};
    for (const method of route.methods) {
      const operation: Record<string, unknown> = {
        operationId: `${method.toLowerCase()}${route.path.replace(/[/_](\w)/g, (_, c: string) => c.toUpperCase())}`,
        summary: route.summary,
        tags: [route.path.split('/')[1] ?? 'misc'],
        security: [{ bearerAuth: [] }],
        responses: {
          200: {
            description: `Success: ${route.responseKeys.join(', ')}`,
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: [...route.responseKeys, 'ok'],
                  properties: {
                    ok: { type: 'boolean', enum: [true] },
                    ...Object.fromEntries(route.responseKeys.map((k) => [k, {}])),
                  },
                },
              },
            },
          },
          400: errorResponse,
          401: errorResponse,
          404: errorResponse,
        },
      };
      if (method === 'GET' || method === 'DELETE') {
        operation.parameters = Object.entries(schema.properties ?? {}).map(([name, s]) => ({
          name,
          in: 'query',
          required: schema.required?.includes(name) ?? false,
          schema: s,
        }));
      } else {
        operation.requestBody = { required: true, content: { 'application/json': { schema } } };
      }
      operations[method.toLowerCase()] = operation;
    }
    paths[route.path] = operations;
  }
  return {
    openapi: '3.0.3',
    info: {
      title: 'Latchkey',
      version: '0.1.0',
      description:
        'Seam Connect-compatible access-code API with open offline PINs (algoPIN). Every route accepts POST with a ' +
        'JSON body; reads also accept GET with a query string.',
    },
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', description: 'seam_… API key' } },
    },
    paths,
  };
}

/** Serves the interactive docs at /docs from the generated document. */
export async function registerDocs(app: FastifyInstance, document: ReturnType<typeof buildOpenApiDocument>) {
  await app.register(swagger, { mode: 'static', specification: { document: document as never } });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
