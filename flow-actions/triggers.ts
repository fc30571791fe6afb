// shopml's Flow triggers, defined once. Payload keys are exactly the field keys below (reference
// fields as `<object>_id`); backend/src/flow/triggers.ts validates every payload against these
// definitions before it calls flowTriggerReceive.
import type { FlowLifecycleDefinition, FlowTriggerDefinition } from './types.ts';

export const CUSTOMER_SEGMENT_CHANGED = {
  kind: 'trigger',
  handle: 'customer-segment-changed',
  name: 'Customer segment changed',
  description: "A customer moved to another shopml segment after a retrain (e.g. from Loyal to At risk).",
  firesWhen: 'After a retrain promotes a new segment model, for each customer whose segment differs from the one shopml last published for them (not on a customer\'s first segment).',
  fields: [
    { type: 'customer_reference' },
    { type: 'single_line_text_field', key: 'Segment', description: 'The new segment, e.g. At risk' },
    { type: 'single_line_text_field', key: 'Previous segment', description: 'The segment before the retrain' },
  ],
} as const satisfies FlowTriggerDefinition;

export const CHURN_RISK_ROSE = {
  kind: 'trigger',
  handle: 'churn-risk-rose',
  name: 'Churn risk rose',
  description: "A customer's predicted churn risk crossed shopml's alert threshold.",
  firesWhen: 'After a retrain, for each customer whose churn risk (0 to 1) rose from below the threshold (default 0.75) to at or above it, compared with the value shopml last published.',
  fields: [
    { type: 'customer_reference' },
    { type: 'number_decimal', key: 'Churn score', description: 'Probability from 0 to 1 that the customer places no order within the model horizon' },
  ],
} as const satisfies FlowTriggerDefinition;

export const STOCK_OUT_PREDICTED = {
  kind: 'trigger',
  handle: 'stock-out-predicted',
  name: 'Stock out predicted',
  description: 'The demand forecast predicts that a product runs out of stock soon.',
  firesWhen: 'After a forecast retrain, for each product predicted to sell out within its lead time plus the review period; once per product and predicted stock-out date.',
  fields: [
    { type: 'product_reference' },
    { type: 'number_decimal', key: 'Days until stock out', description: 'Days from the forecast date until cumulative demand exceeds the stock' },
    { type: 'number_decimal', key: 'Suggested order quantity', description: 'Units to order now to reach the order-up-to level' },
  ],
} as const satisfies FlowTriggerDefinition;

export const MODEL_DRIFT_DETECTED = {
  kind: 'trigger',
  handle: 'model-drift-detected',
  name: 'Model drift detected',
  description: "The data a shopml model sees has drifted from what it was trained on.",
  firesWhen: 'When a drift report finds dataset drift (the share of drifted columns at or above its threshold) for a model; once per report.',
  fields: [
    { type: 'single_line_text_field', key: 'Model', description: 'Model kind: recommend, segment, churn or forecast' },
    { type: 'number_decimal', key: 'Drift share', description: 'Share of the model\'s columns that drifted, from 0 to 1' },
  ],
} as const satisfies FlowTriggerDefinition;

export const FLOW_TRIGGERS: readonly FlowTriggerDefinition[] = [CUSTOMER_SEGMENT_CHANGED, CHURN_RISK_ROSE, STOCK_OUT_PREDICTED, MODEL_DRIFT_DETECTED];

export const TRIGGER_LIFECYCLE = {
  kind: 'lifecycle',
  handle: 'trigger-lifecycle',
  name: 'shopml trigger lifecycle',
  url: '/flow/lifecycle',
} as const satisfies FlowLifecycleDefinition;

export type TriggerHandle =
  | typeof CUSTOMER_SEGMENT_CHANGED.handle
  | typeof CHURN_RISK_ROSE.handle
  | typeof STOCK_OUT_PREDICTED.handle
  | typeof MODEL_DRIFT_DETECTED.handle;
