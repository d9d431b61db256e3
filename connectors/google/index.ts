import { z } from 'zod';
import { defineConnector } from '../../core/connector.ts';
import { urlSetting } from '../../core/settings.ts';
import { googleOAuth } from './auth.ts';
import { listGroups, listUsers } from './directory/actions.ts';
import { createFolder, getFile, listFiles, share } from './drive/actions.ts';
import { drivePushTrigger } from './drive/push.ts';
import { driveFolderTrigger } from './drive/trigger.ts';
import { gmailSend } from './gmail/send.ts';
import { gmailMessageTrigger } from './gmail/trigger.ts';
import { uploadFile } from './drive/upload.ts';
import { googleI18n } from './i18n.ts';
import { calendarActions } from './calendar-actions.ts';
import { calendarEventsPolled, calendarEventsPush } from './calendar-trigger.ts';
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
    GOOGLE_PUSH_ALLOW_HTTP: z.enum(['true', 'false']).optional(),
    GOOGLE_CALENDAR_CHANNEL_TTL_SEC: z.coerce
      .number()
      .int()
      .min(1)
      .max(30 * 86_400)
      .optional(),
    GOOGLE_DRIVE_PUSH: z.enum(['auto', 'always', 'off']).optional(),
  }),
  auth: googleOAuth,
  triggers: [calendarEventsPolled, calendarEventsPush, driveFolderTrigger, drivePushTrigger, gmailMessageTrigger],
  actions: [...calendarActions, uploadFile, createFolder, share, getFile, listFiles, gmailSend, listUsers, listGroups, sheetsAppendValues],
  i18n: googleI18n,
});
