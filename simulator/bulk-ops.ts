// Bulk query operations: checks the inner query like Shopify (valid, a query, 1–5 connections,
// nesting depth ≤ 2, parents of nested connections select `id`), executes it with connections
// unpaginated, and writes the JSONL layout of `groupObjects: false`: each node of a nested
// connection is its own line with `__parentId`, after its parent.
import {
  type DocumentNode,
  type FieldNode,
  type GraphQLCompositeType,
  type GraphQLFieldMap,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  execute,
  getNamedType,
  isInterfaceType,
  isObjectType,
  Kind,
  parse,
  validate,
} from 'graphql';
import type { ExecContext, UserErr } from './graphql-exec.ts';

function fieldsOf(type: GraphQLCompositeType): GraphQLFieldMap<unknown, unknown> {
  return isObjectType(type) || isInterfaceType(type) ? type.getFields() : {};
}

function isConnection(type: unknown): type is GraphQLCompositeType {
  if (!isObjectType(type) || !type.name.endsWith('Connection')) return false;
  const f = type.getFields();
  return 'pageInfo' in f && ('edges' in f || 'nodes' in f);
}

/** Fields of a selection set, with fragments inlined. */
function fieldsIn(doc: DocumentNode, set: SelectionSetNode | undefined): FieldNode[] {
  const out: FieldNode[] = [];
  for (const sel of set?.selections ?? []) {
    if (sel.kind === Kind.FIELD) out.push(sel);
    else if (sel.kind === Kind.INLINE_FRAGMENT) out.push(...fieldsIn(doc, sel.selectionSet));
    else {
      const frag = doc.definitions.find((d) => d.kind === Kind.FRAGMENT_DEFINITION && d.name.value === sel.name.value);
      if (frag && frag.kind === Kind.FRAGMENT_DEFINITION) out.push(...fieldsIn(doc, frag.selectionSet));
    }
  }
  return out;
}

/** The node type and node selection of a connection field (via `nodes` or `edges.node`). */
function connectionNode(doc: DocumentNode, conn: GraphQLCompositeType, field: FieldNode): { type: GraphQLCompositeType; set: SelectionSetNode | undefined; via: 'nodes' | 'edges' } | null {
  const fields = fieldsOf(conn);
  for (const f of fieldsIn(doc, field.selectionSet)) {
    if (f.name.value === 'nodes') return { type: getNamedType(fields.nodes!.type) as GraphQLCompositeType, set: f.selectionSet, via: 'nodes' };
    if (f.name.value === 'edges') {
      const edge = getNamedType(fields.edges!.type) as GraphQLCompositeType;
      const node = fieldsIn(doc, f.selectionSet).find((e) => e.name.value === 'node');
      if (node) return { type: getNamedType(fieldsOf(edge).node!.type) as GraphQLCompositeType, set: node.selectionSet, via: 'edges' };
    }
  }
  return null;
}

interface Shape {
  /** Response key → nested connection shape. */
  connections: Map<string, { via: 'nodes' | 'edges'; shape: Shape }>;
}

/** Checks Shopify's bulk query rules and returns the connection shape used to flatten results. */
export function checkBulkQuery(schema: GraphQLSchema, query: string): { doc: DocumentNode; op: OperationDefinitionNode; shape: Shape } | { error: string } {
  let doc: DocumentNode;
  try {
    doc = parse(query);
  } catch (err) {
    return { error: `Invalid bulk query: ${(err as Error).message}` };
  }
  const errs = validate(schema, doc);
  if (errs.length > 0) return { error: `Invalid bulk query: ${errs.map((e) => e.message).join('; ')}` };
  const ops = doc.definitions.filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION);
  if (ops.length !== 1 || ops[0]!.operation !== 'query') return { error: 'Bulk queries must contain exactly one query operation.' };
  const op = ops[0]!;
  let count = 0;
  let error: string | null = null;
  const walk = (type: GraphQLCompositeType, set: SelectionSetNode | undefined, depth: number): Shape => {
    const shape: Shape = { connections: new Map() };
    const fields = fieldsOf(type);
    const selected = fieldsIn(doc, set);
    for (const f of selected) {
      const def = fields[f.name.value];
      if (!def) continue;
      const named = getNamedType(def.type);
      if (isConnection(named)) {
        count++;
        if (depth + 1 > 2) error ??= 'Bulk queries cannot contain connections with a nesting depth greater than 2.';
        if (depth >= 1 && !selected.some((s) => s.name.value === 'id' && !s.alias)) {
          error ??= `The parent of the nested connection '${f.name.value}' must select the id field.`;
        }
        const node = connectionNode(doc, named, f);
        if (!node) {
          error ??= `Connection '${f.name.value}' must select nodes or edges { node }.`;
          continue;
        }
        shape.connections.set(f.alias?.value ?? f.name.value, { via: node.via, shape: walk(node.type, node.set, depth + 1) });
      } else if (isObjectType(named) || isInterfaceType(named)) {
        const inner = walk(named, f.selectionSet, depth);
        // A simulator limit, not necessarily Shopify's: flattening handles connections at the root
        // and directly inside connection nodes only.
        if (inner.connections.size > 0) error ??= 'The shopml simulator supports bulk connections only at the query root or directly inside connection nodes.';
      }
    }
    return shape;
  };
  const shape = walk(schema.getQueryType()!, op.selectionSet, 0);
  if (error) return { error };
  if (count === 0) return { error: 'Bulk queries must contain at least one connection.' };
  if (count > 5) return { error: 'Bulk queries cannot contain more than 5 connections.' };
  return { doc, op, shape };
}

function nodesOf(value: unknown, via: 'nodes' | 'edges'): Record<string, unknown>[] {
  if (!value || typeof value !== 'object') return [];
  if (via === 'nodes') return ((value as { nodes?: Record<string, unknown>[] }).nodes ?? []);
  return ((value as { edges?: { node: Record<string, unknown> }[] }).edges ?? []).map((e) => e.node);
}

/**
 * Flattens an executed bulk result into JSONL objects. `deferChildren` delays each parent's
 * children until after the next parent, imitating ungrouped output where children do not
 * immediately follow their parent.
 */
export function flattenBulkResult(data: Record<string, unknown>, shape: Shape, deferChildren = false): { lines: string[]; roots: number } {
  // One group per root object: its line, then its descendants' lines.
  const group = (obj: Record<string, unknown>, s: Shape, parentId: string | null): string[] => {
    const own: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) if (!s.connections.has(k)) own[k] = v;
    if (parentId) own.__parentId = parentId;
    const out = [JSON.stringify(own)];
    for (const [k, c] of s.connections) for (const child of nodesOf(obj[k], c.via)) out.push(...group(child, c.shape, String(obj.id)));
    return out;
  };
  const lines: string[] = [];
  let roots = 0;
  for (const [key, c] of shape.connections) {
    let previousChildren: string[] = [];
    for (const node of nodesOf(data[key], c.via)) {
      roots++;
      const [root, ...children] = group(node, c.shape, null);
      if (!deferChildren) {
        lines.push(root!, ...children);
        continue;
      }
      lines.push(root!, ...previousChildren);
      previousChildren = children;
    }
    lines.push(...previousChildren);
  }
  return { lines, roots };
}

/** Runs a checked bulk query against the shop (connections return every node). */
export async function executeBulk(
  schema: GraphQLSchema,
  checked: { doc: DocumentNode; shape: Shape },
  rootValue: unknown,
  ctx: ExecContext,
  deferChildren: boolean,
): Promise<{ lines: string[]; roots: number } | { error: string }> {
  const result = await execute({ schema, document: checked.doc, rootValue, contextValue: { ...ctx, bulk: true } });
  if (result.errors?.length) return { error: result.errors.map((e) => e.message).join('; ') };
  return flattenBulkResult((result.data ?? {}) as Record<string, unknown>, checked.shape, deferChildren);
}

export function bulkUserError(message: string, code: 'INVALID' | 'OPERATION_IN_PROGRESS' | 'LIMIT_REACHED'): UserErr {
  return { field: ['query'], message, code };
}
