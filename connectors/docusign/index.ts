import { z } from 'zod';
import { defineConnector } from '../../core/connector.ts';
import { urlSetting } from '../../core/settings.ts';
import { downloadDocuments, getEnvelope, sendEnvelope, voidEnvelope } from './actions.ts';
import { docusignAuth } from './auth.ts';
import { connectTrigger, statusPoll } from './connect.ts';
import { docusignI18n } from './i18n.ts';

export default defineConnector({
  id: 'docusign',
  name: 'DocuSign',
  env: z.object({
    DOCUSIGN_OAUTH_BASE_URL: urlSetting(['https:']).optional(),
    DOCUSIGN_BASE_URL: urlSetting(['http:', 'https:']).optional(),
  }),
  auth: docusignAuth,
  triggers: [connectTrigger, statusPoll],
  actions: [sendEnvelope, getEnvelope, voidEnvelope, downloadDocuments],
  i18n: docusignI18n,
});
