// Executes Admin GraphQL against a simulated shop with graphql-js and the real schema. The root
// value holds resolver functions (graphql-js's default resolver calls a function-valued property
// with (args, context)); abstract types (Node, HasMetafields) resolve through `__typename`.
import { createHash } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { SimBulkOperation, ShopState, SimMetafield, SimMetafieldDefinition } from './admin-state.ts';
import { fromCents, orderMoney } from './order-totals.ts';
import { orderFilter, productFilter } from './search.ts';
import { derivedId } from './ids.ts';
import type { SimCustomer, SimLine, SimOrder, SimProduct, SimVariant } from './types.ts';
import type { SimFlowTrigger } from './flow-extensions.ts';

export interface ExecContext {
  state: ShopState;
  /** Inside a bulk operation connections need no `first` and return everything. */
  bulk: boolean;
  scopes: string[];
  now: () => number;
  nextId: () => number;
  /** Numeric app id used for the `$app` metafield namespace. */
  appId: string;
  flowTriggerHandles: readonly string[] | null;
  /** Deployed trigger definitions by handle: payloads are checked against them (null: not checked). */
  flowTriggers: ReadonlyMap<string, SimFlowTrigger> | null;
  runBulkQuery: (state: ShopState, query: string, groupObjects: boolean) => { bulkOperation: SimBulkOperation | null; userErrors: UserErr[] };
}

export interface UserErr {
  field: (string)[] | null;
  message: string;
  code?: string | null;
  elementIndex?: number | null;
}

export const SUPPORTED_QUERY_FIELDS = ['orders', 'order', 'customer', 'products', 'bulkOperation', 'currentAppInstallation'] as const;
export const SUPPORTED_MUTATION_FIELDS = [
  'bulkOperationRunQuery',
  'tagsAdd',
  'tagsRemove',
  'metafieldsSet',
  'metafieldDefinitionCreate',
  'flowTriggerReceive',
] as const;

const MAX_PAGE = 250;

const gid = (type: string, id: number | string): string => `gid://shopify/${type}/${id}`;
const iso = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

function parseGid(value: unknown): { type: string; id: number } | null {
  const m = typeof value === 'string' ? /^gid:\/\/shopify\/(\w+)\/(\d+)$/.exec(value) : null;
  return m ? { type: m[1]!, id: Number(m[2]) } : null;
}

// ---- Connections ----

interface PageArgs {
  first?: number | null;
  last?: number | null;
  after?: string | null;
  before?: string | null;
}

interface Cursor {
  last_id: number;
  last_value: number;
}

const encodeCursor = (id: number, value: number): string => Buffer.from(JSON.stringify({ last_id: id, last_value: value })).toString('base64');

function decodeCursor(cursor: string): Cursor {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64').toString('utf8')) as Partial<Cursor>;
    if (typeof v.last_id === 'number' && typeof v.last_value === 'number') return v as Cursor;
  } catch {
    // fall through
  }
  throw new GraphQLError('Invalid cursor for current pagination sort.', { extensions: { code: 'BAD_REQUEST' } });
}

export interface SortSpec<T> {
  key: (t: T) => number;
  reverse: boolean;
}

/**
 * Cursor pagination over a list sorted by (key, id), as Shopify's connections do it: the cursor
 * holds the last (value, id), so it stays valid when items are added or the filter changes.
 */
export function paginate<T extends { id: number }>(items: T[], args: PageArgs, ctx: ExecContext, toNode: (t: T) => unknown, sort: SortSpec<T> = { key: (t) => t.id, reverse: false }) {
  const { first, last, after, before } = args;
  if (!ctx.bulk) {
    if (first == null && last == null) throw new GraphQLError('you must provide one of first or last', { extensions: { code: 'BAD_REQUEST' } });
    for (const n of [first, last]) {
      if (n != null && (n < 0 || n > MAX_PAGE)) throw new GraphQLError(`The first/last argument must be between 0 and ${MAX_PAGE}.`, { extensions: { code: 'BAD_REQUEST' } });
    }
  }
  const sign = sort.reverse ? -1 : 1;
  const cmp = (t: T, c: Cursor) => sign * (sort.key(t) - c.last_value || t.id - c.last_id);
  let start = 0;
  let end = items.length;
  if (after) {
    const c = decodeCursor(after);
    const i = items.findIndex((t) => cmp(t, c) > 0);
    start = i < 0 ? items.length : i;
  }
  if (before) {
    const c = decodeCursor(before);
    const i = items.findIndex((t) => cmp(t, c) >= 0);
    end = Math.max(start, i < 0 ? items.length : i);
  }
  let slice = items.slice(start, end);
  let hasNextPage = end < items.length;
  let hasPreviousPage = start > 0;
  if (first != null && slice.length > first) {
    slice = slice.slice(0, first);
    hasNextPage = true;
  }
  if (last != null && slice.length > last) {
    slice = slice.slice(slice.length - last);
    hasPreviousPage = true;
  }
  const edges = slice.map((t) => ({ cursor: encodeCursor(t.id, sort.key(t)), node: toNode(t) }));
  return {
    edges,
    nodes: edges.map((e) => e.node),
    pageInfo: {
      hasNextPage,
      hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
  };
}

// ---- Object mappers ----

const money = (amount: number | string, currencyCode: string) => {
  const m = { amount: typeof amount === 'number' ? amount.toFixed(2) : amount, currencyCode };
  return { shopMoney: m, presentmentMoney: m };
};

// Same money rules as the REST webhook builders, so both views of an order agree.
function orderTotal(o: SimOrder): number {
  return orderMoney(o).totalCents / 100;
}

function lineItemNode(l: SimLine, currency: string) {
  return {
    __typename: 'LineItem',
    id: gid('LineItem', l.id),
    quantity: l.quantity,
    currentQuantity: l.quantity,
    sku: l.sku,
    title: l.title,
    name: l.title,
    isGiftCard: false,
    product: l.productId === null ? null : { __typename: 'Product', id: gid('Product', l.productId) },
    variant: l.variantId === null ? null : { __typename: 'ProductVariant', id: gid('ProductVariant', l.variantId) },
    originalUnitPriceSet: money(l.price, currency),
    originalTotalSet: money(Number(l.price) * l.quantity, currency),
  };
}

function orderNode(s: ShopState, o: SimOrder) {
  return {
    __typename: 'Order',
    id: gid('Order', o.id),
    legacyResourceId: String(o.id),
    name: o.name,
    createdAt: o.createdAt,
    updatedAt: o.updatedAt,
    processedAt: o.processedAt,
    cancelledAt: o.cancelledAt,
    closed: false,
    test: o.test,
    note: o.note,
    email: o.email,
    currencyCode: o.currency,
    presentmentCurrencyCode: o.currency,
    displayFinancialStatus: o.financialStatus.toUpperCase(),
    ...(() => {
      const m = orderMoney(o);
      return {
        totalPriceSet: money(fromCents(m.totalCents), o.currency),
        subtotalPriceSet: money(fromCents(m.subtotalCents), o.currency),
        totalTaxSet: money(fromCents(m.taxCents), o.currency),
        totalDiscountsSet: money(fromCents(m.discountCents), o.currency),
      };
    })(),
    sourceName: o.sourceName ?? null,
    tags: s.orderTags.get(o.id) ?? o.tags ?? [],
    customer: () => {
      const c = o.customerId === null ? undefined : s.store.customers.find((x) => x.id === o.customerId);
      return c ? customerNode(s, c) : null;
    },
    lineItems: (args: PageArgs, ctx: ExecContext) => paginate(o.lines, args, ctx, (l) => lineItemNode(l, o.currency)),
  };
}

function customerNode(s: ShopState, c: SimCustomer) {
  return {
    __typename: 'Customer',
    id: gid('Customer', c.id),
    legacyResourceId: String(c.id),
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    state: c.state.toUpperCase(),
    tags: s.customerTags.get(c.id) ?? c.tags,
    note: c.note,
    firstName: c.firstName,
    lastName: c.lastName,
    displayName: `${c.firstName} ${c.lastName}`,
    email: c.email,
    phone: c.phone,
    defaultEmailAddress: { emailAddress: c.email },
    numberOfOrders: String(s.store.orders.filter((o) => o.customerId === c.id).length),
    metafield: ({ namespace, key }: { namespace?: string; key: string }, ctx: ExecContext) => {
      const ns = resolveNamespace(namespace ?? null, ctx);
      const m = s.metafields.find((x) => x.ownerId === gid('Customer', c.id) && x.namespace === ns && x.key === key);
      return m ? metafieldNode(m) : null;
    },
    orders: (args: PageArgs & { query?: string }, ctx: ExecContext) =>
      paginate(s.store.orders.filter((o) => o.customerId === c.id), args, ctx, (o) => orderNode(s, o)),
  };
}

// The product catalog, as the REST product webhooks describe it (rest-payloads.ts): the same
// image (alt text = title), one tracked inventory item per variant, stock summed over the
// shop's single location.
function productImage(p: SimProduct) {
  const imageId = derivedId('image', p.id);
  return { __typename: 'Image', id: gid('ImageSource', imageId), url: p.image, altText: p.title, width: 1200, height: 1200 };
}

function productMediaNode(p: SimProduct) {
  if (!p.image) return null;
  const image = productImage(p);
  return {
    __typename: 'MediaImage',
    id: gid('MediaImage', derivedId('image', p.id)),
    alt: p.title,
    mediaContentType: 'IMAGE',
    status: 'READY',
    mediaErrors: [],
    mediaWarnings: [],
    image,
    preview: { __typename: 'MediaPreviewImage', image, status: 'READY' },
  };
}

function variantNode(p: SimProduct, v: SimVariant, position: number) {
  return {
    __typename: 'ProductVariant',
    id: gid('ProductVariant', v.id),
    legacyResourceId: String(v.id),
    title: v.title,
    displayName: `${p.title} - ${v.title}`,
    price: v.price,
    sku: v.sku,
    position,
    inventoryQuantity: v.inventoryQuantity,
    inventoryItem: { __typename: 'InventoryItem', id: gid('InventoryItem', v.inventoryItemId), legacyResourceId: String(v.inventoryItemId), tracked: true, sku: v.sku },
    product: { __typename: 'Product', id: gid('Product', p.id) },
  };
}

function productNode(p: SimProduct) {
  return {
    __typename: 'Product',
    id: gid('Product', p.id),
    legacyResourceId: String(p.id),
    title: p.title,
    handle: p.handle,
    status: p.status,
    productType: p.productType,
    vendor: p.vendor,
    tags: p.tags,
    description: p.description ?? '',
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
    totalInventory: p.variants.reduce((a, v) => a + v.inventoryQuantity, 0),
    featuredMedia: productMediaNode(p),
    variants: (args: PageArgs, ctx: ExecContext) => paginate(p.variants, args, ctx, (v) => variantNode(p, v, p.variants.indexOf(v) + 1)),
  };
}

const PRODUCT_SORTERS: Record<string, (p: SimProduct) => number> = {
  ID: (p) => p.id,
  CREATED_AT: (p) => Date.parse(p.createdAt),
  UPDATED_AT: (p) => Date.parse(p.updatedAt),
  INVENTORY_TOTAL: (p) => p.variants.reduce((a, v) => a + v.inventoryQuantity, 0),
};

function bulkOperationNode(op: SimBulkOperation) {
  return {
    __typename: 'BulkOperation',
    id: op.gid,
    status: op.status,
    errorCode: op.errorCode,
    type: 'QUERY',
    query: op.query,
    createdAt: op.createdAt,
    completedAt: op.completedAt,
    objectCount: String(op.objectCount),
    rootObjectCount: String(op.rootObjectCount),
    fileSize: op.fileSize === null ? null : String(op.fileSize),
    url: op.url,
    partialDataUrl: null,
  };
}

const digest = (value: string): string => createHash('sha256').update(value).digest('hex');

function metafieldNode(m: SimMetafield) {
  return {
    __typename: 'Metafield',
    id: gid('Metafield', m.id),
    legacyResourceId: String(m.id),
    namespace: m.namespace,
    key: m.key,
    value: m.value,
    type: m.type,
    ownerType: m.ownerType,
    createdAt: m.createdAt,
    updatedAt: m.updatedAt,
    compareDigest: digest(m.value),
    jsonValue: () => (m.type === 'json' || m.type.startsWith('list.') ? JSON.parse(m.value) : m.value),
    owner: { __typename: m.ownerType === 'CUSTOMER' ? 'Customer' : m.ownerType === 'PRODUCT' ? 'Product' : 'Order', id: m.ownerId },
  };
}

function definitionNode(d: SimMetafieldDefinition) {
  return {
    __typename: 'MetafieldDefinition',
    id: gid('MetafieldDefinition', d.id),
    name: d.name,
    namespace: d.namespace,
    key: d.key,
    ownerType: d.ownerType,
    description: d.description,
    type: { name: d.type, category: d.type.replace(/^list\./, '').split('_')[0]!.toUpperCase() },
    pinnedPosition: null,
  };
}

// ---- Queries ----

const SORTERS: Record<string, (o: SimOrder) => number> = {
  CREATED_AT: (o) => Date.parse(o.createdAt),
  UPDATED_AT: (o) => Date.parse(o.updatedAt),
  PROCESSED_AT: (o) => Date.parse(o.processedAt),
  ORDER_NUMBER: (o) => o.orderNumber,
  TOTAL_PRICE: orderTotal,
  ID: (o) => o.id,
};

function sortedOrders(s: ShopState, args: { query?: string | null; sortKey?: string; reverse?: boolean }): { list: SimOrder[]; sort: SortSpec<SimOrder> } {
  const key = SORTERS[args.sortKey ?? 'PROCESSED_AT'] ?? SORTERS.ID!;
  const filter = orderFilter(args.query);
  const list = s.store.orders.filter(filter).sort((a, b) => key(a) - key(b) || a.id - b.id);
  return { list: args.reverse ? list.reverse() : list, sort: { key, reverse: args.reverse === true } };
}

function findCustomer(s: ShopState, id: number): SimCustomer | undefined {
  return s.store.customers.find((c) => c.id === id);
}

export const queryRoot = {
  products: (args: PageArgs & { query?: string | null; sortKey?: string; reverse?: boolean }, ctx: ExecContext) => {
    // Shopify's default sort is ID; keys the simulator does not model (TITLE, VENDOR, …) sort by id too.
    const key = PRODUCT_SORTERS[args.sortKey ?? 'ID'] ?? PRODUCT_SORTERS.ID!;
    const filter = productFilter(args.query);
    const list = ctx.state.store.products.filter(filter).sort((a, b) => key(a) - key(b) || a.id - b.id);
    return paginate(args.reverse ? list.reverse() : list, args, ctx, productNode, { key, reverse: args.reverse === true });
  },
  orders: (args: PageArgs & { query?: string | null; sortKey?: string; reverse?: boolean }, ctx: ExecContext) => {
    const { list, sort } = sortedOrders(ctx.state, args);
    return paginate(list, args, ctx, (o) => orderNode(ctx.state, o), sort);
  },
  order: ({ id }: { id: string }, ctx: ExecContext) => {
    const g = parseGid(id);
    const o = g?.type === 'Order' ? ctx.state.store.orders.find((x) => x.id === g.id) : undefined;
    return o ? orderNode(ctx.state, o) : null;
  },
  customer: ({ id }: { id: string }, ctx: ExecContext) => {
    const g = parseGid(id);
    const c = g?.type === 'Customer' ? findCustomer(ctx.state, g.id) : undefined;
    return c ? customerNode(ctx.state, c) : null;
  },
  bulkOperation: ({ id }: { id: string }, ctx: ExecContext) => {
    const op = ctx.state.bulkOperations.get(id);
    return op ? bulkOperationNode(op) : null;
  },
  currentAppInstallation: (_: unknown, ctx: ExecContext) => ({
    __typename: 'AppInstallation',
    id: ctx.state.appInstallationId,
    accessScopes: ctx.scopes.map((handle) => ({ handle, description: handle })),
  }),
};

// ---- Mutations ----

function splitTags(tags: string[]): string[] {
  return tags.flatMap((t) => t.split(',')).map((t) => t.trim()).filter((t) => t.length > 0);
}

function taggable(ctx: ExecContext, id: string): { tags: Map<number, string[]>; num: number; type: string; initial: string[] } | UserErr {
  const g = parseGid(id);
  if (g?.type === 'Customer') {
    const c = findCustomer(ctx.state, g.id);
    if (!c) return { field: ['id'], message: 'Customer does not exist' };
    return { tags: ctx.state.customerTags, num: g.id, type: 'Customer', initial: c.tags };
  }
  if (g?.type === 'Order') {
    if (!ctx.state.store.orders.some((o) => o.id === g.id)) return { field: ['id'], message: 'Order does not exist' };
    return { tags: ctx.state.orderTags, num: g.id, type: 'Order', initial: ctx.state.store.orders.find((o) => o.id === g.id)?.tags ?? [] };
  }
  return { field: ['id'], message: `The id ${id} is not a taggable resource supported by the simulator (Customer, Order)` };
}

function changeTags(ctx: ExecContext, id: string, tags: string[], add: boolean) {
  const t = taggable(ctx, id);
  if ('message' in t) return { node: null, userErrors: [t] };
  const current = [...(t.tags.get(t.num) ?? t.initial)];
  const lower = (x: string) => x.toLowerCase(); // Shopify tags are case-insensitive
  for (const tag of splitTags(tags)) {
    const i = current.findIndex((c) => lower(c) === lower(tag));
    if (add && i < 0) current.push(tag);
    if (!add && i >= 0) current.splice(i, 1);
  }
  t.tags.set(t.num, current);
  return { node: { __typename: t.type, id }, userErrors: [] };
}

function resolveNamespace(ns: string | null, ctx: ExecContext): string {
  if (ns === null || ns === '') return `app--${ctx.appId}`;
  if (ns === '$app') return `app--${ctx.appId}`;
  if (ns.startsWith('$app:')) return `app--${ctx.appId}--${ns.slice(5)}`;
  return ns;
}

const OWNER_TYPES: Record<string, string> = { Customer: 'CUSTOMER', Product: 'PRODUCT', Order: 'ORDER', AppInstallation: 'API_PERMISSION', Shop: 'SHOP' };

function ownerExists(ctx: ExecContext, g: { type: string; id: number }): boolean {
  const s = ctx.state.store;
  switch (g.type) {
    case 'Customer': return s.customers.some((c) => c.id === g.id);
    case 'Product': return s.products.some((p) => p.id === g.id);
    case 'Order': return s.orders.some((o) => o.id === g.id);
    case 'AppInstallation': return gid('AppInstallation', g.id) === ctx.state.appInstallationId;
    default: return false;
  }
}

function valueError(type: string, value: string): string | null {
  try {
    if (type === 'number_integer') return /^-?\d+$/.test(value) ? null : 'Value must be an integer.';
    if (type === 'number_decimal') return Number.isFinite(Number(value)) && value.trim() !== '' ? null : 'Value must be a decimal.';
    if (type === 'boolean') return value === 'true' || value === 'false' ? null : 'Value must be true or false.';
    if (type === 'json') return (JSON.parse(value), null);
    if (type.startsWith('list.')) return Array.isArray(JSON.parse(value)) ? null : 'Value must be a JSON array.';
    if (type === 'single_line_text_field') return value.includes('\n') ? 'Value must be a single line.' : null;
    return null;
  } catch {
    return 'Value is invalid JSON.';
  }
}

interface MetafieldsSetInput {
  ownerId: string;
  namespace?: string | null;
  key: string;
  value: string;
  type?: string | null;
  compareDigest?: string | null;
}

function metafieldsSet({ metafields }: { metafields: MetafieldsSetInput[] }, ctx: ExecContext) {
  const s = ctx.state;
  const errors: UserErr[] = [];
  if (metafields.length > 25) {
    return { metafields: null, userErrors: [{ field: ['metafields'], message: 'Exceeded the maximum metafields input limit of 25.', code: 'LESS_THAN_OR_EQUAL_TO', elementIndex: null }] };
  }
  const planned: { input: MetafieldsSetInput; ns: string; type: string; ownerType: string; existing: SimMetafield | undefined }[] = [];
  metafields.forEach((input, i) => {
    const err = (field: string, message: string, code: string) => errors.push({ field: ['metafields', String(i), field], message, code, elementIndex: i });
    const g = parseGid(input.ownerId);
    if (!g || !OWNER_TYPES[g.type] || !ownerExists(ctx, g)) return err('ownerId', 'Owner does not exist.', 'INVALID');
    const ownerType = OWNER_TYPES[g.type]!;
    if (input.key.length < 2) return err('key', 'Key is too short (minimum is 2 characters).', 'TOO_SHORT');
    if (input.key.length > 64) return err('key', 'Key is too long (maximum is 64 characters).', 'TOO_LONG');
    if (input.namespace != null && !input.namespace.startsWith('$app') && input.namespace.length < 3) return err('namespace', 'Namespace is too short (minimum is 3 characters).', 'TOO_SHORT');
    const ns = resolveNamespace(input.namespace ?? null, ctx);
    const def = s.metafieldDefinitions.find((d) => d.ownerType === ownerType && d.namespace === ns && d.key === input.key);
    const existing = s.metafields.find((m) => m.ownerId === input.ownerId && m.namespace === ns && m.key === input.key);
    const type = input.type ?? def?.type ?? existing?.type;
    if (!type) return err('type', "Type can't be blank.", 'BLANK');
    if (def && input.type && input.type !== def.type) return err('type', `Type must be ${def.type} to match the definition.`, 'INVALID_TYPE');
    const bad = valueError(type, input.value);
    if (bad) return err('value', bad, 'INVALID_VALUE');
    if (input.compareDigest != null && (existing ? digest(existing.value) : null) !== input.compareDigest) {
      return err('compareDigest', 'The resource has been updated since it was loaded.', 'STALE_OBJECT');
    }
    planned.push({ input, ns, type, ownerType, existing });
  });
  // All or nothing, as at Shopify.
  if (errors.length > 0) return { metafields: null, userErrors: errors };
  const at = iso(ctx.now());
  const out = planned.map(({ input, ns, type, ownerType, existing }) => {
    if (existing) {
      existing.value = input.value;
      existing.type = type;
      existing.updatedAt = at;
      return metafieldNode(existing);
    }
    const m: SimMetafield = { id: ctx.nextId(), ownerId: input.ownerId, ownerType, namespace: ns, key: input.key, value: input.value, type, createdAt: at, updatedAt: at };
    s.metafields.push(m);
    return metafieldNode(m);
  });
  return { metafields: out, userErrors: [] };
}

interface DefinitionInput {
  name: string;
  namespace?: string | null;
  key: string;
  type: string;
  ownerType: string;
  description?: string | null;
}

function metafieldDefinitionCreate({ definition }: { definition: DefinitionInput }, ctx: ExecContext) {
  const ns = resolveNamespace(definition.namespace ?? null, ctx);
  const fail = (field: string, message: string, code: string) => ({ createdDefinition: null, userErrors: [{ field: ['definition', field], message, code }] });
  if (!definition.name.trim()) return fail('name', "Name can't be blank.", 'BLANK');
  if (definition.key.length < 2) return fail('key', 'Key is too short (minimum is 2 characters).', 'TOO_SHORT');
  if (definition.key.length > 64) return fail('key', 'Key is too long (maximum is 64 characters).', 'TOO_LONG');
  if (ctx.state.metafieldDefinitions.some((d) => d.ownerType === definition.ownerType && d.namespace === ns && d.key === definition.key)) {
    return fail('key', 'Key is in use for this namespace and owner type.', 'TAKEN');
  }
  const d: SimMetafieldDefinition = {
    id: ctx.nextId(),
    name: definition.name,
    namespace: ns,
    key: definition.key,
    type: definition.type,
    ownerType: definition.ownerType,
    description: definition.description ?? null,
    createdAt: iso(ctx.now()),
  };
  ctx.state.metafieldDefinitions.push(d);
  return { createdDefinition: definitionNode(d), userErrors: [] };
}

const FLOW_PAYLOAD_LIMIT = 50_000;

const REFERENCE_OBJECTS: Record<string, (ctx: ExecContext, id: number) => boolean> = {
  customer: (ctx, id) => ctx.state.store.customers.some((c) => c.id === id),
  product: (ctx, id) => ctx.state.store.products.some((p) => p.id === id),
  order: (ctx, id) => ctx.state.store.orders.some((o) => o.id === id),
};

/**
 * A payload against the deployed trigger definition (an approximation of Flow's own check; its
 * messages are not reproduced verbatim): every field present, no unknown property, reference ids
 * numeric and naming an existing object, number_decimal a number, text a single-line string.
 */
function flowPayloadProblems(def: SimFlowTrigger, payload: unknown, ctx: ExecContext): string[] {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload)) return ['Payload must be a JSON object.'];
  const p = payload as Record<string, unknown>;
  const problems: string[] = [];
  const expected = new Set<string>();
  for (const f of def.fields) {
    const ref = /^(\w+)_reference$/.exec(f.type)?.[1];
    const key = ref ? `${ref}_id` : f.key!;
    expected.add(key);
    if (!(key in p)) {
      problems.push(`Missing required property: ${key}`);
      continue;
    }
    const v = p[key];
    if (ref) {
      const id = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
      if (!Number.isSafeInteger(id) || id <= 0) problems.push(`Property ${key} must be a numeric id`);
      else if (REFERENCE_OBJECTS[ref] && !REFERENCE_OBJECTS[ref](ctx, id)) problems.push(`Property ${key}: ${ref} ${id} does not exist`);
    } else if (f.type === 'number_decimal') {
      if (typeof v !== 'number' || !Number.isFinite(v)) problems.push(`Property '${key}' must be a number_decimal`);
    } else if (f.type === 'boolean') {
      if (typeof v !== 'boolean') problems.push(`Property '${key}' must be a boolean`);
    } else if (typeof v !== 'string' || (f.type === 'single_line_text_field' && /[\r\n]/.test(v))) {
      problems.push(`Property '${key}' must be a ${f.type}`);
    }
  }
  for (const k of Object.keys(p)) if (!expected.has(k)) problems.push(`Unknown property: ${k}`);
  return problems;
}

function flowTriggerReceive(args: { handle?: string | null; payload?: unknown; body?: string | null }, ctx: ExecContext) {
  const handle = args.handle ?? null;
  if (!handle && !args.body) return { userErrors: [{ field: ['handle'], message: 'Handle is required.' }] };
  if (handle && ctx.flowTriggerHandles && !ctx.flowTriggerHandles.includes(handle)) {
    return { userErrors: [{ field: ['handle'], message: `Invalid handle: no trigger extension with handle '${handle}'.` }] };
  }
  const size = Buffer.byteLength(JSON.stringify(args.payload ?? args.body ?? null));
  if (size > FLOW_PAYLOAD_LIMIT) {
    return { userErrors: [{ field: ['payload'], message: `Errors validating schema: Properties size exceeds the limit of ${FLOW_PAYLOAD_LIMIT} bytes.` }] };
  }
  const def = handle ? ctx.flowTriggers?.get(handle) : undefined;
  if (handle && ctx.flowTriggers && !def) return { userErrors: [{ field: ['handle'], message: `Invalid handle: no trigger extension with handle '${handle}'.` }] };
  if (def) {
    const problems = flowPayloadProblems(def, args.payload, ctx);
    if (problems.length > 0) return { userErrors: [{ field: ['payload'], message: `Errors validating schema:\n${problems.map((p) => `  ${p}`).join('\n')}` }] };
  }
  ctx.state.flowTriggers.push({ handle, payload: args.payload ?? null, body: args.body ?? null, at: iso(ctx.now()) });
  return { userErrors: [] };
}

export const mutationRoot = {
  bulkOperationRunQuery: ({ query, groupObjects }: { query: string; groupObjects: boolean }, ctx: ExecContext) => {
    const r = ctx.runBulkQuery(ctx.state, query, groupObjects);
    return { bulkOperation: r.bulkOperation ? bulkOperationNode(r.bulkOperation) : null, userErrors: r.userErrors };
  },
  tagsAdd: ({ id, tags }: { id: string; tags: string[] }, ctx: ExecContext) => changeTags(ctx, id, tags, true),
  tagsRemove: ({ id, tags }: { id: string; tags: string[] }, ctx: ExecContext) => changeTags(ctx, id, tags, false),
  metafieldsSet,
  metafieldDefinitionCreate,
  flowTriggerReceive,
};
