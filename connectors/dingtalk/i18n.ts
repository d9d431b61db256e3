import { tx, type ConnectorTranslations, type FieldTexts } from '../../core/connector-i18n.ts';

/** The message fields shared by the app robot's 1:1 and group messages (which type has which field: the actions' input schemas). */
const messageFields: Record<string, FieldTexts> = {
  type: {
    label: tx('Message type', '消息类型', '訊息類型'),
    options: {
      text: tx('Text', '文本', '文字'),
      markdown: tx('Markdown', 'Markdown', 'Markdown'),
      link: tx('Link', '链接', '連結'),
      actionCard: tx('Card with a button (ActionCard)', '带按钮的卡片（ActionCard）', '附按鈕的卡片（ActionCard）'),
      feedCard: tx('Several links (FeedCard)', '多条链接（FeedCard）', '多條連結（FeedCard）'),
      file: tx('File', '文件', '檔案'),
    },
  },
  mediaId: {
    label: tx('File (mediaId)', '文件（mediaId）', '檔案（mediaId）'),
    help: tx(
      'The mediaId that "Upload a file to DingTalk" gave in an earlier step.',
      '之前步骤“上传文件到钉钉”返回的 mediaId。',
      '之前步驟「上載檔案到釘釘」傳回的 mediaId。',
    ),
  },
  fileName: {
    label: tx('File name shown', '显示的文件名', '顯示的檔案名稱'),
    example: 'KPI report 2026-11.pdf',
  },
  fileType: {
    label: tx('File type (extension)', '文件类型（扩展名）', '檔案類型（副檔名）'),
    help: tx('Taken from the file name when empty.', '留空则取文件名的扩展名。', '留空則取檔案名稱的副檔名。'),
    example: 'pdf',
  },
  title: {
    label: tx('Title', '标题', '標題'),
    help: tx('Shown in the chat list and notifications.', '显示在会话列表和通知中。', '顯示在對話列表和通知中。'),
    example: tx('Reimbursement approved', '报销已通过', '報銷已批核'),
  },
  text: {
    label: tx('Message', '消息内容', '訊息內容'),
    help: tx(
      "Use the data picker to put in the event's values.",
      '用右侧的数据选择器插入事件中的值。',
      '用旁邊的資料選擇器插入事件中的值。',
    ),
    example: tx(
      "Alice Chan's reimbursement of HK$6,000.00 was approved",
      'Alice Chan 的 HK$6,000.00 报销已通过',
      'Alice Chan 的 HK$6,000.00 報銷已批核',
    ),
  },
  messageUrl: {
    label: tx('Link address', '链接地址', '連結網址'),
    example: 'https://example.com/report',
  },
  picUrl: { label: tx('Picture address', '图片地址', '圖片網址'), example: 'https://example.com/pic.png' },
  singleTitle: {
    label: tx('Button text', '按钮文字', '按鈕文字'),
    example: tx('Open card', '打开卡片', '開啟卡片'),
  },
  singleUrl: { label: tx('Button link', '按钮链接', '按鈕連結'), example: 'https://trello.com/c/aB3dE5fG' },
  buttons: {
    label: tx('Several buttons', '多个按钮', '多個按鈕'),
    help: tx(
      'Instead of one button: 2 to 5, each with a title and a link.',
      '代替单个按钮：2 到 5 个，每个含标题和链接。',
      '代替單一按鈕：2 至 5 個，每個附標題和連結。',
    ),
  },
  msgKey: {
    label: tx('Template key (msgKey)', '模板键（msgKey）', '範本鍵（msgKey）'),
    help: tx(
      'Only for a message template of your own; leave empty otherwise.',
      '仅用于自定义消息模板；否则留空。',
      '只適用於自訂訊息範本；否則留空。',
    ),
  },
  msgParam: { label: tx('Template values (msgParam)', '模板参数（msgParam）', '範本參數（msgParam）') },
  robotCode: {
    label: tx('Robot code', '机器人编码（robotCode）', '機械人編碼（robotCode）'),
    help: tx("Leave empty to use the connection's.", '留空则使用连接中的设置。', '留空則使用連線中的設定。'),
  },
};

const unionId = {
  label: tx('Calendar owner (unionId)', '日历所有者（unionId）', '日曆擁有者（unionId）'),
  help: tx("The person's DingTalk unionId.", '此人的钉钉 unionId。', '此人的釘釘 unionId。'),
  example: 'unionid001',
};
const eventId = { label: tx('Calendar event', '日程', '日程'), help: tx('The event id.', '日程 ID。', '日程 ID。') };
const calendarFields: Record<string, FieldTexts> = {
  unionId,
  summary: { label: tx('Title', '标题', '標題'), example: tx('Weekly sales meeting', '每周销售例会', '每週銷售例會') },
  description: { label: tx('Description', '描述', '描述') },
  start: {
    label: tx('Starts', '开始时间', '開始時間'),
    help: tx('A date and time, or a date for an all-day event.', '日期和时间；全天日程填日期。', '日期和時間；全日日程填日期。'),
    example: '2030-01-15T10:00:00+08:00',
  },
  end: { label: tx('Ends', '结束时间', '結束時間'), example: '2030-01-15T11:00:00+08:00' },
  isAllDay: { label: tx('All day', '全天', '全日') },
  attendees: {
    label: tx('Attendees', '参与人', '參與者'),
    help: tx('unionIds of the attendees.', '参与人的 unionId。', '參與者的 unionId。'),
  },
  location: { label: tx('Place', '地点', '地點'), example: tx('Room 3, Central office', '中环办公室 3 号会议室', '中環辦公室 3 號會議室') },
  reminders: { label: tx('Reminders', '提醒', '提示') },
  recurrence: { label: tx('Repeats', '重复', '重複') },
  onlineMeetingInfo: { label: tx('Online meeting', '线上会议', '網上會議') },
  extra: { label: tx('Extra settings', '其他设置', '其他設定') },
  clientToken: {
    label: tx('Idempotency token', '幂等令牌', '防重複權杖'),
    help: tx('Leave empty: the hub sets one per step.', '留空：本中心会为每个步骤设置。', '留空：本中心會為每個步驟設定。'),
  },
};

export const dingtalkI18n: ConnectorTranslations = {
  name: tx('DingTalk', '钉钉', '釘釘'),
  actions: {
    'dingtalk.media.upload': {
      title: tx('Upload a file to DingTalk', '上传文件到钉钉', '上載檔案到釘釘'),
      description: tx(
        'Gives a mediaId for a file message (at most 20 MB).',
        '得到用于文件消息的 mediaId（最大 20 MB）。',
        '取得用於檔案訊息的 mediaId（最大 20 MB）。',
      ),
      fields: {
        file: {
          label: tx('File', '文件', '檔案'),
          help: tx('A file from an earlier step.', '之前步骤产生的文件。', '之前步驟產生的檔案。'),
        },
        type: {
          label: tx('Kind of media', '媒体类型', '媒體類型'),
          options: {
            file: tx('File', '文件', '檔案'),
            image: tx('Image', '图片', '圖片'),
            voice: tx('Voice', '语音', '語音'),
            video: tx('Video', '视频', '影片'),
          },
        },
      },
    },
    'dingtalk.message.sendToUsers': {
      title: tx('Send a message to people (app robot)', '给个人发消息（应用机器人）', '向個人發送訊息（應用程式機械人）'),
      fields: {
        userIds: {
          label: tx('People (userIds)', '接收人（userId）', '接收人（userId）'),
          help: tx(
            'Up to 20 DingTalk userIds; press Enter after each.',
            '最多 20 个钉钉 userId；每个输入后按回车。',
            '最多 20 個釘釘 userId；每個輸入後按 Enter。',
          ),
          example: 'user001',
        },
        ...messageFields,
      },
    },
    'dingtalk.message.sendToGroup': {
      title: tx('Send a message to a group (app robot)', '在群里发消息（应用机器人）', '在群組發送訊息（應用程式機械人）'),
      fields: {
        openConversationId: {
          label: tx('Group', '群', '群組'),
          help: tx(
            'The group the app robot is in (openConversationId).',
            '应用机器人所在的群（openConversationId）。',
            '應用程式機械人所在的群組（openConversationId）。',
          ),
          example: 'cidSandboxGroup0001',
          choices: 'groups',
        },
        ...messageFields,
        onlyIf: {
          label: tx('Send only if', '仅在以下条件时发送', '只在以下條件時發送'),
          help: tx(
            'A yes/no value from an earlier step (e.g. a receipt flagged for review); no: nothing is sent. Default: always send.',
            '来自前面步骤的是/否值（如收据需复核）；为否则不发送。默认总是发送。',
            '來自之前步驟的是／否值（例如收據需覆核）；為否則不會發送。預設一律發送。',
          ),
        },
      },
    },
    'dingtalk.approval.start': {
      title: tx('Start an approval', '发起审批', '發起審批'),
      fields: {
        processCode: {
          label: tx('Approval form (process code)', '审批表单（模板编码）', '審批表格（範本編碼）'),
          help: tx(
            'OA Approval admin › the form › its process code.',
            'OA 审批管理后台 › 表单 › 模板编码。',
            'OA 審批管理後台 › 表格 › 範本編碼。',
          ),
          example: 'PROC-REIMBURSE',
          choices: 'approvalForms',
        },
        originatorUserId: { label: tx('Started by (userId)', '发起人（userId）', '發起人（userId）'), example: 'user001' },
        deptId: { label: tx('Department id', '部门 ID', '部門 ID') },
        form: {
          label: tx('Form values', '表单内容', '表格內容'),
          help: tx("The form's fields by name.", '按名称填写表单字段。', '按名稱填寫表格欄位。'),
        },
        formComponentValues: { label: tx('Form values (raw list)', '表单内容（原始列表）', '表格內容（原始列表）') },
        approvers: { label: tx('Approvers', '审批人', '審批人') },
        ccList: { label: tx('Copy to', '抄送人', '副本送交') },
        ccPosition: {
          label: tx('When to copy', '抄送时机', '副本送交時間'),
          options: {
            START: tx('At the start', '发起时', '發起時'),
            FINISH: tx('At the end', '结束时', '完成時'),
            START_FINISH: tx('Both', '发起和结束时', '發起和完成時'),
          },
        },
        agentId: { label: tx('AgentId', 'AgentId', 'AgentId') },
      },
    },
    'dingtalk.approval.get': {
      title: tx('Get an approval with its form', '获取审批及表单', '取得審批及表格'),
      fields: {
        processInstanceId: { label: tx('Approval instance', '审批实例', '審批實例'), example: 'a1b2c3d4-0000-0000-0000-000000000001' },
      },
    },
    'dingtalk.approval.attachments': {
      title: tx("Download an approval's attachments", '下载审批附件', '下載審批附件'),
      description: tx(
        'Each file of the approval’s attachment fields is stored in the hub for later steps (e.g. a document to sign or a receipt).',
        '审批附件字段中的每个文件都会存入本中心，供后续步骤使用（如待签署文档或收据）。',
        '審批附件欄位中的每個檔案都會存入本中心，供後續步驟使用（如待簽署文件或收據）。',
      ),
      fields: {
        processInstanceId: { label: tx('Approval instance', '审批实例', '審批實例'), example: 'a1b2c3d4-0000-0000-0000-000000000001' },
        field: { label: tx('Attachment field (empty: every one)', '附件字段（留空：全部）', '附件欄位（留空：全部）') },
        required: { label: tx('Fail when there is no attachment', '没有附件时报错', '沒有附件時報錯') },
      },
    },
    'dingtalk.approval.comment': {
      title: tx('Comment on an approval', '评论审批', '評論審批'),
      fields: {
        processInstanceId: { label: tx('Approval instance', '审批实例', '審批實例'), example: 'a1b2c3d4-0000-0000-0000-000000000001' },
        text: { label: tx('Comment', '评论内容', '評論內容') },
        commentUserId: { label: tx('Comment as (user id)', '评论人（用户 ID）', '評論人（用戶 ID）') },
      },
    },
    'dingtalk.calendar.createEvent': { title: tx('Create a calendar event', '新建日程', '新增日程'), fields: calendarFields },
    'dingtalk.calendar.updateEvent': {
      title: tx('Change a calendar event', '修改日程', '修改日程'),
      fields: { ...calendarFields, eventId },
    },
    'dingtalk.calendar.deleteEvent': {
      title: tx('Cancel a calendar event', '取消日程', '取消日程'),
      fields: { unionId, eventId, pushNotification: { label: tx('Tell the attendees', '通知参与人', '通知參與者') } },
    },
    'dingtalk.calendar.listEvents': {
      title: tx('List calendar events', '列出日程', '列出日程'),
      fields: {
        unionId,
        timeMin: { label: tx('From', '从', '由') },
        timeMax: { label: tx('Until', '到', '至') },
        maxResults: { label: tx('At most', '最多', '最多') },
        nextToken: { label: tx('Page token', '分页令牌', '分頁權杖') },
        syncToken: { label: tx('Sync token', '同步令牌', '同步權杖') },
        showDeleted: { label: tx('Include cancelled', '包括已取消的', '包括已取消的') },
      },
    },
    'dingtalk.approval.history': {
      title: tx('List past approvals of a process', '列出审批流程的历史实例', '列出審批流程的歷史實例'),
      fields: {
        processCode: { label: tx('Process code', '流程编码', '流程編碼'), example: 'PROC-PURCHASE' },
        from: { label: tx('Started from', '发起时间起', '發起時間由'), example: '2026-01-01T00:00:00Z' },
        to: { label: tx('Started until', '发起时间止', '發起時間至'), example: '2026-02-01T00:00:00Z' },
        concurrency: { label: tx('Instances read at once', '同时读取的实例数', '同時讀取的實例數'), example: '4' },
      },
    },
    'dingtalk.datacenter.stats': {
      title: tx('Daily usage statistics', '每日数据统计', '每日數據統計'),
      fields: { date: { label: tx('Day', '日期', '日期'), example: '2030-01-15' } },
    },
    'dingtalk.robot.send': {
      title: tx('Send a message to a group (group robot)', '在群里发消息（群机器人）', '在群組發送訊息（群組機械人）'),
      fields: {
        ...messageFields,
        atMobiles: {
          label: tx('Mention by mobile number', '按手机号 @ 成员', '按手機號碼 @ 成員'),
          help: tx('Press Enter after each number.', '每个号码输入后按回车。', '每個號碼輸入後按 Enter。'),
          example: '+852-91234567',
        },
        atUserIds: {
          label: tx('Mention by userId', '按 userId @ 成员', '按 userId @ 成員'),
          help: tx('Press Enter after each id.', '每个 ID 输入后按回车。', '每個 ID 輸入後按 Enter。'),
          example: 'user001',
        },
        atAll: { label: tx('Mention everyone', '@所有人', '@所有人') },
        buttonsVertical: { label: tx('Buttons one under another', '按钮竖排', '按鈕直排') },
        links: {
          label: tx('Links', '链接列表', '連結列表'),
          help: tx('Each with a title, a link and a picture.', '每条包含标题、链接和图片。', '每條附標題、連結和圖片。'),
        },
      },
    },
  },
  triggers: {
    'dingtalk.events': {
      title: tx('DingTalk events by HTTP callback', '钉钉事件（HTTP 回调）', '釘釘事件（HTTP 回調）'),
      description: tx('Approvals, robot messages and other events.', '审批、机器人消息等事件。', '審批、機械人訊息等事件。'),
    },
    'dingtalk.stream': {
      title: tx('DingTalk events by Stream mode', '钉钉事件（Stream 模式）', '釘釘事件（Stream 模式）'),
      description: tx('No public address needed.', '无需公网地址。', '毋須公開網址。'),
    },
  },
  events: {
    'dingtalk.approval.started': tx('Approval started', '审批已发起', '審批已發起'),
    'dingtalk.approval.finished': tx('Approval finished (agreed or refused)', '审批已结束（同意或拒绝）', '審批已完成（批准或拒絕）'),
    'dingtalk.approval.terminated': tx('Approval withdrawn', '审批已撤销', '審批已撤回'),
    'dingtalk.approval.deleted': tx('Approval deleted', '审批已删除', '審批已刪除'),
    'dingtalk.approval.task.started': tx('Approval waiting for someone', '审批待处理', '審批待處理'),
    'dingtalk.approval.task.finished': tx('Someone decided on an approval', '有人处理了审批', '有人處理了審批'),
    'dingtalk.approval.task.cancelled': tx('Approval task cancelled', '审批任务已取消', '審批任務已取消'),
    'dingtalk.approval.task.commented': tx('Comment on an approval', '审批有新评论', '審批有新評論'),
    'dingtalk.message.received': tx('Message to the robot', '机器人收到消息', '機械人收到訊息'),
    'dingtalk.event.received': tx('Other DingTalk event', '其他钉钉事件', '其他釘釘事件'),
  },
  connectionFields: {
    appKey: {
      label: tx('Client ID (AppKey)', 'Client ID（原 AppKey）', 'Client ID（原 AppKey）'),
      help: tx(
        'Developer console › your app › Credentials & basic info › Client ID.',
        '开发者后台 › 你的应用 › 凭证与基础信息 › Client ID。',
        '開發者後台 › 你的應用程式 › 憑證與基礎資訊 › Client ID。',
      ),
      example: 'dingabcdef1234567890',
    },
    appSecret: {
      label: tx('Client Secret (AppSecret)', 'Client Secret（原 AppSecret）', 'Client Secret（原 AppSecret）'),
      help: tx(
        'Same page, under Client ID; shown once: copy it whole.',
        '同一页 Client ID 下方；只显示一次，请完整复制。',
        '同一頁 Client ID 下方；只顯示一次，請完整複製。',
      ),
    },
    robotCode: {
      label: tx('Robot code (RobotCode)', '机器人编码（RobotCode）', '機械人編碼（RobotCode）'),
      help: tx(
        'App features › Robot › RobotCode; usually the same as the Client ID.',
        '应用功能 › 机器人 › RobotCode；通常与 Client ID 相同。',
        '應用程式功能 › 機械人 › RobotCode；通常與 Client ID 相同。',
      ),
    },
    agentId: {
      label: tx('AgentId', 'AgentId', 'AgentId'),
      help: tx(
        'Credentials & basic info › AgentId (approvals need it).',
        '凭证与基础信息 › AgentId（发起审批时需要）。',
        '憑證與基礎資訊 › AgentId（發起審批時需要）。',
      ),
    },
    corpId: {
      label: tx('CorpId', 'CorpId', 'CorpId'),
      help: tx('Developer console home page › CorpId, top right.', '开发者后台首页右上角 › CorpId。', '開發者後台首頁右上角 › CorpId。'),
    },
    callbackToken: {
      label: tx('Event subscription Token', '事件订阅 Token', '事件訂閱 Token'),
      help: tx(
        'Event subscription › HTTP push › Token (only for HTTP callbacks).',
        '事件订阅 › HTTP 推送 › Token（仅 HTTP 回调需要）。',
        '事件訂閱 › HTTP 推送 › Token（只有 HTTP 回調需要）。',
      ),
    },
    callbackAesKey: {
      label: tx('Event subscription aes_key', '事件订阅加密 aes_key', '事件訂閱加密 aes_key'),
      help: tx(
        'Event subscription › HTTP push › aes_key (43 characters).',
        '事件订阅 › HTTP 推送 › aes_key（43 个字符）。',
        '事件訂閱 › HTTP 推送 › aes_key（43 個字元）。',
      ),
    },
    ownerKey: {
      label: tx('Callback owner key', '回调所有者键', '回調擁有者鍵'),
      help: tx('Leave empty: the Client ID.', '留空即为 Client ID。', '留空即為 Client ID。'),
    },
    suiteKey: { label: tx('SuiteKey (third-party apps)', 'SuiteKey（第三方应用）', 'SuiteKey（第三方應用程式）') },
    stream: {
      label: tx('Receive events by Stream mode', '通过 Stream 模式接收事件', '透過 Stream 模式接收事件'),
      help: tx('No public address needed. Recommended.', '无需公网地址，推荐。', '毋須公開網址，建議使用。'),
    },
    allowedSenders: {
      label: tx('Who may give privileged chat commands', '可下达特权聊天指令的人', '可發出特權聊天指令的人'),
      help: tx('DingTalk userIds, separated by commas.', '钉钉 userId，以逗号分隔。', '釘釘 userId，以逗號分隔。'),
    },
    robotToleranceSeconds: { label: tx('Robot callback tolerance (seconds)', '机器人回调时间容差（秒）', '機械人回調時間容差（秒）') },
    baseUrl: { label: tx('New API base URL', '新版 API 基础网址', '新版 API 基本網址') },
    oapiBaseUrl: { label: tx('Old API base URL', '旧版 API 基础网址', '舊版 API 基本網址') },
    // The custom group robot's fields (connector dingtalk_robot).
    accessToken: {
      label: tx('Robot access_token', '机器人 access_token', '機械人 access_token'),
      help: tx(
        'Group settings › Bots › your robot › Webhook: the part after access_token=.',
        '群设置 › 机器人 › 你的机器人 › Webhook 中 access_token= 后面的部分。',
        '群組設定 › 機械人 › 你的機械人 › Webhook 中 access_token= 後面的部分。',
      ),
    },
    secret: {
      label: tx('Signing secret (SEC…)', '加签密钥（SEC…）', '加簽密鑰（SEC…）'),
      help: tx('Security settings › Additional signature.', '安全设置 › 加签。', '安全設定 › 加簽。'),
    },
    keywords: {
      label: tx('Custom keywords', '自定义关键词', '自訂關鍵字'),
      help: tx(
        'Security settings › Custom keywords, separated by commas.',
        '安全设置 › 自定义关键词，以逗号分隔。',
        '安全設定 › 自訂關鍵字，以逗號分隔。',
      ),
    },
    rateLimit: { label: tx('Messages per window', '每个时间窗的消息数', '每個時間窗的訊息數') },
    rateWindowMs: { label: tx('Window (ms)', '时间窗（毫秒）', '時間窗（毫秒）') },
  },
  errors: {
    invalidClientIdOrSecret: tx(
      'DingTalk refused the Client Secret (AppSecret) for this Client ID: copy the Client Secret again from Credentials & basic info (it must belong to the same app as the Client ID).',
      '钉钉拒绝了这个 Client ID 对应的 Client Secret（AppSecret）：请到“凭证与基础信息”重新复制 Client Secret（必须与 Client ID 属于同一个应用）。',
      '釘釘拒絕了這個 Client ID 對應的 Client Secret（AppSecret）：請到「憑證與基礎資訊」重新複製 Client Secret（必須與 Client ID 屬於同一個應用程式）。',
    ),
    app_key_format: tx(
      'This does not look like a Client ID (AppKey): it starts with "ding". Copy it from Credentials & basic info.',
      '这不像 Client ID（AppKey）：它以“ding”开头。请从“凭证与基础信息”复制。',
      '這不像 Client ID（AppKey）：它以「ding」開頭。請從「憑證與基礎資訊」複製。',
    ),
    callback_aes_key_length: tx(
      'The event subscription aes_key must be exactly 43 characters: copy it again from Event subscription.',
      '事件订阅的 aes_key 必须正好 43 个字符：请从“事件订阅”重新复制。',
      '事件訂閱的 aes_key 必須剛好 43 個字元：請從「事件訂閱」重新複製。',
    ),
    'resource.not.found': tx(
      "The robot code is not this app's robot: copy RobotCode from App features › Robot.",
      '机器人编码不属于此应用：请从“应用功能 › 机器人”复制 RobotCode。',
      '機械人編碼不屬於此應用程式：請從「應用程式功能 › 機械人」複製 RobotCode。',
    ),
    Forbidden: tx(
      "The app lacks this API's permission: Developer console › your app › Permissions › apply for it.",
      '应用缺少该接口权限：开发者后台 › 你的应用 › 权限管理 › 申请权限。',
      '應用程式缺少該介面權限：開發者後台 › 你的應用程式 › 權限管理 › 申請權限。',
    ),
    '310000': tx(
      'The group robot refused the message: check the signing secret (SEC…), the keywords, or the IP allow-list in its Security settings.',
      '群机器人拒绝了消息：请检查安全设置中的加签密钥（SEC…）、关键词或 IP 白名单。',
      '群組機械人拒絕了訊息：請檢查安全設定中的加簽密鑰（SEC…）、關鍵字或 IP 白名單。',
    ),
    '300001': tx(
      "The group robot's access_token is unknown (was the robot removed?): copy the Webhook again.",
      '群机器人的 access_token 无效（机器人被移除了？）：请重新复制 Webhook。',
      '群組機械人的 access_token 無效（機械人被移除了？）：請重新複製 Webhook。',
    ),
    '130101': tx(
      'DingTalk allows a group robot 20 messages a minute: the hub sends the rest a little later.',
      '钉钉群机器人每分钟最多 20 条消息：其余消息稍后发送。',
      '釘釘群組機械人每分鐘最多 20 條訊息：其餘訊息稍後發送。',
    ),
  },
  guide: [
    {
      title: tx('Create an app', '创建应用', '建立應用程式'),
      body: tx(
        'Sign in to the DingTalk developer console (open-dev.dingtalk.com) › App development › Internal enterprise apps › Create app.',
        '登录钉钉开发者后台（open-dev.dingtalk.com）› 应用开发 › 企业内部应用 › 创建应用。',
        '登入釘釘開發者後台（open-dev.dingtalk.com）› 應用開發 › 企業內部應用 › 建立應用。',
      ),
      link: 'https://open-dev.dingtalk.com/fe/app',
    },
    {
      title: tx('Copy the credentials', '复制凭证', '複製憑證'),
      body: tx(
        'Your app › Credentials & basic info: copy the Client ID (formerly AppKey) and the Client Secret (formerly AppSecret).',
        '你的应用 › 凭证与基础信息：复制 Client ID（原 AppKey）和 Client Secret（原 AppSecret）。',
        '你的應用程式 › 憑證與基礎資訊：複製 Client ID（原 AppKey）和 Client Secret（原 AppSecret）。',
      ),
      fields: ['appKey', 'appSecret'],
    },
    {
      title: tx('Add the robot', '添加机器人', '新增機械人'),
      body: tx(
        'App features › Robot: switch the robot on, choose Stream mode as the message receiving mode, and publish it.',
        '应用功能 › 机器人：开启机器人，消息接收模式选择“Stream 模式”，然后发布。',
        '應用程式功能 › 機械人：開啟機械人，訊息接收模式選擇「Stream 模式」，然後發佈。',
      ),
      fields: ['robotCode'],
    },
    {
      title: tx('Subscribe to events', '订阅事件', '訂閱事件'),
      body: tx(
        'Event subscription: choose "Stream mode push" (nothing to paste), or "HTTP push" and paste the callback URL below, with the Token and aes_key you set there. Then tick the approval events.',
        '事件订阅：选择“Stream 模式推送”（无需粘贴任何内容），或选择“HTTP 推送”并粘贴下方的回调地址，同时填写你在那里设置的 Token 和 aes_key。然后勾选审批事件。',
        '事件訂閱：選擇「Stream 模式推送」（毋須貼上任何內容），或選擇「HTTP 推送」並貼上下方的回調網址，同時填寫你在該處設定的 Token 和 aes_key。然後勾選審批事件。',
      ),
      paste: ['callback'],
      fields: ['callbackToken', 'callbackAesKey'],
    },
    {
      title: tx('Grant permissions', '申请权限', '申請權限'),
      body: tx(
        'Permissions: apply for "Robot messages", "OA approval" and "Calendar" read/write, then publish a version.',
        '权限管理：申请“机器人消息”“OA 审批”“日程”的读写权限，然后发布版本。',
        '權限管理：申請「機械人訊息」「OA 審批」「日程」的讀寫權限，然後發佈版本。',
      ),
    },
  ],
  choices: {
    groups: tx('Groups the app robot is in', '应用机器人所在的群', '應用程式機械人所在的群組'),
    approvalForms: tx("The company's approval forms", '企业的审批表单', '公司的審批表格'),
  },
};

/** The custom group robot (connector `dingtalk_robot`): its one action and its connection fields. */
const robotFields = ['accessToken', 'secret', 'keywords', 'rateLimit', 'rateWindowMs', 'oapiBaseUrl'];
export const dingtalkRobotI18n: ConnectorTranslations = {
  name: tx('DingTalk group robot', '钉钉群机器人', '釘釘群組機械人'),
  actions: { 'dingtalk.robot.send': dingtalkI18n.actions!['dingtalk.robot.send']! },
  connectionFields: Object.fromEntries(robotFields.map((k) => [k, dingtalkI18n.connectionFields![k]!])),
  errors: dingtalkI18n.errors,
  guide: [
    {
      title: tx('Add a custom robot to the group', '在群里添加自定义机器人', '在群組新增自訂機械人'),
      body: tx(
        'In the DingTalk group: Group settings › Bots › Add robot › Custom (via Webhook).',
        '在钉钉群中：群设置 › 机器人 › 添加机器人 › 自定义（通过 Webhook 接入）。',
        '在釘釘群組中：群組設定 › 機械人 › 新增機械人 › 自訂（透過 Webhook 接入）。',
      ),
    },
    {
      title: tx('Choose its security setting', '选择安全设置', '選擇安全設定'),
      body: tx(
        'Tick "Additional signature" and copy the SEC… secret (or list its custom keywords).',
        '勾选“加签”并复制 SEC… 密钥（或填写自定义关键词）。',
        '勾選「加簽」並複製 SEC… 密鑰（或填寫自訂關鍵字）。',
      ),
      fields: ['secret', 'keywords'],
    },
    {
      title: tx('Copy the Webhook', '复制 Webhook', '複製 Webhook'),
      body: tx(
        'Copy the Webhook address and paste the part after access_token= here.',
        '复制 Webhook 地址，把 access_token= 后面的部分粘贴到这里。',
        '複製 Webhook 網址，把 access_token= 後面的部分貼上到這裡。',
      ),
      fields: ['accessToken'],
    },
  ],
};
