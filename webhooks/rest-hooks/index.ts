import { sql } from 'kysely';
import { registerBackgroundWork, registerFanOut } from '../../core/pipeline/extensions.ts';
import { setEgressPolicy } from '../../core/net/egress.ts';
import { fanOutToSubscriptions, startDeliveryWorkers } from './delivery.ts';

/**
 * REST hooks: every stored hub event fans out to the matching subscriptions (in the dispatch
 * transaction) and the delivery workers run beside the step workers. Importing this module wires it.
 */
registerFanOut(fanOutToSubscriptions, { idleWhen: sql`not exists (select 1 from hook_subscriptions where status = 'active')` });
registerBackgroundWork((rt) => {
  setEgressPolicy(rt.settings.DINGBRIDGE_EGRESS_ALLOW);
  return startDeliveryWorkers(rt);
});

export { restHooksRouter } from './api.ts';
export { EXHAUSTED_EVENT, DISABLED_EVENT, deliveryIdFor } from './delivery.ts';
