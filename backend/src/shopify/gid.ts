// Shopify global ids (gid://shopify/Order/123) <-> the plain numeric strings shopml stores.

const GID = /^gid:\/\/shopify\/([A-Za-z]+)\/(\d+)(?:\?.*)?$/;

export function parseGid(gid: string): { type: string; id: string } | null {
  const m = GID.exec(gid);
  return m ? { type: m[1]!, id: m[2]! } : null;
}

/** Numeric id of a GID; throws on anything else (ids are never guessed). */
export function gidToId(gid: string, expectedType?: string): string {
  const p = parseGid(gid);
  if (!p) throw new Error(`not a Shopify GID: ${JSON.stringify(gid)}`);
  if (expectedType && p.type !== expectedType) throw new Error(`expected a ${expectedType} GID, got ${gid}`);
  return p.id;
}

export function toGid(type: string, id: string | number): string {
  return `gid://shopify/${type}/${id}`;
}
