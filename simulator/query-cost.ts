// Approximates Shopify's requested query cost, which the leaky bucket charges:
// scalars and enums 0, objects 1, connections 2 + (first|last) × cost of one node,
// mutations 10 per root field. Nested connections multiply, as at Shopify.
import {
  type DocumentNode,
  type FieldNode,
  type FragmentDefinitionNode,
  type GraphQLCompositeType,
  type GraphQLFieldMap,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  getArgumentValues,
  getNamedType,
  isCompositeType,
  isInterfaceType,
  isLeafType,
  isObjectType,
  Kind,
} from 'graphql';

export const MUTATION_COST = 10;
export const MAX_QUERY_COST = 1000;

function fieldsOf(type: GraphQLCompositeType): GraphQLFieldMap<unknown, unknown> {
  return isObjectType(type) || isInterfaceType(type) ? type.getFields() : {};
}

/** Connection types: `XConnection` with nodes/edges and pageInfo. */
function isConnection(type: GraphQLCompositeType): boolean {
  if (!isObjectType(type) || !type.name.endsWith('Connection')) return false;
  const f = type.getFields();
  return 'pageInfo' in f && ('edges' in f || 'nodes' in f);
}

interface Ctx {
  schema: GraphQLSchema;
  fragments: Map<string, FragmentDefinitionNode>;
  variables: Record<string, unknown>;
}

function fieldArgs(ctx: Ctx, parent: GraphQLCompositeType, node: FieldNode): Record<string, unknown> {
  const def = fieldsOf(parent)[node.name.value];
  if (!def) return {};
  try {
    return getArgumentValues(def, node, ctx.variables);
  } catch {
    return {}; // invalid arguments are reported by execution, not here
  }
}

/** Cost of one element of a connection: its node object plus the node's selection. */
function connectionNodeCost(ctx: Ctx, conn: GraphQLCompositeType, set: SelectionSetNode | undefined): number {
  let best = 0;
  const fields = fieldsOf(conn);
  forEachField(ctx, conn, set, (f) => {
    const name = f.name.value;
    if (name === 'nodes') {
      const nodeType = getNamedType(fields.nodes!.type) as GraphQLCompositeType;
      best = Math.max(best, 1 + selectionCost(ctx, nodeType, f.selectionSet));
    } else if (name === 'edges') {
      const edgeType = getNamedType(fields.edges!.type) as GraphQLCompositeType;
      const nodeType = getNamedType(fieldsOf(edgeType).node!.type) as GraphQLCompositeType;
      forEachField(ctx, edgeType, f.selectionSet, (e) => {
        if (e.name.value === 'node') best = Math.max(best, 1 + selectionCost(ctx, nodeType, e.selectionSet));
      });
    }
  });
  return best;
}

function forEachField(ctx: Ctx, type: GraphQLCompositeType, set: SelectionSetNode | undefined, fn: (f: FieldNode, t: GraphQLCompositeType) => void): void {
  for (const sel of set?.selections ?? []) {
    if (sel.kind === Kind.FIELD) fn(sel, type);
    else if (sel.kind === Kind.INLINE_FRAGMENT) {
      const t = sel.typeCondition ? (ctx.schema.getType(sel.typeCondition.name.value) as GraphQLCompositeType) : type;
      forEachField(ctx, t ?? type, sel.selectionSet, fn);
    } else {
      const frag = ctx.fragments.get(sel.name.value);
      if (frag) forEachField(ctx, (ctx.schema.getType(frag.typeCondition.name.value) as GraphQLCompositeType) ?? type, frag.selectionSet, fn);
    }
  }
}

function selectionCost(ctx: Ctx, type: GraphQLCompositeType, set: SelectionSetNode | undefined): number {
  let cost = 0;
  forEachField(ctx, type, set, (f, parent) => {
    cost += fieldCost(ctx, parent, f);
  });
  return cost;
}

function fieldCost(ctx: Ctx, parent: GraphQLCompositeType, node: FieldNode): number {
  if (node.name.value.startsWith('__')) return 0;
  const def = fieldsOf(parent)[node.name.value];
  if (!def) return 0;
  const named = getNamedType(def.type);
  if (isLeafType(named) || !isCompositeType(named)) return 0;
  if (isConnection(named)) {
    const args = fieldArgs(ctx, parent, node);
    const size = typeof args.first === 'number' ? args.first : typeof args.last === 'number' ? args.last : 1;
    return 2 + size * connectionNodeCost(ctx, named, node.selectionSet);
  }
  return 1 + selectionCost(ctx, named, node.selectionSet);
}

/** Requested cost of `operation` (variables already coerced). */
export function queryCost(schema: GraphQLSchema, doc: DocumentNode, operation: OperationDefinitionNode, variables: Record<string, unknown>): number {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of doc.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  const ctx: Ctx = { schema, fragments, variables };
  if (operation.operation === 'mutation') {
    let n = 0;
    forEachField(ctx, schema.getMutationType()!, operation.selectionSet, (f) => {
      if (!f.name.value.startsWith('__')) n++;
    });
    return n * MUTATION_COST;
  }
  const root = schema.getQueryType()!;
  return selectionCost(ctx, root, operation.selectionSet);
}
