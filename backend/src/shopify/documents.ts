// Every Admin GraphQL document shopml sends, in one place, so one test can validate them all
// against the real 2026-07 schema (no deprecated fields, no protected customer fields).
// Customer data is selected by id only: names, emails, phones and addresses are protected and
// shopml never needs them.

/** Order fields the ML pipeline uses. `$lineItemsFirst` is a variable because Shopify multiplies
 * nested connection sizes into the query cost (single-query limit 1000): a page of N orders with
 * 100 line items each costs about N × 500, so pages of many orders need a smaller line count. */
const ORDER_FIELDS = `
fragment OrderFields on Order {
  id
  name
  createdAt
  updatedAt
  cancelledAt
  displayFinancialStatus
  currencyCode
  test
  totalPriceSet { shopMoney { amount currencyCode } }
  customer { id }
  lineItems(first: $lineItemsFirst) {
    nodes {
      id
      quantity
      sku
      title
      isGiftCard
      product { id }
      variant { id }
      originalUnitPriceSet { shopMoney { amount } }
    }
  }
}`;

export const ORDERS_PAGE = `
query OrdersPage($first: Int!, $after: String, $query: String, $lineItemsFirst: Int = 100) {
  orders(first: $first, after: $after, query: $query, sortKey: CREATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes { ...OrderFields }
  }
}
${ORDER_FIELDS}`;

export const ORDER_BY_ID = `
query OrderById($id: ID!, $lineItemsFirst: Int = 100) {
  order(id: $id) { ...OrderFields }
}
${ORDER_FIELDS}`;

/** Line items of one order page by page: for an order with more lines than ORDER_BY_ID fetched. */
export const ORDER_LINE_ITEMS_PAGE = `
query OrderLineItemsPage($id: ID!, $first: Int!, $after: String) {
  order(id: $id) {
    id
    lineItems(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      nodes {
        id
        quantity
        sku
        title
        isGiftCard
        product { id }
        variant { id }
        originalUnitPriceSet { shopMoney { amount } }
      }
    }
  }
}`;

/** The bulk query body for `bulkOperationRunQuery`: a connection of connections; bulk queries
 * take no `first` (the whole result set is exported). `search` is Shopify search syntax, e.g.
 * `updated_at:>=2026-01-01`. */
export function bulkOrdersQuery(search?: string): string {
  const args = search ? `(query: ${JSON.stringify(search)}, sortKey: CREATED_AT)` : '(sortKey: CREATED_AT)';
  return `{
  orders${args} {
    edges {
      node {
        id
        name
        createdAt
        updatedAt
        cancelledAt
        displayFinancialStatus
        currencyCode
        test
        totalPriceSet { shopMoney { amount currencyCode } }
        customer { id }
        lineItems {
          edges {
            node {
              id
              quantity
              sku
              title
              isGiftCard
              product { id }
              variant { id }
              originalUnitPriceSet { shopMoney { amount } }
            }
          }
        }
      }
    }
  }
}`;
}

export const BULK_ORDERS_QUERY = bulkOrdersQuery();

/** The bulk query body for the product catalog: products with their variants (a connection of
 * connections, like the orders one). The image is the featured media's (`featuredImage` and
 * `images` are deprecated in 2026-07): a MediaImage's own image, else the preview image other
 * media (video, 3D model) carry. `inventoryQuantity` is the variant's total over all locations;
 * `tracked` tells whether Shopify counts it at all (an untracked variant is always purchasable). */
export function bulkProductsQuery(search?: string): string {
  const args = search ? `(query: ${JSON.stringify(search)}, sortKey: ID)` : '(sortKey: ID)';
  return `{
  products${args} {
    edges {
      node {
        id
        title
        handle
        status
        productType
        vendor
        tags
        createdAt
        updatedAt
        featuredMedia {
          alt
          preview { image { url altText } }
          ... on MediaImage { image { url altText } }
        }
        variants {
          edges {
            node {
              id
              title
              price
              sku
              inventoryQuantity
              inventoryItem { id tracked }
            }
          }
        }
      }
    }
  }
}`;
}

export const BULK_PRODUCTS_QUERY = bulkProductsQuery();

// groupObjects: false is the 2026-07 default; spelled out because it was `true` before 2026-01
// and the JSONL reader depends on the ungrouped `__parentId` layout.
export const BULK_RUN = `
mutation BulkRun($query: String!) {
  bulkOperationRunQuery(query: $query, groupObjects: false) {
    bulkOperation { id status createdAt }
    userErrors { field message code }
  }
}`;

export const BULK_POLL = `
query BulkPoll($id: ID!) {
  bulkOperation(id: $id) {
    id
    status
    errorCode
    objectCount
    rootObjectCount
    fileSize
    url
    partialDataUrl
    createdAt
    completedAt
  }
}`;

export const TAGS_ADD = `
mutation TagsAdd($id: ID!, $tags: [String!]!) {
  tagsAdd(id: $id, tags: $tags) {
    node { id }
    userErrors { field message }
  }
}`;

export const TAGS_REMOVE = `
mutation TagsRemove($id: ID!, $tags: [String!]!) {
  tagsRemove(id: $id, tags: $tags) {
    node { id }
    userErrors { field message }
  }
}`;

export const METAFIELDS_SET = `
mutation MetafieldsSet($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id namespace key value type updatedAt }
    userErrors { field message code elementIndex }
  }
}`;

export const METAFIELD_DEFINITION_CREATE = `
mutation MetafieldDefinitionCreate($definition: MetafieldDefinitionInput!) {
  metafieldDefinitionCreate(definition: $definition) {
    createdDefinition { id name namespace key ownerType type { name } }
    userErrors { field message code }
  }
}`;

// `handle` + `payload`: the `body` argument is deprecated.
export const FLOW_TRIGGER_RECEIVE = `
mutation FlowTriggerReceive($handle: String!, $payload: JSON!) {
  flowTriggerReceive(handle: $handle, payload: $payload) {
    userErrors { field message }
  }
}`;

export const CURRENT_APP_INSTALLATION = `
query CurrentAppInstallation {
  currentAppInstallation {
    id
    accessScopes { handle }
  }
}`;

/** Every operation document, by export name (the documents test iterates over this). */
export const ALL_DOCUMENTS: Readonly<Record<string, string>> = {
  ORDERS_PAGE,
  ORDER_BY_ID,
  ORDER_LINE_ITEMS_PAGE,
  BULK_ORDERS_QUERY,
  BULK_PRODUCTS_QUERY,
  BULK_RUN,
  BULK_POLL,
  TAGS_ADD,
  TAGS_REMOVE,
  METAFIELDS_SET,
  METAFIELD_DEFINITION_CREATE,
  FLOW_TRIGGER_RECEIVE,
  CURRENT_APP_INSTALLATION,
};
