/**
 * The server's error codes in words, [English, 简体中文, 繁體中文（香港）]: every `{error: {code}}` the API
 * answers with (tests/unit/translations.test.ts scans the server for codes and fails on one missing
 * here). The dictionary has them as `err_<code>`; errorText (ui.tsx) shows these words, and the
 * server's own message when a code has none.
 */
export const ERROR_WORDS: Record<string, [string, string, string]> = {
  // Requests and sessions
  bad_request: ['The request could not be read.', '无法读取请求。', '無法讀取請求。'],
  invalid_json: ['The request is not valid JSON.', '请求不是有效的 JSON。', '請求不是有效的 JSON。'],
  nul_character: [
    'The body holds the NUL character (\\u0000), which cannot be stored.',
    '请求内容含有无法保存的 NUL 字符（\\u0000）。',
    '請求內容含有無法儲存的 NUL 字元（\\u0000）。',
  ],
  invalid_request: [
    'Some values are not valid: check the marked fields.',
    '部分值无效：请检查标出的字段。',
    '部分值無效：請檢查標示的欄位。',
  ],
  request_aborted: ['The request was interrupted: try again.', '请求被中断：请重试。', '請求被中斷：請再試。'],
  payload_too_large: ['What you sent is too large.', '发送的内容太大。', '傳送的內容太大。'],
  unsupported_media_type: ['This kind of content is not accepted here.', '这里不接受这种内容类型。', '這裏不接受這種內容類型。'],
  method_not_allowed: ['This action is not possible here.', '这里不能执行此操作。', '這裏不能執行此操作。'],
  not_found: ['Not found: it may have been deleted.', '未找到：可能已被删除。', '找不到：可能已被刪除。'],
  internal: [
    'Something went wrong on the hub: try again; if it persists, tell your administrator.',
    '本中心出错：请重试；若仍然出错，请联系管理员。',
    '本中心出錯：請再試；如仍然出錯，請通知管理員。',
  ],
  store_unavailable: [
    'The database cannot be reached: nothing was saved. Try again in a moment.',
    '无法连接数据库：没有保存任何内容。请稍后重试。',
    '無法連接資料庫：沒有儲存任何內容。請稍後再試。',
  ],
  conflict: [
    'Something changed while this ran; nothing was written: run it again.',
    '运行期间数据有变化，未写入任何内容：请再运行一次。',
    '執行期間資料有變，沒有寫入任何內容：請再執行一次。',
  ],
  csrf_failed: ['Your session expired: reload the page.', '会话已过期：请刷新页面。', '工作階段已過期：請重新載入頁面。'],
  unauthenticated: ['You are signed out: sign in again.', '你已退出登录：请重新登录。', '你已登出：請重新登入。'],
  forbidden: [
    'Your role may not do this: ask an owner or admin.',
    '你的角色无权执行此操作：请联系所有者或管理员。',
    '你的角色無權執行此操作：請聯絡擁有者或管理員。',
  ],
  network_not_allowed: [
    'This network may not reach the admin pages (DINGBRIDGE_ADMIN_ALLOW).',
    '此网络不允许访问管理页面（DINGBRIDGE_ADMIN_ALLOW）。',
    '此網絡不允許存取管理頁面（DINGBRIDGE_ADMIN_ALLOW）。',
  ],
  origin_not_allowed: [
    'This page was opened from another address: open the hub at its own address.',
    '此页面来自其他地址：请从本中心自己的地址打开。',
    '此頁面來自其他網址：請從本中心自己的網址開啟。',
  ],
  too_many_previews: ['Too many previews at once: wait a moment.', '同时预览太多：请稍候。', '同時預覽太多：請稍候。'],
  preview_busy: ['Too many previews at once: wait a moment.', '同时预览太多：请稍候。', '同時預覽太多：請稍候。'],

  // Sign-in, accounts, two-factor
  invalid_credentials: ['Wrong email or password.', '邮箱或密码错误。', '電子郵件或密碼錯誤。'],
  invalid_password: ['The password is wrong.', '密码错误。', '密碼錯誤。'],
  invalid_code: [
    'That code is not valid: type the current 6-digit code.',
    '验证码无效：请输入当前的 6 位数字。',
    '驗證碼無效：請輸入目前的 6 位數字。',
  ],
  totp_required: [
    'Enter the 6-digit code from your authenticator app, or a recovery code.',
    '请输入验证器应用中的 6 位验证码，或一个恢复码。',
    '請輸入驗證器應用程式中的 6 位驗證碼，或一個復原碼。',
  ],
  two_factor_required: [
    'This hub requires two-factor authentication: turn it on under Security & 2FA.',
    '本中心要求双重验证：请在“安全与双重验证”中启用。',
    '本中心要求雙重驗證：請在「安全與雙重驗證」中啟用。',
  ],
  no_pending_setup: ['Start the two-factor setup first.', '请先开始设置双重验证。', '請先開始設定雙重驗證。'],
  too_many_attempts: [
    'Too many failed sign-ins: wait a few minutes and try again.',
    '登录失败次数太多：请等几分钟再试。',
    '登入失敗次數太多：請等幾分鐘再試。',
  ],
  setup_done: ['The owner account exists already: sign in.', '所有者账号已存在：请登录。', '擁有者帳戶已存在：請登入。'],
  setup_code_required: [
    "Type the one-time setup code from the hub's log (or DINGBRIDGE_ADMIN_TOKEN).",
    '请输入本中心日志中的一次性设置码（或 DINGBRIDGE_ADMIN_TOKEN）。',
    '請輸入本中心日誌中的一次性設定碼（或 DINGBRIDGE_ADMIN_TOKEN）。',
  ],
  user_exists: ['A user with this email exists already.', '已有使用此邮箱的用户。', '已有使用此電子郵件的用戶。'],
  email_taken: ['This email is used by another user.', '此邮箱已被其他用户使用。', '此電子郵件已被其他用戶使用。'],
  user_not_found: ['No such user: it may have been removed.', '没有此用户：可能已被删除。', '沒有此用戶：可能已被刪除。'],
  last_owner: [
    'This is the last owner: make someone else owner first.',
    '这是最后一位所有者：请先将其他人设为所有者。',
    '這是最後一位擁有者：請先將其他人設為擁有者。',
  ],
  identity_taken: [
    'This person is linked to someone else in the directory already.',
    '此人已与目录中的其他人关联。',
    '此人已與目錄中的其他人連結。',
  ],
  invalid_rows: [
    'Some rows have errors; nothing was imported: fix the rows shown.',
    '部分行有错误，未导入任何内容：请修正列出的行。',
    '部分列有錯誤，沒有匯入任何內容：請修正列出的列。',
  ],
  not_supported: [
    'This connection cannot do this for the people directory.',
    '此连接不支持对人员目录的此操作。',
    '此連線不支援對人員目錄的此操作。',
  ],

  // API keys
  invalid_api_key: ['The API key is not valid.', 'API 密钥无效。', 'API 金鑰無效。'],
  api_key_expired: ['The API key has expired: make a new one.', 'API 密钥已过期：请新建一个。', 'API 金鑰已過期：請新增一個。'],
  api_key_not_found: ['No such API key: it may have been revoked.', '没有此 API 密钥：可能已被撤销。', '沒有此 API 金鑰：可能已被撤銷。'],
  token_invalid: ['The token is not valid.', '令牌无效。', '權杖無效。'],
  token_missing: ['A token is needed.', '缺少令牌。', '缺少權杖。'],

  // Flows, recipes, runs
  flow_exists: [
    'A flow with this id exists already: choose another id.',
    '已有相同 ID 的流程：请换一个 ID。',
    '已有相同 ID 的流程：請另選一個 ID。',
  ],
  flow_not_found: ['No such flow: it may have been deleted.', '没有此流程：可能已被删除。', '沒有此流程：可能已被刪除。'],
  flow_read_only: [
    'This flow comes from the config file: change it there.',
    '此流程来自配置文件：请在配置文件中修改。',
    '此流程來自設定檔：請在設定檔中修改。',
  ],
  invalid_flow: ['The flow is not valid: check the marked fields.', '流程无效：请检查标出的字段。', '流程無效：請檢查標示的欄位。'],
  invalid_input: [
    "Some of the step's fields are not valid: check the marked fields.",
    '步骤的部分字段无效：请检查标出的字段。',
    '步驟的部分欄位無效：請檢查標示的欄位。',
  ],
  missing_fields: ['Fill in the required fields.', '请填写必填字段。', '請填寫必填欄位。'],
  recipe_not_found: ['This recipe is not available on this hub.', '本中心没有这个模板。', '本中心沒有這個範本。'],
  not_a_flow: [
    'This recipe makes a calendar sync, not a flow.',
    '这个模板建立的是日历同步，不是流程。',
    '這個範本建立的是日曆同步，不是流程。',
  ],
  not_a_calendar_sync: [
    'This recipe makes a flow, not a calendar sync.',
    '这个模板建立的是流程，不是日历同步。',
    '這個範本建立的是流程，不是日曆同步。',
  ],
  invalid_calendar_sync: [
    'These fields do not make a valid calendar sync.',
    '这些字段无法组成有效的日历同步。',
    '這些欄位無法組成有效的日曆同步。',
  ],
  invalid_connection: [
    'Choose a connection of the right service, with a calendar (two different ones).',
    '请选择正确服务、带日历的连接（两个不同的连接）。',
    '請選擇正確服務、帶日曆的連線（兩個不同的連線）。',
  ],
  calendar_sync_exists: ['A calendar sync with this id exists already.', '已有同一 ID 的日历同步。', '已有同一 ID 的日曆同步。'],
  action_not_found: ['This action is not available on this hub.', '本中心没有这个操作。', '本中心沒有這個操作。'],
  action_failed: ['The action failed: see the message below.', '操作失败：请看下面的信息。', '操作失敗：請看下面的訊息。'],
  event_not_found: [
    'No such event: it may be older than the runs kept.',
    '没有此事件：可能早于保留的运行记录。',
    '沒有此事件：可能早於保留的執行記錄。',
  ],
  step_not_found: ['No such step run.', '没有此步骤记录。', '沒有此步驟記錄。'],
  not_replayable: ['Only failed steps can be replayed.', '只有失败的步骤可以重放。', '只有失敗的步驟可以重播。'],
  file_not_found: [
    'The file is gone: files are kept for a limited time.',
    '文件已不存在：文件只保留一段时间。',
    '檔案已不存在：檔案只會保留一段時間。',
  ],
  file_too_large: ['The file is too large.', '文件太大。', '檔案太大。'],

  // Connections, provider apps, OAuth
  connection_exists: [
    'A connection with this id exists already: choose another id.',
    '已有相同 ID 的连接：请换一个 ID。',
    '已有相同 ID 的連線：請另選一個 ID。',
  ],
  connection_not_found: ['No such connection: it may have been deleted.', '没有此连接：可能已被删除。', '沒有此連線：可能已被刪除。'],
  unknown_connector: ['This service is not available on this hub.', '本中心没有这个服务。', '本中心沒有這個服務。'],
  connector_mismatch: ['This connection belongs to another service.', '此连接属于另一个服务。', '此連線屬於另一個服務。'],
  invalid_id: [
    'An id is letters, digits, - and _ (at most 64).',
    'ID 只能包含字母、数字、- 和 _（最多 64 个）。',
    'ID 只可包含字母、數字、- 和 _（最多 64 個）。',
  ],
  invalid_secret: ['A secret must be text.', '密钥必须是文本。', '密鑰必須是文字。'],
  needs_reauth: [
    'The provider no longer accepts this connection: connect it again.',
    '服务商不再接受此连接：请重新连接。',
    '服務供應商不再接受此連線：請重新連接。',
  ],
  test_failed: [
    "The test call failed: check the values against the provider's console.",
    '测试调用失败：请对照服务商后台检查填写的值。',
    '測試呼叫失敗：請對照服務供應商後台檢查填寫的值。',
  ],
  not_testable: ['This connection has no test.', '此连接没有测试。', '此連線沒有測試。'],
  not_authorizable: [
    'This connection takes a pasted token, not a sign-in with the provider.',
    '此连接使用粘贴的令牌，不需要通过服务商登录。',
    '此連線使用貼上的權杖，毋須透過服務供應商登入。',
  ],
  not_oauth2: [
    'This connection does not sign in with the provider (OAuth).',
    '此连接不通过服务商登录（OAuth）。',
    '此連線不透過服務供應商登入（OAuth）。',
  ],
  access_denied: [
    'The account owner declined access at the provider: connect again and allow it.',
    '账号所有者在服务商处拒绝了授权：请重新连接并允许。',
    '帳戶擁有者在服務供應商處拒絕了授權：請重新連接並允許。',
  ],
  authorization_failed: [
    'The provider did not authorise the connection: connect again.',
    '服务商没有授权此连接：请重新连接。',
    '服務供應商沒有授權此連線：請重新連接。',
  ],
  oauth_failed: [
    'The sign-in with the provider failed: connect again.',
    '通过服务商登录失败：请重新连接。',
    '透過服務供應商登入失敗：請重新連接。',
  ],
  oauth_start_failed: [
    'The sign-in with the provider could not start: check the app settings.',
    '无法开始通过服务商登录：请检查应用设置。',
    '未能開始透過服務供應商登入：請檢查應用程式設定。',
  ],
  code_exchange_failed: [
    'The provider refused the sign-in: connect again, and check the app secret.',
    '服务商拒绝了登录：请重新连接，并检查应用密钥。',
    '服務供應商拒絕了登入：請重新連接，並檢查應用程式密鑰。',
  ],
  invalid_state: [
    'This sign-in answer belongs to another session: start connecting again from the hub.',
    '此登录结果属于另一个会话：请从本中心重新开始连接。',
    '此登入結果屬於另一個工作階段：請從本中心重新開始連接。',
  ],
  invalid_return_to: ['The page to come back to must be on this hub.', '返回的页面必须在本中心。', '返回的頁面必須在本中心。'],
  app_exists: ['A provider app with this id exists already.', '已有相同 ID 的服务商应用。', '已有相同 ID 的服務供應商應用程式。'],
  app_not_found: ['No such provider app.', '没有此服务商应用。', '沒有此服務供應商應用程式。'],
  app_in_use: [
    'Connections use this app: delete them or move them to another app first.',
    '有连接正在使用此应用：请先删除它们或改用其他应用。',
    '有連線正在使用此應用程式：請先刪除它們或改用其他應用程式。',
  ],
  app_mismatch: ['This app belongs to another service.', '此应用属于另一个服务。', '此應用程式屬於另一個服務。'],
  no_app: ['This service has no provider app.', '此服务没有服务商应用。', '此服務沒有服務供應商應用程式。'],
  choices_failed: [
    'The list could not be loaded from the provider: test the connection on the Connections page.',
    '无法从服务商加载列表：请在“连接”页面测试该连接。',
    '未能從服務供應商載入列表：請在「連線」頁面測試該連線。',
  ],
  choices_not_found: ['This connection offers no such list.', '此连接没有这个列表。', '此連線沒有這個列表。'],
  target_not_allowed: [
    'The hub may not call this address (private or not allowed).',
    '本中心不能调用此地址（内网或不允许）。',
    '本中心不能呼叫此網址（內部網絡或不允許）。',
  ],
  target_unresolvable: [
    "The address's host cannot be found: check the URL.",
    '找不到该地址的主机：请检查网址。',
    '找不到該網址的主機：請檢查網址。',
  ],

  // Triggers, hooks, webhooks
  trigger_not_found: ['No such trigger.', '没有此触发器。', '沒有此觸發器。'],
  subscription_not_found: ['No such trigger subscription.', '没有此触发订阅。', '沒有此觸發訂閱。'],
  subscription_disabled: ['Turn the subscription on first.', '请先启用该订阅。', '請先啟用該訂閱。'],
  unknown_subscription: ['No subscription of this connection matches.', '此连接没有匹配的订阅。', '此連線沒有相符的訂閱。'],
  not_applicable: ['This does not apply to this trigger.', '此操作不适用于该触发器。', '此操作不適用於該觸發器。'],
  hook_exists: ['A catch hook with this id exists already.', '已有相同 ID 的接收 Webhook。', '已有相同 ID 的接收 Webhook。'],
  hook_not_found: ['No such catch hook.', '没有此接收 Webhook。', '沒有此接收 Webhook。'],
  no_secret: [
    'This hook is not verified, so it has no secret to rotate.',
    '此 Webhook 未启用验证，没有可更换的密钥。',
    '此 Webhook 未啟用驗證，沒有可更換的密鑰。',
  ],
  no_webhook: ['This service has no such webhook.', '此服务没有这个 Webhook。', '此服務沒有這個 Webhook。'],
  delivery_not_found: ['No such delivery.', '没有此投递记录。', '沒有此投遞記錄。'],
  delivery_in_progress: [
    'The delivery is still running: replay it once it has succeeded or failed.',
    '投递仍在进行：成功或失败后才可重放。',
    '投遞仍在進行：成功或失敗後才可重播。',
  ],
  invalid_signature: ['The signature does not match: check the secret.', '签名不匹配：请检查密钥。', '簽名不相符：請檢查密鑰。'],
  signature_invalid: ['The signature does not match: check the secret.', '签名不匹配：请检查密钥。', '簽名不相符：請檢查密鑰。'],
  signature_missing: ['The request has no signature.', '请求没有签名。', '請求沒有簽名。'],
  timestamp_invalid: ["The request's time is not valid.", '请求的时间无效。', '請求的時間無效。'],
  timestamp_missing: ['The request has no time.', '请求没有时间。', '請求沒有時間。'],
  timestamp_out_of_tolerance: [
    "The request's time is too far from now: check the clocks.",
    '请求的时间与现在相差太远：请检查时钟。',
    '請求的時間與現在相差太遠：請檢查時鐘。',
  ],

  // The browser's own
  error: ['The hub answered with an error.', '本中心返回了错误。', '本中心回覆了錯誤。'],
  network: [
    'The hub cannot be reached: check the network and try again.',
    '无法连接本中心：请检查网络后重试。',
    '無法連接本中心：請檢查網絡後再試。',
  ],
};

/** Codes whose server message names what is wrong (the fields, the provider's words): shown after the translated words. */
export const DETAILED_ERRORS = new Set([
  'invalid_request',
  'invalid_flow',
  'invalid_input',
  'missing_fields',
  'action_failed',
  'test_failed',
  'choices_failed',
  'oauth_failed',
  'code_exchange_failed',
  'target_not_allowed',
  'target_unresolvable',
  'invalid_rows',
  'error',
]);
