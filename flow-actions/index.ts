// shopml's Shopify Flow extensions, defined once: triggers, actions, the lifecycle callback.
// `npm run gen:flow` renders them into extensions/flow-*/ (scripts/gen-flow-extensions.ts).
import { FLOW_ACTIONS } from './actions.ts';
import { renderFlowExtensions, type GeneratedFile } from './render.ts';
import { FLOW_TRIGGERS, TRIGGER_LIFECYCLE } from './triggers.ts';

export { FLOW_ACTIONS, SCORE_CUSTOMER, SEND_ORDER, TAG_CUSTOMER } from './actions.ts';
export { FLOW_TRIGGERS, TRIGGER_LIFECYCLE, CUSTOMER_SEGMENT_CHANGED, CHURN_RISK_ROSE, STOCK_OUT_PREDICTED, MODEL_DRIFT_DETECTED } from './triggers.ts';
export type * from './types.ts';

/** The files `npm run gen:flow` writes, from the definitions above (throws FlowDefinitionError on a bad definition). */
export function flowExtensionFiles(): GeneratedFile[] {
  return renderFlowExtensions(FLOW_TRIGGERS, FLOW_ACTIONS, TRIGGER_LIFECYCLE);
}
