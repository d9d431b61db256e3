import { tx, type ConnectorTranslations } from '../../core/connector-i18n.ts';

const card = {
  label: tx('Card', '卡片', '卡片'),
  help: tx('The card id or its short link.', '卡片 ID 或短链接。', '卡片 ID 或短連結。'),
  example: 'aB3dE5fG',
};
const board = {
  label: tx('Board', '看板', '看板'),
  help: tx('Choose the board by name; its id is stored.', '按名称选择看板；保存的是看板 ID。', '按名稱選擇看板；儲存的是看板 ID。'),
  example: '6750f0a0a1b2c3d4e5f60001',
  choices: 'boards',
};
const list = {
  label: tx('List', '列表', '列表'),
  help: tx('The list by name (e.g. Done) or id.', '列表名称（如 Done）或 ID。', '列表名稱（例如 Done）或 ID。'),
  example: 'Done',
};
const name = { label: tx('Card name', '卡片名称', '卡片名稱'), example: tx('Fix the login page', '修复登录页', '修正登入頁') };
const description = {
  label: tx('Description', '描述', '描述'),
  help: tx('Markdown is allowed.', '可使用 Markdown。', '可使用 Markdown。'),
};
const due = {
  label: tx('Due date', '截止日期', '到期日'),
  help: tx('A date and time (ISO 8601).', '日期和时间（ISO 8601）。', '日期和時間（ISO 8601）。'),
  example: '2030-01-31T18:00:00+08:00',
};
const position = {
  label: tx('Position', '位置', '位置'),
  options: { top: tx('Top', '顶部', '頂部'), bottom: tx('Bottom', '底部', '底部') },
};

export const trelloI18n: ConnectorTranslations = {
  name: tx('Trello', 'Trello', 'Trello'),
  actions: {
    'trello.card.create': {
      title: tx('Create a Trello card', '新建 Trello 卡片', '新增 Trello 卡片'),
      fields: {
        board,
        list,
        name,
        description,
        due,
        labels: {
          label: tx('Labels', '标签', '標籤'),
          help: tx('Label names or colours.', '标签名称或颜色。', '標籤名稱或顏色。'),
          example: 'urgent',
        },
        members: {
          label: tx('Members', '成员', '成員'),
          help: tx('Trello usernames.', 'Trello 用户名。', 'Trello 用戶名稱。'),
          example: 'kayan',
        },
        position,
      },
    },
    'trello.card.update': {
      title: tx('Update a Trello card', '更新 Trello 卡片', '更新 Trello 卡片'),
      fields: {
        card,
        name,
        description,
        due,
        dueComplete: { label: tx('Due date done', '已完成截止事项', '到期事項已完成') },
      },
    },
    'trello.card.move': {
      title: tx('Move a Trello card to another list', '把 Trello 卡片移到另一个列表', '把 Trello 卡片移到另一個列表'),
      fields: { card, list, board, position },
    },
    'trello.card.comment': {
      title: tx('Comment on a Trello card', '评论 Trello 卡片', '在 Trello 卡片留言'),
      fields: { card, text: { label: tx('Comment', '评论', '留言'), example: tx('Paid, thanks!', '已付款，谢谢！', '已付款，多謝！') } },
    },
    'trello.card.archive': { title: tx('Archive a Trello card', '归档 Trello 卡片', '封存 Trello 卡片'), fields: { card } },
  },
  triggers: {
    'trello.board_activity': {
      title: tx('Activity on a Trello board', 'Trello 看板上的动态', 'Trello 看板上的動態'),
      description: tx(
        'Cards created, moved, commented, archived, due dates; lists created.',
        '卡片新建、移动、评论、归档、截止日期变更；新建列表。',
        '卡片新增、移動、留言、封存、到期日變更；新增列表。',
      ),
      params: { board },
    },
  },
  events: {
    'trello.card.created': tx('Card created', '卡片已新建', '卡片已新增'),
    'trello.card.updated': tx('Card changed', '卡片已更改', '卡片已更改'),
    'trello.card.moved': tx('Card moved to another list', '卡片移到了另一个列表', '卡片移到了另一個列表'),
    'trello.card.archived': tx('Card archived', '卡片已归档', '卡片已封存'),
    'trello.card.commented': tx('Comment on a card', '卡片有新评论', '卡片有新留言'),
    'trello.card.due_changed': tx('Card due date changed', '卡片截止日期已更改', '卡片到期日已更改'),
    'trello.list.created': tx('List created', '列表已新建', '列表已新增'),
  },
  connectionFields: {
    apiKey: {
      label: tx('API key', 'API 密钥（API key）', 'API 金鑰（API key）'),
      help: tx(
        'On trello.com/power-ups/admin: your Power-Up › API key.',
        '在 trello.com/power-ups/admin：你的 Power-Up › API key。',
        '在 trello.com/power-ups/admin：你的 Power-Up › API key。',
      ),
    },
    token: {
      label: tx('User token', '用户令牌（Token）', '用戶權杖（Token）'),
      help: tx(
        'Filled in by "Connect account", or pasted.',
        '点击“连接账号”自动填写，或手动粘贴。',
        '按「連接帳戶」自動填寫，或手動貼上。',
      ),
    },
    appSecret: {
      label: tx('App secret', '应用密钥（Secret）', '應用程式密鑰（Secret）'),
      help: tx(
        'Power-Up › API key › Secret; it verifies webhooks.',
        'Power-Up › API key › Secret；用于校验 Webhook。',
        'Power-Up › API key › Secret；用來核實 Webhook。',
      ),
    },
    baseUrl: { label: tx('API base URL', 'API 基础网址', 'API 基本網址') },
    authorizeBaseUrl: { label: tx('Authorize page base URL', '授权页基础网址', '授權頁基本網址') },
  },
  errors: {
    unauthorized: tx(
      'Trello refused the API key or the token: connect the account again.',
      'Trello 拒绝了 API 密钥或令牌：请重新连接账号。',
      'Trello 拒絕了 API 金鑰或權杖：請重新連接帳戶。',
    ),
    'invalid key': tx(
      'Trello does not know this API key: copy it again from trello.com/power-ups/admin.',
      'Trello 不认识这个 API 密钥：请从 trello.com/power-ups/admin 重新复制。',
      'Trello 不認識這個 API 金鑰：請從 trello.com/power-ups/admin 重新複製。',
    ),
    'invalid token': tx(
      'The user token is wrong or revoked: press "Connect account" again.',
      '用户令牌错误或已撤销：请再次点击“连接账号”。',
      '用戶權杖錯誤或已撤銷：請再按「連接帳戶」。',
    ),
  },
  guide: [
    {
      title: tx('Create a Power-Up', '创建 Power-Up', '建立 Power-Up'),
      body: tx(
        'Open Trello › Power-Ups admin and choose "New". Any name will do (e.g. dingbridge).',
        '打开 Trello › Power-Ups 管理页，选择“New”。名称随意（如 dingbridge）。',
        '打開 Trello › Power-Ups 管理頁，選擇「New」。名稱隨意（例如 dingbridge）。',
      ),
      link: 'https://trello.com/power-ups/admin',
    },
    {
      title: tx('Copy the API key and secret', '复制 API key 和 Secret', '複製 API key 和 Secret'),
      body: tx(
        'In your Power-Up, open "API key", press "Generate a new API key", and copy the API key and the Secret here.',
        '在 Power-Up 中打开“API key”，点击“Generate a new API key”，把 API key 和 Secret 复制到这里。',
        '在 Power-Up 打開「API key」，按「Generate a new API key」，把 API key 和 Secret 複製到這裡。',
      ),
      fields: ['apiKey', 'appSecret'],
    },
    {
      title: tx('Allow this hub as an origin', '允许本中心作为来源', '允許本中心作為來源'),
      body: tx(
        'Under "Allowed origins", add this hub\'s address, then save and press "Connect account".',
        '在“Allowed origins”中加入本中心的网址，保存后点击“连接账号”。',
        '在「Allowed origins」加入本中心的網址，儲存後按「連接帳戶」。',
      ),
      paste: ['origin'],
    },
  ],
  choices: { boards: tx('Trello boards', 'Trello 看板', 'Trello 看板') },
};
