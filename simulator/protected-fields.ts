// Fields Shopify flags as protected customer data (names, emails, phones, addresses ...): the raw
// introspection JSON marks them `isProtected`. Shopify withholds them from apps not approved for
// protected customer data; the simulator refuses them so a test catches an app that asks.
import { type DocumentNode, TypeInfo, visit, visitWithTypeInfo } from 'graphql';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { adminSchema } from '../backend/src/shopify/schema.ts';

const SCHEMA_FILE = new URL('../backend/src/shopify/schema/admin_2026-07.json.gz', import.meta.url);

interface RawField {
  name: string;
  isProtected?: boolean;
}

let cached: Set<string> | undefined;

/** "Type.field" for every field flagged isProtected. */
export function protectedFields(): Set<string> {
  if (cached) return cached;
  const raw = JSON.parse(gunzipSync(readFileSync(SCHEMA_FILE)).toString('utf8')) as {
    data: { __schema: { types: { name: string; fields?: RawField[] | null }[] } };
  };
  cached = new Set();
  for (const t of raw.data.__schema.types) for (const f of t.fields ?? []) if (f.isProtected) cached.add(`${t.name}.${f.name}`);
  return cached;
}

/** Protected fields a (valid) document selects, as "Type.field". */
export function selectedProtectedFields(doc: DocumentNode): string[] {
  const flagged = protectedFields();
  const typeInfo = new TypeInfo(adminSchema());
  const found = new Set<string>();
  visit(
    doc,
    visitWithTypeInfo(typeInfo, {
      Field() {
        const parent = typeInfo.getParentType();
        const def = typeInfo.getFieldDef();
        if (parent && def && flagged.has(`${parent.name}.${def.name}`)) found.add(`${parent.name}.${def.name}`);
      },
    }),
  );
  return [...found];
}
