import type { ConnectorTranslations } from '../../core/connector-i18n.ts';

/** The Google connector's words; every trigger, action, event and field added here gets an entry. */
export const googleI18n: ConnectorTranslations = {
  name: { en: 'Google Workspace', 'zh-CN': 'Google Workspace', 'zh-HK': 'Google Workspace' },
  connectionFields: {
    clientId: {
      label: { en: 'OAuth client ID', 'zh-CN': 'OAuth 客户端 ID', 'zh-HK': 'OAuth 用戶端 ID' },
      help: {
        en: 'Google Cloud console → APIs & Services → Credentials → OAuth 2.0 Client IDs',
        'zh-CN': 'Google Cloud 控制台 → API 和服务 → 凭据 → OAuth 2.0 客户端 ID',
        'zh-HK': 'Google Cloud 控制台 → API 和服務 → 憑證 → OAuth 2.0 用戶端 ID',
      },
      example: '1234567890-abc.apps.googleusercontent.com',
    },
    clientSecret: {
      label: { en: 'OAuth client secret', 'zh-CN': 'OAuth 客户端密钥', 'zh-HK': 'OAuth 用戶端密鑰' },
      help: {
        en: 'Shown beside the client ID; starts with GOCSPX-',
        'zh-CN': '显示在客户端 ID 旁边，以 GOCSPX- 开头',
        'zh-HK': '顯示在用戶端 ID 旁邊，以 GOCSPX- 開頭',
      },
    },
    scopes: {
      label: { en: 'Scopes', 'zh-CN': '权限范围', 'zh-HK': '權限範圍' },
      help: {
        en: 'Leave empty to ask for what the enabled triggers and actions need.',
        'zh-CN': '留空则按已启用的触发器和操作所需申请。',
        'zh-HK': '留空則按已啟用的觸發器和動作所需申請。',
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
  actions: {},
  triggers: {},
  events: {},
};
