import { z } from 'zod';
import { defineConnector } from '../../core/connector.ts';
import { urlSetting } from '../../core/settings.ts';
import { permanent } from '../../core/errors.ts';
import { trelloFor } from './client.ts';
import { DEFAULT_AUTHORIZE_BASE, trelloFields } from './fields.ts';
import { cardActivity } from './webhook.ts';
import { archiveCard, commentOnCard, createCard, moveCard, updateCard } from './actions/card-actions.ts';
import { trelloI18n } from './i18n.ts';

export default defineConnector({
  id: 'trello',
  name: 'Trello',
  i18n: trelloI18n,
  env: z.object({
    TRELLO_BASE_URL: urlSetting(['http:', 'https:']).optional(),
    TRELLO_AUTHORIZE_BASE_URL: urlSetting(['http:', 'https:']).optional(),
  }),
  auth: {
    kind: 'api_token',
    // A Trello app (Power-Up): its API key and secret (the secret also verifies webhooks).
    appFields: { clientId: 'apiKey', clientSecret: 'appSecret' },
    fields: [...trelloFields],
    // Trello's authorize page returns the token in the URL fragment (callback_method=fragment).
    authorizeUrl: (conn, returnUrl) => {
      const u = new URL('/1/authorize', String(conn.settings.authorizeBaseUrl || DEFAULT_AUTHORIZE_BASE));
      u.search = new URLSearchParams({
        key: String(conn.settings.apiKey ?? ''),
        return_url: returnUrl,
        callback_method: 'fragment',
        scope: 'read,write',
        expiration: 'never',
        name: 'dingbridge',
        response_type: 'token',
      }).toString();
      return u.toString();
    },
    async test(conn) {
      const trello = await trelloFor(conn);
      const me = (await trello.members.getMember({ id: 'me' })) as { id: string; username: string; fullName?: string };
      if (!me?.id) throw permanent('Trello did not answer with a member');
      return { member: { id: me.id, username: me.username, fullName: me.fullName } };
    },
  },
  // Forms let people choose a board by name (GET /api/v1/connections/:id/choices/boards).
  choices: {
    async boards(conn) {
      const trello = await trelloFor(conn);
      const boards = (await trello.members.getMemberBoards({ id: 'me', filter: 'open' })) as {
        id: string;
        name: string;
        closed?: boolean;
      }[];
      return boards.filter((b) => !b.closed).map((b) => ({ id: b.id, label: b.name }));
    },
  },
  triggers: [cardActivity],
  actions: [createCard, updateCard, moveCard, commentOnCard, archiveCard],
});
