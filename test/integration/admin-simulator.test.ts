// The Admin API simulator on its own: what it accepts and refuses, like Shopify.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  FLOW_TRIGGER_RECEIVE,
  METAFIELD_DEFINITION_CREATE,
  METAFIELDS_SET,
  ORDERS_PAGE,
  TAGS_ADD,
  TAGS_REMOVE,
  BULK_RUN,
} from '../../backend/src/shopify/documents.ts';
import { type AdminSimulator, startAdminSimulator } from '../../simulator/admin-server.ts';
import { ID_TOKEN_TYPE, OFFLINE_TOKEN_TYPE, signSessionToken, TOKEN_EXCHANGE_GRANT } from '../../simulator/token-exchange.ts';
import { fromCents, orderMoney } from '../../simulator/order-totals.ts';
import { fixtureStore } from '../fixtures/admin-sim-store.ts';

const store = fixtureStore({ orders: 30, customers: 4 });
const TOKEN = 'shpat_sim';
let sim: AdminSimulator;

beforeAll(async () => {
  sim = await startAdminSimulator({ store, apiKey: 'app-key', apiSecret: 'app-secret', accessTokens: { [store.shop]: TOKEN }, flowTriggerHandles: ['churn-risk'] });
});
afterAll(() => sim.close());

async function post(query: string, variables: Record<string, unknown>, token: string, shop: string) {
  const res = await fetch(`${sim.url}/shops/${shop}/admin/api/2026-07/graphql.json`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': token },
    body: JSON.stringify({ query, variables }),
  });
  return { status: res.status, body: (await res.json()) as { data?: any; errors?: any; extensions?: any } };
}

/**
 * One request, waiting out the shop's bucket first when it is throttled (as any client must):
 * the functional tests below share one bucket and must not depend on how fast earlier ones ran.
 */
async function gql(query: string, variables: Record<string, unknown> = {}, token = TOKEN, shop = store.shop) {
  for (;;) {
    const r = await post(query, variables, token, shop);
    if (r.body.errors?.[0]?.extensions?.code !== 'THROTTLED') return r;
    const c = r.body.extensions.cost;
    await new Promise((ok) => setTimeout(ok, ((c.requestedQueryCost - c.throttleStatus.currentlyAvailable) / c.throttleStatus.restoreRate) * 1000 + 20));
  }
}

describe('simulator: requests', () => {
  it('401 without a valid token, 404 for an unknown shop, 400 without a query', async () => {
    expect((await gql('{ currentAppInstallation { id } }', {}, 'nope')).status).toBe(401);
    expect((await gql('{ currentAppInstallation { id } }', {}, TOKEN, 'unknown.myshopify.com')).status).toBe(404);
    expect((await gql('')).status).toBe(400);
  });

  it('answers invalid documents with errors, HTTP 200, and charges nothing', async () => {
    const before = sim.state(store.shop).bucket.available();
    const syntax = await gql('query { orders(first: 1) { nodes { id } }');
    expect(syntax.status).toBe(200);
    expect(syntax.body.errors[0].message).toMatch(/Syntax Error/);
    const invalid = await gql('query { orders { nodes { id } } customer }');
    expect(invalid.body.errors.length).toBeGreaterThan(0);
    expect(invalid.body.data).toBeUndefined();
    const badVar = await gql(TAGS_ADD, { id: 'x' });
    expect(badVar.body.errors[0].message).toMatch(/\$tags/);
    expect(sim.state(store.shop).bucket.available()).toBeGreaterThanOrEqual(before);
  });

  it('refuses unsupported root fields, protected customer fields and over-cost queries clearly', async () => {
    const unsupported = await gql('{ collections(first: 1) { nodes { id } } }');
    expect(unsupported.body.errors[0]).toMatchObject({ extensions: { code: 'NOT_IMPLEMENTED_IN_SIMULATOR' } });
    expect(unsupported.body.errors[0].message).toContain("'collections'");
    const prot = await gql('{ orders(first: 1) { nodes { email customer { firstName } } } }');
    expect(prot.body.errors[0].extensions).toMatchObject({ code: 'ACCESS_DENIED', fields: ['Order.email', 'Customer.firstName'] });
    const big = await gql(ORDERS_PAGE, { first: 50 }); // 50 orders × 100 line items
    expect(big.body.errors[0].extensions.code).toBe('MAX_COST_EXCEEDED');
  });

  it('connections need first or last (outside bulk)', async () => {
    const r = await gql('{ orders { nodes { id } } }');
    expect(r.body.errors[0].message).toBe('you must provide one of first or last');
  });
});

describe('simulator: orders', () => {
  it('paginates with cursors in CREATED_AT order and filters by created_at / updated_at', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const r = await gql(ORDERS_PAGE, { first: 7, after, lineItemsFirst: 5 });
      const page = r.body.data.orders;
      seen.push(...page.nodes.map((n: { id: string }) => n.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual([...store.orders].sort((a, b) => a.createdAt.localeCompare(b.createdAt)).map((o) => `gid://shopify/Order/${o.id}`));

    const cutoff = store.orders[20]!.createdAt;
    const r = await gql(ORDERS_PAGE, { first: 50, lineItemsFirst: 1, query: `created_at:>='${cutoff}' updated_at:<2030-01-01` });
    expect(r.body.data.orders.nodes).toHaveLength(10);
    const none = await gql(ORDERS_PAGE, { first: 5, lineItemsFirst: 1, query: 'updated_at:>2030-01-01' });
    expect(none.body.data.orders.nodes).toEqual([]);
  });

  it('serves money, statuses, guests and custom items as Shopify does', async () => {
    const r = await gql('{ orders(first: 5, sortKey: CREATED_AT) { nodes { id displayFinancialStatus totalPriceSet { shopMoney { amount currencyCode } } customer { id } lineItems(first: 5) { nodes { product { id } originalUnitPriceSet { shopMoney { amount } } } } } } }');
    const [o0, , o2, o3] = r.body.data.orders.nodes;
    expect(o0.displayFinancialStatus).toBe('PAID');
    // Total as the REST webhook builders compute it (tax, shipping, discounts).
    expect(o0.totalPriceSet.shopMoney).toEqual({ amount: fromCents(orderMoney(store.orders[0]!).totalCents), currencyCode: 'GBP' });
    expect(Number(o0.totalPriceSet.shopMoney.amount)).toBeGreaterThan(5);
    expect(o3.customer).toBeNull(); // guest
    expect(o2.lineItems.nodes.at(-1).product).toBeNull(); // custom item
    expect(r.body.extensions.cost).toMatchObject({ requestedQueryCost: expect.any(Number), throttleStatus: { maximumAvailable: 2000, restoreRate: 100 } });
  });
});

describe('simulator: mutations', () => {
  const customer = `gid://shopify/Customer/${store.customers[0]!.id}`;

  it('tagsAdd / tagsRemove track tags per customer (comma lists, case-insensitive)', async () => {
    await gql(TAGS_ADD, { id: customer, tags: ['shopml:churn-risk, shopml:vip'] });
    await gql(TAGS_ADD, { id: customer, tags: ['SHOPML:VIP'] });
    expect(sim.state(store.shop).customerTags.get(store.customers[0]!.id)).toEqual(['vip', 'shopml:churn-risk', 'shopml:vip']);
    const r = await gql(TAGS_REMOVE, { id: customer, tags: ['shopml:churn-risk'] });
    expect(r.body.data.tagsRemove).toEqual({ node: { id: customer }, userErrors: [] });
    expect(sim.state(store.shop).customerTags.get(store.customers[0]!.id)).toEqual(['vip', 'shopml:vip']);
  });

  it('metafieldsSet validates, is all-or-nothing and upserts', async () => {
    const bad = await gql(METAFIELDS_SET, {
      metafields: [
        { ownerId: customer, namespace: 'shopml', key: 'churn_score', type: 'number_decimal', value: '0.7' },
        { ownerId: customer, namespace: 'shopml', key: 'segment', value: 'x' }, // no type, no definition
      ],
    });
    expect(bad.body.data.metafieldsSet.userErrors).toEqual([{ field: ['metafields', '1', 'type'], message: "Type can't be blank.", code: 'BLANK', elementIndex: 1 }]);
    expect(sim.state(store.shop).metafields).toEqual([]);

    const def = await gql(METAFIELD_DEFINITION_CREATE, { definition: { name: 'Segment', namespace: 'shopml', key: 'segment', type: 'single_line_text_field', ownerType: 'CUSTOMER' } });
    expect(def.body.data.metafieldDefinitionCreate.createdDefinition).toMatchObject({ namespace: 'shopml', key: 'segment', type: { name: 'single_line_text_field' } });
    const dup = await gql(METAFIELD_DEFINITION_CREATE, { definition: { name: 'Segment', namespace: 'shopml', key: 'segment', type: 'single_line_text_field', ownerType: 'CUSTOMER' } });
    expect(dup.body.data.metafieldDefinitionCreate.userErrors[0].code).toBe('TAKEN');

    const ok = await gql(METAFIELDS_SET, {
      metafields: [
        { ownerId: customer, namespace: 'shopml', key: 'churn_score', type: 'number_decimal', value: '0.7' },
        { ownerId: customer, namespace: 'shopml', key: 'segment', value: 'loyal' }, // type from the definition
      ],
    });
    expect(ok.body.data.metafieldsSet.userErrors).toEqual([]);
    await gql(METAFIELDS_SET, { metafields: [{ ownerId: customer, namespace: 'shopml', key: 'churn_score', type: 'number_decimal', value: '0.2' }] });
    expect(sim.state(store.shop).metafields.map((m) => [m.key, m.value, m.type])).toEqual([
      ['churn_score', '0.2', 'number_decimal'],
      ['segment', 'loyal', 'single_line_text_field'],
    ]);
    const badValue = await gql(METAFIELDS_SET, { metafields: [{ ownerId: customer, namespace: 'shopml', key: 'churn_score', value: 'high' }] });
    expect(badValue.body.data.metafieldsSet.userErrors[0].code).toBe('INVALID_VALUE');
    const noOwner = await gql(METAFIELDS_SET, { metafields: [{ ownerId: 'gid://shopify/Customer/1', namespace: 'shopml', key: 'k1', type: 'boolean', value: 'true' }] });
    expect(noOwner.body.data.metafieldsSet.userErrors[0].field).toEqual(['metafields', '0', 'ownerId']);
  });

  it('flowTriggerReceive records handle + payload and rejects unknown handles', async () => {
    const ok = await gql(FLOW_TRIGGER_RECEIVE, { handle: 'churn-risk', payload: { customer_id: 5000, 'Churn score': 0.8 } });
    expect(ok.body.data.flowTriggerReceive.userErrors).toEqual([]);
    expect(sim.state(store.shop).flowTriggers.at(-1)).toMatchObject({ handle: 'churn-risk', payload: { customer_id: 5000, 'Churn score': 0.8 } });
    const bad = await gql(FLOW_TRIGGER_RECEIVE, { handle: 'nope', payload: {} });
    expect(bad.body.data.flowTriggerReceive.userErrors[0].field).toEqual(['handle']);
  });

  it('bulkOperationRunQuery enforces the bulk query rules', async () => {
    const noConnection = await gql(BULK_RUN, { query: '{ currentAppInstallation { id } }' });
    expect(noConnection.body.data.bulkOperationRunQuery.userErrors[0]).toMatchObject({ code: 'INVALID', message: expect.stringMatching(/at least one connection/) });
    const tooDeep = await gql(BULK_RUN, { query: '{ customers { edges { node { id orders { edges { node { id lineItems { edges { node { id } } } } } } } } } }' });
    expect(tooDeep.body.data.bulkOperationRunQuery.userErrors[0].message).toMatch(/nesting depth greater than 2/);
    const tooMany = await gql(BULK_RUN, { query: `{ ${[1, 2, 3, 4, 5, 6].map((i) => `o${i}: orders(query: "id:${i}") { edges { node { id } } }`).join(' ')} }` });
    expect(tooMany.body.data.bulkOperationRunQuery.userErrors[0].message).toMatch(/more than 5 connections/);
    const noParentId = await gql(BULK_RUN, { query: '{ orders { edges { node { name lineItems { edges { node { id } } } } } } }' });

    expect(noParentId.body.data.bulkOperationRunQuery.userErrors[0].message).toMatch(/must select the id field/);
    const invalid = await gql(BULK_RUN, { query: '{ orders { edges { node { nope } } } }' });
    expect(invalid.body.data.bulkOperationRunQuery.userErrors[0].message).toMatch(/Invalid bulk query/);
  });
});

describe('simulator: token exchange', () => {
  const now = Math.floor(Date.now() / 1000);
  const sessionToken = (over: Record<string, unknown> = {}, secret = 'app-secret') =>
    signSessionToken({ iss: `https://${store.shop}/admin`, dest: `https://${store.shop}`, aud: 'app-key', sub: '42', exp: now + 60, nbf: now - 5, iat: now - 5, jti: 'j', sid: 's', ...over }, secret);
  const exchange = (body: Record<string, unknown>) =>
    fetch(`${sim.url}/shops/${store.shop}/admin/oauth/access_token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  const request = (subject_token: string, over: Record<string, unknown> = {}) => ({
    client_id: 'app-key',
    client_secret: 'app-secret',
    grant_type: TOKEN_EXCHANGE_GRANT,
    subject_token,
    subject_token_type: ID_TOKEN_TYPE,
    requested_token_type: OFFLINE_TOKEN_TYPE,
    ...over,
  });

  it('issues an offline token the GraphQL route accepts', async () => {
    const res = await exchange(request(sessionToken()));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { access_token: string; scope: string };
    expect(body.access_token).toMatch(/^shpat_[0-9a-f]{32}$/);
    expect(body.scope).toContain('read_orders');
    expect((await gql('{ currentAppInstallation { id } }', {}, body.access_token)).status).toBe(200);
  });

  it('refuses a wrong client secret (401) and bad session tokens (400)', async () => {
    expect((await exchange(request(sessionToken(), { client_secret: 'wrong' }))).status).toBe(401);
    for (const bad of [
      sessionToken({}, 'other-secret'),
      sessionToken({ exp: now - 60 }),
      sessionToken({ aud: 'another-app' }),
      sessionToken({ dest: 'https://other.myshopify.com' }),
      'not.a.jwt',
    ]) {
      const res = await exchange(request(bad));
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error: string }).error).toBe('invalid_subject_token');
    }
    expect((await exchange(request(sessionToken(), { grant_type: 'authorization_code' }))).status).toBe(400);
  });
});
