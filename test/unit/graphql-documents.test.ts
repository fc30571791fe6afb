// Every document shopml sends must be one Shopify would accept (2026-07 schema), use no
// deprecated field or argument, and select no protected customer field.
import { describe, expect, it } from 'vitest';
import { NoDeprecatedCustomRule, parse, specifiedRules, TypeInfo, validate, visit, visitWithTypeInfo } from 'graphql';
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { ALL_DOCUMENTS, BULK_ORDERS_QUERY, bulkOrdersQuery, BULK_PRODUCTS_QUERY, bulkProductsQuery, BULK_RUN } from '../../backend/src/shopify/documents.ts';
import { adminSchema, validateAdminDocument } from '../../backend/src/shopify/schema.ts';
import { checkBulkQuery } from '../../simulator/bulk-ops.ts';

const raw = JSON.parse(
  gunzipSync(readFileSync(new URL('../../backend/src/shopify/schema/admin_2026-07.json.gz', import.meta.url))).toString('utf8'),
) as { data: { __schema: { types: { name: string; fields?: { name: string; isProtected?: boolean }[] | null }[] } } };
const protectedFields = new Set<string>();
for (const t of raw.data.__schema.types) for (const f of t.fields ?? []) if (f.isProtected) protectedFields.add(`${t.name}.${f.name}`);

function selectedFields(source: string): string[] {
  const typeInfo = new TypeInfo(adminSchema());
  const out: string[] = [];
  visit(
    parse(source),
    visitWithTypeInfo(typeInfo, {
      Field() {
        const parent = typeInfo.getParentType();
        const def = typeInfo.getFieldDef();
        if (parent && def) out.push(`${parent.name}.${def.name}`);
      },
    }),
  );
  return out;
}

describe('Admin GraphQL documents', () => {
  it('the protected-field list is real (sanity check of the check itself)', () => {
    expect(protectedFields.has('Customer.email')).toBe(true);
    expect(protectedFields.has('Customer.firstName')).toBe(true);
    expect(protectedFields.has('Customer.id')).toBe(false);
    expect(selectedFields('query { customer(id: "gid://shopify/Customer/1") { id email } }').filter((f) => protectedFields.has(f))).toEqual(['Customer.email']);
  });

  for (const [name, source] of Object.entries(ALL_DOCUMENTS)) {
    describe(name, () => {
      it('validates against the 2026-07 schema', () => {
        expect(validateAdminDocument(source).map((e) => e.message)).toEqual([]);
      });
      it('uses no deprecated field, argument or enum value', () => {
        const errors = validate(adminSchema(), parse(source), [...specifiedRules, NoDeprecatedCustomRule]);
        expect(errors.map((e) => e.message)).toEqual([]);
      });
      it('selects no protected customer field', () => {
        const fields = selectedFields(source);
        expect(fields.length).toBeGreaterThan(0);
        expect(fields.filter((f) => protectedFields.has(f))).toEqual([]);
      });
    });
  }

  it('the deprecation rule does catch deprecated usage (Customer.email, flowTriggerReceive body)', () => {
    const bad = 'mutation { flowTriggerReceive(body: "{}") { userErrors { message } } }';
    expect(validate(adminSchema(), parse(bad), [NoDeprecatedCustomRule]).length).toBe(1);
  });

  it('the bulk query is a connection of connections Shopify accepts in bulk (no first needed)', () => {
    expect(BULK_ORDERS_QUERY.trimStart().startsWith('{')).toBe(true);
    expect(BULK_ORDERS_QUERY).not.toMatch(/first:/);
    const checked = checkBulkQuery(adminSchema(), BULK_ORDERS_QUERY);
    expect('error' in checked ? checked.error : 'ok').toBe('ok');
    // With a search filter (quoted safely) it still validates.
    const filtered = bulkOrdersQuery(`updated_at:>='2026-01-01T00:00:00Z' "x"`);
    expect(validateAdminDocument(filtered).map((e) => e.message)).toEqual([]);
  });

  it('the products bulk query: products with their variants, the image from featuredMedia, no first', () => {
    expect(BULK_PRODUCTS_QUERY).not.toMatch(/first:|featuredImage|\bimages\b/);
    const checked = checkBulkQuery(adminSchema(), BULK_PRODUCTS_QUERY);
    expect('error' in checked ? checked.error : 'ok').toBe('ok');
    const fields = selectedFields(BULK_PRODUCTS_QUERY);
    for (const f of ['Product.featuredMedia', 'Media.alt', 'Image.url', 'Image.altText', 'ProductVariant.price', 'ProductVariant.inventoryQuantity', 'InventoryItem.id', 'InventoryItem.tracked']) {
      expect(fields).toContain(f);
    }
    expect(validateAdminDocument(bulkProductsQuery(`updated_at:>='2026-01-01T00:00:00Z' "x"`)).map((e) => e.message)).toEqual([]);
  });

  it('BULK_RUN asks for the ungrouped layout explicitly', () => {
    expect(BULK_RUN).toMatch(/groupObjects:\s*false/);
  });
});
