/**
 * The custom search attributes registered per namespace (OperatorService Add/Remove/ListSearchAttributes),
 * in `<schema>.search_attributes`. Changes to a namespace are serialised by an advisory lock and apply all or
 * nothing, so two operators adding the same name with different types cannot both succeed.
 */
import type { Pool, PoolClient } from 'pg';
import {
  SEARCH_ATTRIBUTE_NAME_PATTERN,
  indexedValueTypeName,
  isIndexedValueType,
  isReservedSearchAttributeName,
  type IndexedValueType,
} from './search-attribute-types';
import { quoteIdentifier } from './visibility-indexes';
import {
  InvalidSearchAttributeDefinitionError,
  SearchAttributeAlreadyExistsError,
  SearchAttributeNotFoundError,
} from './visibility.errors';

export interface SearchAttributeRegistry {
  /** Creates the schema and table if they are missing; safe to call on every start and concurrently. */
  ensureSchema(): Promise<void>;
  /**
   * Registers attributes; a name already registered with the same type is left as it is.
   * @throws InvalidSearchAttributeDefinitionError for a reserved or malformed name or an unknown type
   * @throws SearchAttributeAlreadyExistsError when a name is registered with another type
   */
  add(namespace: string, attributes: Readonly<Record<string, IndexedValueType>>): Promise<void>;
  /**
   * @throws SearchAttributeNotFoundError for a name not registered in the namespace
   * @throws InvalidSearchAttributeDefinitionError for a system or predefined name
   */
  remove(namespace: string, names: readonly string[]): Promise<void>;
  /** The namespace's custom attributes only; system ones are LISTED_SYSTEM_SEARCH_ATTRIBUTES. */
  list(namespace: string): Promise<Record<string, IndexedValueType>>;
}

export function createSearchAttributeRegistry(pool: Pool, schema: string): SearchAttributeRegistry {
  const table = `${quoteIdentifier(schema)}.search_attributes`;
  // Advisory lock keys: one for DDL, one per namespace for changes (hashtext spreads namespaces over int4).
  const lockKey = (what: string) => `visibility:${schema}:${what}`;

  async function inTransaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  async function registered(client: PoolClient, namespace: string): Promise<Map<string, IndexedValueType>> {
    const { rows } = await client.query<{ name: string; type: number }>(
      `SELECT name, type FROM ${table} WHERE namespace = $1`,
      [namespace],
    );
    return new Map(rows.map((row) => [row.name, row.type as IndexedValueType]));
  }

  return {
    async ensureSchema() {
      await inTransaction(async (client) => {
        // Concurrent CREATE ... IF NOT EXISTS can still collide in the catalogue, so starts take turns.
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey('ddl')]);
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}`);
        await client.query(`
          CREATE TABLE IF NOT EXISTS ${table} (
            namespace text NOT NULL,
            name text NOT NULL,
            type smallint NOT NULL CHECK (type BETWEEN 1 AND 7),
            created_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (namespace, name)
          )`);
      });
    },

    async add(namespace, attributes) {
      const entries = Object.entries(attributes);
      if (entries.length === 0) {
        throw new InvalidSearchAttributeDefinitionError('', 'SearchAttributes are not set on request.');
      }
      for (const [name, type] of entries) {
        if (isReservedSearchAttributeName(name)) {
          throw new InvalidSearchAttributeDefinitionError(name, `Search attribute ${name} is reserved by system.`);
        }
        if (!SEARCH_ATTRIBUTE_NAME_PATTERN.test(name)) {
          throw new InvalidSearchAttributeDefinitionError(
            name,
            `Search attribute name ${JSON.stringify(name)} is invalid: use a letter, then letters, digits or underscores, at most 64 characters.`,
          );
        }
        if (!isIndexedValueType(type)) {
          throw new InvalidSearchAttributeDefinitionError(name, `Unknown search attribute type: ${String(type)}.`);
        }
      }
      await inTransaction(async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey(namespace)]);
        const existing = await registered(client, namespace);
        for (const [name, type] of entries) {
          const current = existing.get(name);
          if (current !== undefined && current !== type) {
            throw new SearchAttributeAlreadyExistsError(
              name,
              `Search attribute ${name} already exists with type ${indexedValueTypeName(current) ?? current}.`,
            );
          }
        }
        const added = entries.filter(([name]) => !existing.has(name));
        if (added.length === 0) return;
        await client.query(
          `INSERT INTO ${table} (namespace, name, type) SELECT $1, name, type FROM unnest($2::text[], $3::smallint[]) AS a(name, type)`,
          [namespace, added.map(([name]) => name), added.map(([, type]) => type)],
        );
      });
    },

    async remove(namespace, names) {
      for (const name of names) {
        if (isReservedSearchAttributeName(name)) {
          throw new InvalidSearchAttributeDefinitionError(
            name,
            `Unable to remove non-custom search attributes: ${name}.`,
          );
        }
      }
      await inTransaction(async (client) => {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [lockKey(namespace)]);
        const existing = await registered(client, namespace);
        const missing = names.find((name) => !existing.has(name));
        if (missing !== undefined) throw new SearchAttributeNotFoundError(missing);
        await client.query(`DELETE FROM ${table} WHERE namespace = $1 AND name = ANY($2::text[])`, [namespace, names]);
      });
    },

    async list(namespace) {
      const { rows } = await pool.query<{ name: string; type: number }>(
        `SELECT name, type FROM ${table} WHERE namespace = $1 ORDER BY name`,
        [namespace],
      );
      return Object.fromEntries(rows.map((row) => [row.name, row.type as IndexedValueType]));
    },
  };
}
