// The Flow action handlers shopml registers, built from the definitions in flow-actions/: the
// request's `properties` are parsed with the payload schema generated from the action's fields
// (a bad payload is a 4xx: Flow marks the step failed and shows the message), and a return value
// is checked against the action's return type before it is answered.
import { FLOW_ACTIONS } from '../../../flow-actions/actions.ts';
import { actionPropertiesSchema, describeIssues, returnValueSchema } from '../../../flow-actions/payload.ts';
import type { FlowActionDefinition } from '../../../flow-actions/types.ts';
import { FlowActionInputError } from './action-handlers.ts';
import type { FlowActionHandler } from './routes.ts';

export function flowActionHandler(def: FlowActionDefinition<never>): FlowActionHandler {
  const props = actionPropertiesSchema(def);
  const returns = def.returns ? returnValueSchema(def.returns) : null;
  return {
    handle: def.handle,
    async run(ctx) {
      const parsed = props.safeParse(ctx.properties);
      if (!parsed.success) throw new FlowActionInputError(`${def.name}: ${describeIssues(parsed.error)}`);
      const result = await def.handler(parsed.data, ctx);
      if (returns) {
        const r = returns.safeParse(result.returnValue);
        // Our bug, not the merchant's: never answer Flow with data its schema does not allow.
        if (!r.success) throw new Error(`${def.name} returned data that does not match ${def.returns!.name}: ${describeIssues(r.error)}`);
        return { returnValue: r.data };
      }
      return result;
    },
  };
}

export function defaultFlowActions(): FlowActionHandler[] {
  return FLOW_ACTIONS.map(flowActionHandler);
}
