// What the simulated Admin API remembers per shop beyond the generated store: tags it added or
// removed, metafields, metafield definitions, Flow triggers received and bulk operations. The
// SimStore itself is never mutated (the generator owns it).
import type { LeakyBucket } from './leaky-bucket.ts';
import type { SimStore } from './types.ts';

export interface SimMetafield {
  id: number;
  ownerId: string; // GID
  ownerType: string; // MetafieldOwnerType
  namespace: string;
  key: string;
  value: string;
  type: string;
  createdAt: string;
  updatedAt: string;
}

export interface SimMetafieldDefinition {
  id: number;
  name: string;
  namespace: string;
  key: string;
  type: string;
  ownerType: string;
  description: string | null;
  createdAt: string;
}

export interface FlowTriggerReceived {
  handle: string | null;
  payload: unknown;
  /** Set when the deprecated `body` argument was used instead of handle + payload. */
  body: string | null;
  at: string;
}

export type SimBulkStatus = 'CREATED' | 'RUNNING' | 'COMPLETED' | 'CANCELING' | 'CANCELED' | 'FAILED' | 'EXPIRED';

export interface SimBulkOperation {
  id: number;
  gid: string;
  query: string;
  status: SimBulkStatus;
  errorCode: 'ACCESS_DENIED' | 'INTERNAL_SERVER_ERROR' | 'TIMEOUT' | null;
  createdAt: string;
  completedAt: string | null;
  objectCount: number;
  rootObjectCount: number;
  fileSize: number | null;
  url: string | null;
  /** Where the JSONL lives on disk (null when there are no objects). */
  file: string | null;
}

export interface ShopState {
  shop: string;
  store: SimStore;
  bucket: LeakyBucket;
  customerTags: Map<number, string[]>;
  orderTags: Map<number, string[]>;
  metafields: SimMetafield[];
  metafieldDefinitions: SimMetafieldDefinition[];
  flowTriggers: FlowTriggerReceived[];
  bulkOperations: Map<string, SimBulkOperation>;
  appInstallationId: string;
}
