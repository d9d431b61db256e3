import type { ConnectorTranslations } from '../../core/connector-i18n.ts';

/**
 * The words of the Drive, Gmail and Directory triggers and actions (spread into i18n.ts, kept apart so
 * the Calendar half and this one do not edit the same lines).
 */
export const workspaceI18n: Required<Pick<ConnectorTranslations, 'actions' | 'triggers' | 'events' | 'errors'>> = {
  actions: {
    'google.drive.upload_file': {
      title: { en: 'Upload a file to Google Drive', 'zh-CN': '上传文件到 Google 云端硬盘', 'zh-HK': '上載檔案到 Google 雲端硬碟' },
      description: {
        en: 'Uploads a file from an earlier step into a Drive folder (resumable above 5 MB).',
        'zh-CN': '把前面步骤得到的文件上传到云端硬盘文件夹（超过 5 MB 时断点续传）。',
        'zh-HK': '把之前步驟得到的檔案上載到雲端硬碟資料夾（超過 5 MB 時可續傳）。',
      },
      fields: {
        folderId: { label: { en: 'Folder ID', 'zh-CN': '文件夹 ID', 'zh-HK': '資料夾 ID' }, example: '1AbCdEfGhIjKlMnOpQrStUvWxYz012345' },
        name: { label: { en: 'File name', 'zh-CN': '文件名', 'zh-HK': '檔案名稱' } },
        file: { label: { en: 'File', 'zh-CN': '文件', 'zh-HK': '檔案' } },
        mimeType: { label: { en: 'Content type', 'zh-CN': '内容类型', 'zh-HK': '內容類型' }, example: 'application/pdf' },
      },
    },
    'google.drive.create_folder': {
      title: { en: 'Create a Google Drive folder', 'zh-CN': '新建 Google 云端硬盘文件夹', 'zh-HK': '建立 Google 雲端硬碟資料夾' },
      fields: {
        name: { label: { en: 'Folder name', 'zh-CN': '文件夹名称', 'zh-HK': '資料夾名稱' } },
        parentId: { label: { en: 'Parent folder ID', 'zh-CN': '上级文件夹 ID', 'zh-HK': '上層資料夾 ID' } },
      },
    },
    'google.drive.share': {
      title: {
        en: 'Share a Google Drive file or folder',
        'zh-CN': '共享 Google 云端硬盘文件或文件夹',
        'zh-HK': '共用 Google 雲端硬碟檔案或資料夾',
      },
      fields: {
        fileId: { label: { en: 'File or folder ID', 'zh-CN': '文件或文件夹 ID', 'zh-HK': '檔案或資料夾 ID' } },
        role: { label: { en: 'Role', 'zh-CN': '角色', 'zh-HK': '角色' }, example: 'reader' },
        type: { label: { en: 'Share with', 'zh-CN': '共享对象类型', 'zh-HK': '共用對象類型' }, example: 'user' },
        emailAddress: { label: { en: 'Email address', 'zh-CN': '电子邮件地址', 'zh-HK': '電郵地址' } },
        domain: { label: { en: 'Domain', 'zh-CN': '域名', 'zh-HK': '網域' } },
        notify: { label: { en: 'Send a notification email', 'zh-CN': '发送通知邮件', 'zh-HK': '發送通知電郵' } },
        message: { label: { en: 'Notification message', 'zh-CN': '通知内容', 'zh-HK': '通知內容' } },
      },
    },
    'google.drive.get_file': {
      title: { en: 'Get a Google Drive file', 'zh-CN': '获取 Google 云端硬盘文件', 'zh-HK': '取得 Google 雲端硬碟檔案' },
      description: {
        en: 'Downloads the file so later steps can send or upload it.',
        'zh-CN': '下载文件，供后续步骤发送或上传。',
        'zh-HK': '下載檔案，供之後的步驟發送或上載。',
      },
      fields: { fileId: { label: { en: 'File ID', 'zh-CN': '文件 ID', 'zh-HK': '檔案 ID' } } },
    },
    'google.drive.list_files': {
      title: {
        en: 'List the files made in a Google Drive folder',
        'zh-CN': '列出 Google 云端硬盘文件夹中新建的文件',
        'zh-HK': '列出 Google 雲端硬碟資料夾中新建的檔案',
      },
      fields: {
        folderId: { label: { en: 'Folder ID', 'zh-CN': '文件夹 ID', 'zh-HK': '資料夾 ID' } },
        createdAfter: { label: { en: 'Made from', 'zh-CN': '创建时间起', 'zh-HK': '建立時間由' } },
        createdBefore: { label: { en: 'Made before', 'zh-CN': '创建时间止', 'zh-HK': '建立時間至' } },
      },
    },
    'google.gmail.send': {
      title: { en: 'Send an email with Gmail', 'zh-CN': '用 Gmail 发送邮件', 'zh-HK': '用 Gmail 發送電郵' },
      fields: {
        to: { label: { en: 'To', 'zh-CN': '收件人', 'zh-HK': '收件人' }, example: 'Alice <alice@example.com>' },
        cc: { label: { en: 'Cc', 'zh-CN': '抄送', 'zh-HK': '副本' } },
        bcc: { label: { en: 'Bcc', 'zh-CN': '密送', 'zh-HK': '密件副本' } },
        subject: { label: { en: 'Subject', 'zh-CN': '主题', 'zh-HK': '主旨' } },
        text: { label: { en: 'Text', 'zh-CN': '正文（纯文本）', 'zh-HK': '內文（純文字）' } },
        html: { label: { en: 'HTML', 'zh-CN': '正文（HTML）', 'zh-HK': '內文（HTML）' } },
        fromName: { label: { en: 'Sender name', 'zh-CN': '发件人名称', 'zh-HK': '寄件人名稱' } },
        replyTo: { label: { en: 'Reply-To', 'zh-CN': '回复地址', 'zh-HK': '回覆地址' } },
        threadId: { label: { en: 'Thread ID', 'zh-CN': '会话 ID', 'zh-HK': '對話串 ID' } },
        inReplyTo: { label: { en: 'In reply to (Message-ID)', 'zh-CN': '回复的邮件 (Message-ID)', 'zh-HK': '回覆的郵件 (Message-ID)' } },
      },
    },
    'google.directory.list_users': {
      title: { en: 'List Google Workspace users', 'zh-CN': '列出 Google Workspace 用户', 'zh-HK': '列出 Google Workspace 使用者' },
      fields: {
        domain: { label: { en: 'Domain', 'zh-CN': '域名', 'zh-HK': '網域' } },
        query: { label: { en: 'Search', 'zh-CN': '搜索条件', 'zh-HK': '搜尋條件' }, example: 'email:ali*' },
        limit: { label: { en: 'At most', 'zh-CN': '最多', 'zh-HK': '最多' } },
      },
    },
    'google.directory.list_groups': {
      title: { en: 'List Google Workspace groups', 'zh-CN': '列出 Google Workspace 群组', 'zh-HK': '列出 Google Workspace 群組' },
      fields: {
        domain: { label: { en: 'Domain', 'zh-CN': '域名', 'zh-HK': '網域' } },
        userKey: { label: { en: 'Member (email or id)', 'zh-CN': '成员（邮箱或 ID）', 'zh-HK': '成員（電郵或 ID）' } },
        withMembers: { label: { en: 'Include members', 'zh-CN': '包括成员', 'zh-HK': '包括成員' } },
        limit: { label: { en: 'At most', 'zh-CN': '最多', 'zh-HK': '最多' } },
      },
    },
  },
  triggers: {
    'google.drive.folder': {
      title: {
        en: 'Google Drive: file added or changed in a folder',
        'zh-CN': 'Google 云端硬盘：文件夹中有文件新增或更改',
        'zh-HK': 'Google 雲端硬碟：資料夾內有檔案新增或更改',
      },
      description: {
        en: 'Follows Drive’s changes feed: uploads, files moved in and desktop-synced files count as added; files already there when the flow starts are not announced.',
        'zh-CN': '跟随云端硬盘的变更记录：上传、移入和桌面同步的文件都算新增；流程启动时已有的文件不会通知。',
        'zh-HK': '跟隨雲端硬碟的變更記錄：上載、移入及桌面同步的檔案都算新增；流程啟動時已有的檔案不會通知。',
      },
      params: {
        folder: { label: { en: 'Folder ID', 'zh-CN': '文件夹 ID', 'zh-HK': '資料夾 ID' }, example: '1AbCdEfGhIjKlMnOpQrStUvWxYz012345' },
        subfolders: {
          label: { en: 'Include subfolders', 'zh-CN': '包括子文件夹', 'zh-HK': '包括子資料夾' },
          help: {
            en: '"true" to watch every folder below too',
            'zh-CN': '填 "true" 同时监视下层所有文件夹',
            'zh-HK': '填 "true" 同時監察下層所有資料夾',
          },
        },
      },
    },
    'google.drive.changes_push': {
      title: {
        en: 'Google Drive: push notifications for a watched folder',
        'zh-CN': 'Google 云端硬盘：所监视文件夹的推送通知',
        'zh-HK': 'Google 雲端硬碟：所監察資料夾的推送通知',
      },
      description: {
        en: 'With an https PUBLIC_URL, Drive tells the hub at once when something changes, and the folder is checked immediately.',
        'zh-CN': 'PUBLIC_URL 为 https 时，云端硬盘有变化会立即通知，文件夹随即被检查。',
        'zh-HK': 'PUBLIC_URL 為 https 時，雲端硬碟有變化會即時通知，資料夾隨即被檢查。',
      },
      params: {
        folder: { label: { en: 'Folder ID', 'zh-CN': '文件夹 ID', 'zh-HK': '資料夾 ID' } },
        subfolders: { label: { en: 'Include subfolders', 'zh-CN': '包括子文件夹', 'zh-HK': '包括子資料夾' } },
      },
    },
    'google.gmail.message': {
      title: {
        en: 'Gmail: new message matching a search',
        'zh-CN': 'Gmail：收到符合搜索条件的新邮件',
        'zh-HK': 'Gmail：收到符合搜尋條件的新郵件',
      },
      params: {
        query: {
          label: { en: 'Gmail search', 'zh-CN': 'Gmail 搜索条件', 'zh-HK': 'Gmail 搜尋條件' },
          help: {
            en: 'As in Gmail’s search box, e.g. from:@customer.com subject:order',
            'zh-CN': '与 Gmail 搜索框相同，例如 from:@customer.com subject:order',
            'zh-HK': '與 Gmail 搜尋框相同，例如 from:@customer.com subject:order',
          },
          example: 'from:@customer.com',
        },
      },
    },
  },
  events: {
    'google.drive.file.added': { en: 'Drive file added to a folder', 'zh-CN': '云端硬盘文件夹新增文件', 'zh-HK': '雲端硬碟資料夾新增檔案' },
    'google.drive.file.changed': {
      en: 'Drive file changed in a folder',
      'zh-CN': '云端硬盘文件夹中的文件已更改',
      'zh-HK': '雲端硬碟資料夾內的檔案已更改',
    },
    'google.drive.file.removed': {
      en: 'Drive file removed from a folder',
      'zh-CN': '文件已移出云端硬盘文件夹',
      'zh-HK': '檔案已移出雲端硬碟資料夾',
    },
    'google.gmail.message.received': { en: 'Gmail message received', 'zh-CN': '收到 Gmail 邮件', 'zh-HK': '收到 Gmail 郵件' },
  },
  errors: {
    rateLimitExceeded: {
      en: 'Google’s rate limit was reached: the step waits and tries again.',
      'zh-CN': '已达到 Google 的速率限制：步骤会稍后重试。',
      'zh-HK': '已達到 Google 的速率限制：步驟會稍後重試。',
    },
    userRateLimitExceeded: {
      en: 'Google’s per-user rate limit was reached: the step waits and tries again.',
      'zh-CN': '已达到 Google 的单用户速率限制：步骤会稍后重试。',
      'zh-HK': '已達到 Google 的單一用戶速率限制：步驟會稍後重試。',
    },
    insufficientPermissions: {
      en: 'The Google connection lacks a scope this needs: connect the account again and grant it.',
      'zh-CN': 'Google 连接缺少所需的权限范围：请重新连接账号并授予权限。',
      'zh-HK': 'Google 連線缺少所需的權限範圍：請重新連接帳戶並授予權限。',
    },
    forbidden: {
      en: 'The Google account may not do this (sharing or ownership): ask the file’s owner or an admin.',
      'zh-CN': '该 Google 账号无权执行此操作（共享或所有权）：请联系文件所有者或管理员。',
      'zh-HK': '該 Google 帳戶無權執行此操作（共用或擁有權）：請聯絡檔案擁有者或管理員。',
    },
    notFound: {
      en: 'Google cannot find it (or this account cannot see it): check the id and the sharing.',
      'zh-CN': 'Google 找不到该项目（或此账号看不到）：请检查 ID 和共享设置。',
      'zh-HK': 'Google 找不到該項目（或此帳戶看不到）：請檢查 ID 和共用設定。',
    },
    fileNotDownloadable: {
      en: 'Google Docs, Sheets and Slides have no file to download: export them instead.',
      'zh-CN': 'Google 文档、表格和幻灯片没有可下载的文件：请改为导出。',
      'zh-HK': 'Google 文件、試算表和簡報沒有可下載的檔案：請改為匯出。',
    },
  },
};
