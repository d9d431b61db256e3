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
  actions: {
    'google.sheets.append_values': {
      title: { en: 'Append rows to a Google Sheet', 'zh-CN': '向 Google 表格追加行', 'zh-HK': '向 Google 試算表加入列' },
      description: {
        en: 'Adds rows below the table in the range; USER_ENTERED reads numbers as numbers.',
        'zh-CN': '在范围内的表格下方追加行；USER_ENTERED 会把数字识别为数字。',
        'zh-HK': '在範圍內的表格下方加入列；USER_ENTERED 會把數字視為數字。',
      },
      fields: {
        spreadsheetId: {
          label: { en: 'Spreadsheet ID', 'zh-CN': '表格 ID', 'zh-HK': '試算表 ID' },
          help: {
            en: 'The long id in the sheet’s address: docs.google.com/spreadsheets/d/<id>/edit',
            'zh-CN': '表格网址中的长 ID：docs.google.com/spreadsheets/d/<id>/edit',
            'zh-HK': '試算表網址中的長 ID：docs.google.com/spreadsheets/d/<id>/edit',
          },
        },
        range: {
          label: { en: 'Sheet or range (A1)', 'zh-CN': '工作表或范围（A1）', 'zh-HK': '工作表或範圍（A1）' },
          example: 'KPIs!A:G',
        },
        values: { label: { en: 'Rows', 'zh-CN': '行', 'zh-HK': '列' } },
        valueInputOption: { label: { en: 'How values are read', 'zh-CN': '数值输入方式', 'zh-HK': '數值輸入方式' } },
        insertDataOption: { label: { en: 'Insert or overwrite', 'zh-CN': '插入或覆盖', 'zh-HK': '插入或覆寫' } },
      },
    },
  },
  triggers: {},
  events: {},
};
