// The Flow action handlers shopml registers. Definitions (handles, fields) live in
// flow-actions/; this is where each handle meets its code.
import type { FlowActionHandler } from './routes.ts';

export function defaultFlowActions(): FlowActionHandler[] {
  return [];
}
