import { defineConnector } from '../../core/connector.ts';
import { catchHookI18n } from './i18n.ts';

/** Inbound webhooks from anything (forms, Zapier, in-house systems): POST /hooks/catch/:hookId. */
export const CATCH_HOOK_EVENT = 'catch_hook.received';

export default defineConnector({
  id: 'catch_hook',
  name: 'Catch hook',
  i18n: catchHookI18n,
  auth: { kind: 'none' },
  triggers: [
    {
      id: 'catch_hook.received',
      title: 'A request reached a catch hook',
      events: [CATCH_HOOK_EVENT],
      kind: 'webhook',
      sample: { name: 'Chan Tai Man', amount: 250, email: 'tm.chan@example.com' },
    },
  ],
  actions: [],
});
