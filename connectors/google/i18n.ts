import type { ConnectorTranslations } from '../../core/connector-i18n.ts';
import { workspaceI18n } from './i18n-workspace.ts';

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
    ...workspaceI18n.actions,
    // Calendar (google-a)
    'google.calendar.create_event': {
      title: { en: 'Create a Google Calendar event', 'zh-CN': '创建 Google 日历活动', 'zh-HK': '建立 Google 日曆活動' },
      description: {
        en: 'A retried step never makes a second event.',
        'zh-CN': '重试的步骤不会重复创建活动。',
        'zh-HK': '重試的步驟不會重複建立活動。',
      },
    },
    'google.calendar.update_event': {
      title: { en: 'Update a Google Calendar event', 'zh-CN': '更新 Google 日历活动', 'zh-HK': '更新 Google 日曆活動' },
    },
    'google.calendar.delete_event': {
      title: { en: 'Delete a Google Calendar event', 'zh-CN': '删除 Google 日历活动', 'zh-HK': '刪除 Google 日曆活動' },
    },
    'google.calendar.get_event': {
      title: { en: 'Get a Google Calendar event', 'zh-CN': '获取 Google 日历活动', 'zh-HK': '取得 Google 日曆活動' },
    },
    'google.calendar.list_events': {
      title: { en: 'List Google Calendar events of a day', 'zh-CN': '列出某天的 Google 日历活动', 'zh-HK': '列出某日的 Google 日曆活動' },
      description: {
        en: 'For a daily agenda: today, tomorrow or a date in a time zone.',
        'zh-CN': '用于每日日程：今天、明天或某时区的指定日期。',
        'zh-HK': '用於每日議程：今日、明日或某時區的指定日期。',
      },
    },
    'google.calendar.free_busy': { title: { en: 'Find free/busy times', 'zh-CN': '查询空闲/忙碌时间', 'zh-HK': '查詢空閒/忙碌時間' } },
  },
  triggers: {
    ...workspaceI18n.triggers,
    // Calendar (google-a)
    'google.calendar.events': {
      title: { en: 'Calendar event changed', 'zh-CN': '日历活动有变更', 'zh-HK': '日曆活動有變更' },
      description: {
        en: 'Created, updated, moved or cancelled events of one calendar; pushed at once when the hub has an https address, polled otherwise.',
        'zh-CN': '某个日历中新建、更新、改期或取消的活动；集线器有 https 地址时即时推送，否则定时轮询。',
        'zh-HK': '某個日曆中新增、更新、改期或取消的活動；集線器有 https 網址時即時推送，否則定時輪詢。',
      },
      params: {
        calendarId: {
          label: { en: 'Calendar', 'zh-CN': '日历', 'zh-HK': '日曆' },
          help: {
            en: 'primary, or a calendar id (an e-mail address)',
            'zh-CN': 'primary，或日历 ID（电子邮件地址）',
            'zh-HK': 'primary，或日曆 ID（電郵地址）',
          },
          example: 'primary',
        },
      },
    },
    'google.calendar.push': {
      title: { en: 'Calendar push channel', 'zh-CN': '日历推送通道', 'zh-HK': '日曆推送通道' },
      description: {
        en: 'Google tells the hub that something changed; the hub then reads the changes.',
        'zh-CN': 'Google 通知集线器有变更，集线器随即读取变更。',
        'zh-HK': 'Google 通知集線器有變更，集線器隨即讀取變更。',
      },
    },
  },
  events: {
    ...workspaceI18n.events,
    // Calendar (google-a)
    'google.calendar.event.created': { en: 'Calendar event created', 'zh-CN': '日历活动已创建', 'zh-HK': '日曆活動已建立' },
    'google.calendar.event.updated': { en: 'Calendar event updated', 'zh-CN': '日历活动已更新', 'zh-HK': '日曆活動已更新' },
    'google.calendar.event.moved': { en: 'Calendar event moved to another time', 'zh-CN': '日历活动已改期', 'zh-HK': '日曆活動已改期' },
    'google.calendar.event.cancelled': { en: 'Calendar event cancelled', 'zh-CN': '日历活动已取消', 'zh-HK': '日曆活動已取消' },
  },
  errors: { ...workspaceI18n.errors },
};
