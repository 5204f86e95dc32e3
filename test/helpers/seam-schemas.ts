import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

// Validates our objects against the official @seamapi/types 1.977.0 models, through the JSON schemas of its
// OpenAPI document (its zod schemas need zod 3; we use zod 4). This is what typed SDKs deserialize.

// The package exports no package.json; its ESM connect entry sits at the package root.
const typesDir = dirname(fileURLToPath(import.meta.resolve('@seamapi/types/connect')));
const { default: openapi } = (await import(
  pathToFileURL(join(typesDir, 'lib/seam/connect/openapi.js')).href
)) as { default: { components: { schemas: Record<string, object> } } };

const ajv = new Ajv({ strict: false, allErrors: true, discriminator: true });
// ajv-formats is CommonJS: its function is the default export's `default`.
addFormatsModule.default(ajv);
for (const format of ['float', 'double', 'int32', 'int64']) ajv.addFormat(format, true);
/**
 * OpenAPI 3.0 to the JSON Schema Ajv speaks: `exclusiveMinimum: true` beside `minimum` (draft 4) becomes
 * a number, and `nullable: true` becomes `anyOf [schema, null]`.
 */
function toDraft7(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toDraft7);
  if (node === null || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(node)) out[k] = toDraft7(v);
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (typeof out[flag] === 'boolean') {
      if (out[flag]) out[flag] = out[bound];
      else delete out[flag];
      if (out[flag] !== undefined) delete out[bound];
    }
  }
  if (out.nullable === true) {
    delete out.nullable;
    return { anyOf: [out, { type: 'null' }] };
  }
  return out;
}

ajv.addSchema({ components: toDraft7(openapi.components) }, 'seam');

const validators = new Map<string, ValidateFunction>();

export type SeamModel =
  | 'device'
  | 'access_code'
  | 'action_attempt'
  | 'event'
  | 'workspace'
  | 'connected_account'
  | 'webhook'
  | 'pagination';

export function assertSeamShape(model: SeamModel, value: unknown): void {
  let validate = validators.get(model);
  if (!validate) {
    validate = ajv.compile({ $ref: `seam#/components/schemas/${model}` });
    validators.set(model, validate);
  }
  const ok = validate(value);
  assert.ok(
    ok,
    `${model} does not match @seamapi/types: ${ajv.errorsText(validate.errors, { separator: '\n' })}\n${JSON.stringify(value).slice(0, 2000)}`,
  );
}
