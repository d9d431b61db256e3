import { z } from 'zod';
import { defineConnector } from '../../core/connector.ts';
import type { ConnectorTranslations } from '../../core/connector-i18n.ts';
import { registerDirectoryProvider } from '../../core/people/directory.ts';
import { urlSetting } from '../../core/settings.ts';
import { CALENDAR_PUSH_TRIGGER, googleCalendarSide } from './calendar-side.ts';
import { calendarPushTrigger } from './calendar-trigger.ts';
import { googleDirectory } from './directory-provider.ts';
import { calendarAs, googleServiceAccountAuth } from './service-account.ts';

/**
 * Google Workspace by a service account with domain-wide delegation: the hub acts as each person of
 * the domain. Offers the calendar side of the two-way calendar sync (with a push channel per person's
 * calendar, so a Google change syncs at once) and the Directory as a source of People. (A second connector of one service, like `dingtalk_robot`: the connection kind differs.)
 */
const i18n: ConnectorTranslations = {
  triggers: {
    [CALENDAR_PUSH_TRIGGER]: {
      title: { en: 'Calendar push channel of a person', 'zh-CN': '个人日历推送通道', 'zh-HK': '個人日曆推送通道' },
      description: {
        en: "Google tells the hub that a person's calendar changed; the two-way calendar sync then syncs that person at once.",
        'zh-CN': 'Google 通知集线器某人的日历有变更；双向日历同步随即同步此人。',
        'zh-HK': 'Google 通知集線器某人的日曆有變更；雙向日曆同步隨即同步此人。',
      },
      params: {
        calendarId: {
          label: { en: "Person's calendar (e-mail)", 'zh-CN': '个人日历（电子邮件）', 'zh-HK': '個人日曆（電郵）' },
          example: 'alice@example.com',
        },
      },
    },
  },
  name: {
    en: 'Google Workspace (service account)',
    'zh-CN': 'Google Workspace（服务账号）',
    'zh-HK': 'Google Workspace（服務帳戶）',
  },
  connectionFields: {
    serviceAccountKey: {
      label: { en: 'Service account key (JSON)', 'zh-CN': '服务账号密钥（JSON）', 'zh-HK': '服務帳戶金鑰（JSON）' },
      help: {
        en: 'Cloud console → IAM → Service accounts → Keys → Add key (JSON); then delegate its client ID in the Admin console (Security → API controls → Domain-wide delegation).',
        'zh-CN': 'Cloud 控制台 → IAM → 服务账号 → 密钥 → 添加密钥（JSON）；再在管理控制台（安全 → API 控制 → 全网域委派）委派其客户端 ID。',
        'zh-HK':
          'Cloud 控制台 → IAM → 服務帳戶 → 金鑰 → 新增金鑰（JSON）；再於管理控制台（安全性 → API 控制項 → 全網域委派）委派其用戶端 ID。',
      },
    },
    adminEmail: {
      label: { en: 'Admin to act as (Directory)', 'zh-CN': '代为操作的管理员（目录）', 'zh-HK': '代為操作的管理員（目錄）' },
      help: {
        en: 'A Workspace admin; the Directory sync reads users as this person.',
        'zh-CN': 'Workspace 管理员；目录同步以此身份读取用户。',
        'zh-HK': 'Workspace 管理員；目錄同步以此身份讀取用戶。',
      },
      example: 'admin@example.com',
    },
    scopes: {
      label: { en: 'Delegated scopes', 'zh-CN': '已委派的权限范围', 'zh-HK': '已委派的權限範圍' },
      help: {
        en: 'Space-separated; default calendar and admin.directory.user.readonly.',
        'zh-CN': '以空格分隔；默认 calendar 与 admin.directory.user.readonly。',
        'zh-HK': '以空格分隔；預設 calendar 及 admin.directory.user.readonly。',
      },
    },
    baseUrl: {
      label: { en: 'API base URL', 'zh-CN': 'API 基础地址', 'zh-HK': 'API 基本網址' },
      help: {
        en: 'Default https://www.googleapis.com',
        'zh-CN': '默认 https://www.googleapis.com',
        'zh-HK': '預設 https://www.googleapis.com',
      },
    },
    oauthBaseUrl: {
      label: { en: 'OAuth base URL', 'zh-CN': 'OAuth 基础地址', 'zh-HK': 'OAuth 基本網址' },
      help: {
        en: 'Default https://oauth2.googleapis.com',
        'zh-CN': '默认 https://oauth2.googleapis.com',
        'zh-HK': '預設 https://oauth2.googleapis.com',
      },
    },
  },
};

export const googleServiceAccount = defineConnector({
  id: 'google_sa',
  name: 'Google Workspace (service account)',
  actionPrefix: 'google',
  env: z.object({
    GOOGLE_BASE_URL: urlSetting(['http:', 'https:']).optional(),
    GOOGLE_OAUTH_BASE_URL: urlSetting(['http:', 'https:']).optional(),
  }),
  auth: googleServiceAccountAuth,
  // Emits no events of its own: its notifications ask the calendar sync to run that person now.
  triggers: [
    calendarPushTrigger({
      id: CALENDAR_PUSH_TRIGGER,
      title: 'Calendar push channel of a person (asks the calendar sync to run)',
      events: [],
      calendarOf: (conn, calendarId) => calendarAs(conn, calendarId),
      watched: () => 'primary',
    }),
  ],
  actions: [],
  i18n,
  calendarSide: googleCalendarSide,
});

registerDirectoryProvider('google_sa', googleDirectory);
