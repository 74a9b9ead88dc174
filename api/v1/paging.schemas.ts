/** Schema parts every paged list shares: its query's page size and cursor, and the nullable next cursor. */
import type { JsonSchema } from './schemas';

export const nullable = (schema: JsonSchema): JsonSchema => ({ anyOf: [schema, { type: 'null' }] });
export const limit = { type: 'integer', minimum: 1, maximum: 200, default: 50, description: 'page size' } as const;
export const cursor = {
  type: 'string',
  maxLength: 512,
  pattern: '^[A-Za-z0-9_-]+$',
  description: 'nextCursor of the previous page',
} as const;
export const nextCursor = nullable({
  type: 'string',
  description: 'pass as cursor for the next page; null on the last',
});
