// shopml's Flow actions, defined once: fields (→ extension toml and the request's payload
// schema), the return type of "Score customer" (→ schema.graphql + return_type_ref), and the
// handler that runs the action (backend/src/flow/action-handlers.ts).
import {
  scoreCustomerAction,
  sendOrderAction,
  tagCustomerAction,
  type ScoreCustomerProps,
  type SendOrderProps,
  type TagCustomerProps,
} from '../backend/src/flow/action-handlers.ts';
import type { FlowActionDefinition } from './types.ts';

export const TAG_CUSTOMER: FlowActionDefinition<TagCustomerProps> = {
  kind: 'action',
  handle: 'tag-customer-ml-segment',
  name: 'Tag customer with ML segment',
  description: "Tags the customer with their shopml segment (e.g. shopml:champions), replacing the segment tag shopml set before. The customer's other tags are never touched.",
  fields: [
    { type: 'customer_reference', required: true, description: 'The customer to tag' },
    {
      type: 'single_line_text_field',
      key: 'tag_prefix',
      name: 'Tag prefix',
      description: 'Put before the segment name instead of shopml: (e.g. vip- gives vip-champions). Leave empty for shopml:',
      required: false,
    },
  ],
  handler: tagCustomerAction,
};

export const SCORE_CUSTOMER: FlowActionDefinition<ScoreCustomerProps> = {
  kind: 'action',
  handle: 'score-customer',
  name: 'Score customer',
  description: "Returns the customer's shopml segment, churn risk and predicted value for later steps of the workflow.",
  fields: [{ type: 'customer_reference', required: true, description: 'The customer to score' }],
  returns: {
    name: 'CustomerScore',
    description: "What shopml's current models say about the customer",
    fields: [
      { name: 'segment', type: 'String', description: 'Segment name, e.g. Champions or At risk (empty when the customer has no segment yet)' },
      { name: 'segmentTag', type: 'String', description: 'The segment as a customer tag, e.g. shopml:champions' },
      { name: 'churnRisk', type: 'Float', description: 'Probability from 0 to 1 that the customer places no order within the churn horizon' },
      { name: 'predictedValue', type: 'Float', description: 'Predicted spend within the churn horizon, in the store currency' },
      { name: 'scored', type: 'Boolean!', description: 'Whether shopml has scored this customer (false: not enough history yet)' },
    ],
  },
  handler: scoreCustomerAction,
};

export const SEND_ORDER: FlowActionDefinition<SendOrderProps> = {
  kind: 'action',
  handle: 'send-order-to-shopml',
  name: 'Send order to shopml',
  description: 'Sends the order to shopml: it is fetched from Shopify and recorded like an order webhook, for orders shopml would not otherwise see.',
  fields: [{ type: 'order_reference', required: true, description: 'The order to send' }],
  handler: sendOrderAction,
};

// Each definition keeps its own props type; the list erases it (handlers are called with what
// the definition's own payload schema parsed).
export const FLOW_ACTIONS: readonly FlowActionDefinition<never>[] = [
  TAG_CUSTOMER as unknown as FlowActionDefinition<never>,
  SCORE_CUSTOMER as unknown as FlowActionDefinition<never>,
  SEND_ORDER as unknown as FlowActionDefinition<never>,
];
