// The shapes of shopml's Shopify Flow definitions. Each trigger and action is written once, as
// data of these types (flow-actions/triggers.ts, flow-actions/actions.ts); the extension tomls in
// extensions/ are generated from them (scripts/gen-flow-extensions.ts) and the backend validates
// payloads against the same data, so the code and what Shopify knows cannot drift apart.
import type { FlowActionContext } from '../backend/src/flow/routes.ts';

/** Commerce-object fields: no key or name in the toml; the payload names them `<object>_id`. */
export type ReferenceFieldType = 'customer_reference' | 'order_reference' | 'product_reference';

/** Field types Flow accepts on triggers (Shopify CLI 4.x: flow/constants, serialize-fields). */
export type TriggerValueType = 'single_line_text_field' | 'number_decimal' | 'boolean' | 'email' | 'url';

/** Field types Flow accepts on actions. */
export type ActionValueType = TriggerValueType | 'multi_line_text_field' | 'number_integer';

export interface ReferenceField {
  type: ReferenceFieldType;
  description?: string;
  /** Actions only. */
  required?: boolean;
}

export interface TriggerValueField {
  type: TriggerValueType;
  /** Letters and spaces only: it is the label in the Flow editor and the payload key. */
  key: string;
  description?: string;
}

export interface ActionValueField {
  type: ActionValueType;
  /** Payload property name. */
  key: string;
  /** Label in the Flow editor. */
  name: string;
  description?: string;
  required?: boolean;
}

export type TriggerField = ReferenceField | TriggerValueField;
export type ActionField = ReferenceField | ActionValueField;

export interface FlowTriggerDefinition {
  kind: 'trigger';
  /** Extension handle: [a-z0-9-], at most 30 characters (Flow's limit; the CLI allows 50). */
  handle: string;
  /** Merchant-facing title. */
  name: string;
  description: string;
  /** When shopml fires it (documentation; rendered into docs/flow.md by hand). */
  firesWhen: string;
  fields: readonly TriggerField[];
}

/** One field of an action's return type (rendered as GraphQL SDL in the extension's schema file). */
export interface ReturnField {
  name: string;
  /** GraphQL type: String, Float, Int, Boolean, ID; `!` for non-null. */
  type: 'String' | 'String!' | 'Float' | 'Float!' | 'Int' | 'Int!' | 'Boolean' | 'Boolean!' | 'ID' | 'ID!';
  description: string;
}

export interface ReturnType {
  /** The type name `return_type_ref` points at. */
  name: string;
  description: string;
  fields: readonly ReturnField[];
}

export interface FlowActionDefinition<Props = Record<string, unknown>> {
  kind: 'action';
  /** Extension handle and the last segment of the runtime URL `/flow/actions/<handle>`. */
  handle: string;
  name: string;
  description: string;
  fields: readonly ActionField[];
  /** Actions that return data to the workflow ("Score customer"). */
  returns?: ReturnType;
  /**
   * The code that runs the action (backend/src/flow/action-handlers.ts), given the properties
   * parsed by the payload schema generated from `fields` (reference ids as numeric strings).
   * Must answer well inside Flow's 10 s: slow work is enqueued as a job.
   */
  handler: (props: Props, ctx: FlowActionContext) => Promise<{ returnValue?: unknown }>;
}

/** The trigger lifecycle callback extension (one per app). */
export interface FlowLifecycleDefinition {
  kind: 'lifecycle';
  handle: string;
  name: string;
  /** Relative to application_url (Flow resolves it at deploy, as for action runtime URLs). */
  url: string;
}
