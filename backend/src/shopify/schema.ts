// The real Shopify Admin GraphQL schema (2026-07), loaded once, for validating documents.
import { buildClientSchema, type GraphQLSchema, parse, validate, type GraphQLError } from 'graphql';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';

export const ADMIN_API_VERSION = '2026-07';
const SCHEMA_FILE = new URL('./schema/admin_2026-07.json.gz', import.meta.url);

let cached: GraphQLSchema | undefined;

export function adminSchema(): GraphQLSchema {
  cached ??= buildClientSchema(JSON.parse(gunzipSync(readFileSync(SCHEMA_FILE)).toString('utf8')).data);
  return cached;
}

/** Errors Shopify would answer for this document (syntax or validation), empty when valid. */
export function validateAdminDocument(source: string): readonly GraphQLError[] {
  let doc;
  try {
    doc = parse(source);
  } catch (err) {
    return [err as GraphQLError];
  }
  return validate(adminSchema(), doc);
}
