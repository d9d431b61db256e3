import { type ConnectorTranslations, type FieldTexts, tx } from '../../core/connector-i18n.ts';
import { workspaceI18n } from './i18n-workspace.ts';

/** Calendar action fields (google-a), shared by the actions that take them. */
const sendUpdatesOptions = {
  all: tx('Everyone', '所有参与者', '所有參與者'),
  externalOnly: tx('Only guests outside the organisation', '仅组织外的参与者', '只限機構以外的參與者'),
  none: tx('No one (DingTalk tells them)', '不发送（由钉钉通知）', '不發送（由釘釘通知）'),
};
const cal: Record<string, FieldTexts> = {
  calendarId: {
    label: tx('Calendar', '日历', '日曆'),
    help: tx('primary, or a calendar id (an e-mail address)', 'primary，或日历 ID（电子邮件地址）', 'primary，或日曆 ID（電郵地址）'),
    example: 'primary',
  },
  eventId: {
    label: tx('Event id', '活动 ID', '活動 ID'),
    help: tx(
      "From the trigger or the create step's output; an instance id changes one occurrence of a series only",
      '来自触发器或创建步骤的输出；重复活动的单次 ID 只影响那一次',
      '來自觸發器或建立步驟的輸出；重複活動的單次 ID 只影響該次',
    ),
  },
  summary: { label: tx('Title', '标题', '標題'), example: tx('Weekly sync', '每周例会', '每週例會') },
  description: { label: tx('Description', '描述', '描述') },
  location: { label: tx('Location', '地点', '地點'), example: tx('Room 3A', '3A 会议室', '3A 會議室') },
  timeZone: {
    label: tx('Time zone', '时区', '時區'),
    help: tx('IANA name, e.g. Asia/Hong_Kong', 'IANA 时区名称，例如 Asia/Shanghai', 'IANA 時區名稱，例如 Asia/Hong_Kong'),
    example: 'Asia/Hong_Kong',
  },
  attendees: {
    label: tx('Attendees (e-mail addresses)', '参与者（电子邮件地址）', '參與者（電郵地址）'),
    help: tx('A list, or one text separated by commas or spaces', '列表，或以逗号或空格分隔的文本', '清單，或以逗號或空格分隔的文字'),
    example: 'amy@example.com, ben@example.com',
  },
  sendUpdates: {
    label: tx("Google's notification e-mails", 'Google 通知邮件', 'Google 通知電郵'),
    help: tx(
      'Who gets Google\'s own e-mail about the change; default "no one" (DingTalk tells them)',
      '谁会收到 Google 发送的变更邮件；默认不发送（由钉钉通知）',
      '誰會收到 Google 發出的變更電郵；預設不發送（由釘釘通知）',
    ),
    options: sendUpdatesOptions,
  },
  privateProperties: {
    label: tx('Private properties', '私有属性', '私有屬性'),
    help: tx(
      'Key/value pairs kept on the event, seen only by this calendar (e.g. the DingTalk approval id)',
      '保存在活动上的键值对，只有此日历可见（例如钉钉审批 ID）',
      '儲存在活動上的鍵值對，只有此日曆看得到（例如釘釘審批 ID）',
    ),
  },
  start: {
    label: tx('Start', '开始时间', '開始時間'),
    help: tx(
      'A date (YYYY-MM-DD, all-day) or a date-time (2026-03-02T10:00:00+08:00)',
      '日期（YYYY-MM-DD，全天）或日期时间（2026-03-02T10:00:00+08:00）',
      '日期（YYYY-MM-DD，全日）或日期時間（2026-03-02T10:00:00+08:00）',
    ),
    example: '2026-03-02T10:00:00+08:00',
  },
  end: {
    label: tx('End', '结束时间', '結束時間'),
    help: tx(
      'Same kind as the start: both dates or both date-times',
      '与开始时间同类：都是日期或都是日期时间',
      '與開始時間同類：同為日期或同為日期時間',
    ),
    example: '2026-03-02T11:00:00+08:00',
  },
  recurrence: {
    label: tx('Repeat (recurrence rules)', '重复规则', '重複規則'),
    help: tx(
      'RRULE / EXDATE / RDATE lines, e.g. RRULE:FREQ=WEEKLY;COUNT=10',
      'RRULE / EXDATE / RDATE 行，例如 RRULE:FREQ=WEEKLY;COUNT=10',
      'RRULE / EXDATE / RDATE 行，例如 RRULE:FREQ=WEEKLY;COUNT=10',
    ),
    example: 'RRULE:FREQ=WEEKLY;COUNT=10',
  },
  day: {
    label: tx('Day', '日期', '日期'),
    help: tx(
      'today, tomorrow or YYYY-MM-DD in the time zone; or give the range below instead',
      'today、tomorrow 或 YYYY-MM-DD（按所选时区）；也可改填下面的时间范围',
      'today、tomorrow 或 YYYY-MM-DD（按所選時區）；亦可改填下面的時間範圍',
    ),
    example: 'today',
  },
  timeMin: {
    label: tx('From', '开始于', '由'),
    help: tx(
      'Date-time with offset, e.g. 2026-03-02T00:00:00+08:00',
      '带时区偏移的日期时间，例如 2026-03-02T00:00:00+08:00',
      '附時區偏移的日期時間，例如 2026-03-02T00:00:00+08:00',
    ),
  },
  timeMax: {
    label: tx('Until', '结束于', '至'),
    help: tx(
      'Date-time with offset, e.g. 2026-03-03T00:00:00+08:00',
      '带时区偏移的日期时间，例如 2026-03-03T00:00:00+08:00',
      '附時區偏移的日期時間，例如 2026-03-03T00:00:00+08:00',
    ),
  },
  q: {
    label: tx('Search text', '搜索文本', '搜尋文字'),
    help: tx(
      'Only events whose title, description, location or attendees contain it',
      '仅限标题、描述、地点或参与者包含此文本的活动',
      '只限標題、描述、地點或參與者包含此文字的活動',
    ),
  },
  maxResults: {
    label: tx('At most (events)', '最多活动数', '最多活動數目'),
    help: tx('1–2500, default 250', '1–2500，默认 250', '1–2500，預設 250'),
  },
  calendars: {
    label: tx('Calendars', '日历', '日曆'),
    help: tx("Calendar ids or people's e-mail addresses", '日历 ID 或人员的电子邮件地址', '日曆 ID 或人員的電郵地址'),
    example: 'amy@example.com, ben@example.com',
  },
};
const pick = (...keys: string[]): Record<string, FieldTexts> => Object.fromEntries(keys.map((k) => [k, cal[k]!]));
const EVENT_FIELDS = ['summary', 'description', 'location', 'timeZone', 'attendees', 'sendUpdates', 'privateProperties', 'start', 'end'];

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
    // Calendar (google-a)
    'google.calendar.create_event': {
      title: { en: 'Create a Google Calendar event', 'zh-CN': '创建 Google 日历活动', 'zh-HK': '建立 Google 日曆活動' },
      description: {
        en: 'A retried step never makes a second event.',
        'zh-CN': '重试的步骤不会重复创建活动。',
        'zh-HK': '重試的步驟不會重複建立活動。',
      },
      fields: pick('calendarId', ...EVENT_FIELDS, 'recurrence'),
    },
    'google.calendar.update_event': {
      title: { en: 'Update a Google Calendar event', 'zh-CN': '更新 Google 日历活动', 'zh-HK': '更新 Google 日曆活動' },
      fields: pick('calendarId', 'eventId', ...EVENT_FIELDS),
    },
    'google.calendar.delete_event': {
      title: { en: 'Delete a Google Calendar event', 'zh-CN': '删除 Google 日历活动', 'zh-HK': '刪除 Google 日曆活動' },
      fields: pick('calendarId', 'eventId', 'sendUpdates'),
    },
    'google.calendar.get_event': {
      title: { en: 'Get a Google Calendar event', 'zh-CN': '获取 Google 日历活动', 'zh-HK': '取得 Google 日曆活動' },
      fields: pick('calendarId', 'eventId', 'timeZone'),
    },
    'google.calendar.list_events': {
      title: { en: 'List Google Calendar events of a day', 'zh-CN': '列出某天的 Google 日历活动', 'zh-HK': '列出某日的 Google 日曆活動' },
      description: {
        en: 'For a daily agenda: today, tomorrow or a date in a time zone.',
        'zh-CN': '用于每日日程：今天、明天或某时区的指定日期。',
        'zh-HK': '用於每日議程：今日、明日或某時區的指定日期。',
      },
      fields: pick('calendarId', 'day', 'timeZone', 'timeMin', 'timeMax', 'q', 'maxResults'),
    },
    'google.calendar.free_busy': {
      title: { en: 'Find free/busy times', 'zh-CN': '查询空闲/忙碌时间', 'zh-HK': '查詢空閒/忙碌時間' },
      fields: pick('calendars', 'timeMin', 'timeMax', 'timeZone'),
    },
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
      params: { calendarId: cal.calendarId! },
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
