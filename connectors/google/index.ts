import { z } from 'zod';
import { defineConnector } from '../../core/connector.ts';
import { urlSetting } from '../../core/settings.ts';
import { googleOAuth } from './auth.ts';
import { googleI18n } from './i18n.ts';
import { sheetsAppendValues } from './sheets.ts';

/**
 * Google Workspace: Calendar, Drive, Gmail and the Directory through the official @googleapis/*
 * clients (pinned for Node 20: see client.ts). Triggers and actions live one per file beside this one.
 */
export default defineConnector({
  id: 'google',
  name: 'Google Workspace',
  env: z.object({
    GOOGLE_BASE_URL: urlSetting(['http:', 'https:']).optional(),
    GOOGLE_OAUTH_BASE_URL: urlSetting(['http:', 'https:']).optional(),
  }),
  auth: googleOAuth,
  triggers: [],
  actions: [sheetsAppendValues],
  i18n: googleI18n,
});
