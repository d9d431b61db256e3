import { tx, type ConnectorTranslations } from '../../core/connector-i18n.ts';

export const oauth2I18n: ConnectorTranslations = {
  name: tx('Any OAuth 2 API', '任意 OAuth 2 接口', '任何 OAuth 2 介面'),
  actions: {
    'oauth2.request': {
      title: tx("Call the API with the connection's sign-in", '用此连接的授权调用接口', '以此連線的授權呼叫介面'),
      fields: {
        method: { label: tx('Method', '方法', '方法') },
        url: {
          label: tx('Address (URL)', '网址', '網址'),
          help: tx("Only the connection's API addresses.", '只限此连接的 API 地址。', '只限此連線的 API 網址。'),
          example: 'https://api.example.com/v1/me',
        },
        body: { label: tx('What to send', '发送内容', '傳送內容') },
        headers: { label: tx('Extra headers', '额外请求头', '額外請求標頭') },
      },
    },
  },
  connectionFields: {
    authorizationUrl: { label: tx('Authorization URL', '授权网址', '授權網址'), example: 'https://provider.example.com/oauth/authorize' },
    tokenUrl: { label: tx('Token URL', '令牌网址', '權杖網址'), example: 'https://provider.example.com/oauth/token' },
    apiBaseUrl: {
      label: tx('API addresses it may call', '可调用的 API 地址', '可呼叫的 API 網址'),
      help: tx(
        'Space-separated; default: those of the token and test URLs.',
        '以空格分隔；默认为令牌和测试网址的来源。',
        '以空格分隔；預設為權杖和測試網址的來源。',
      ),
    },
    userinfoUrl: { label: tx('A URL to test the connection with', '用于测试连接的网址', '用作測試連線的網址') },
    scopes: { label: tx('Scopes (space-separated)', '权限范围（空格分隔）', '權限範圍（以空格分隔）') },
    clientId: { label: tx('Client ID', 'Client ID', 'Client ID') },
    clientSecret: { label: tx('Client secret', 'Client Secret', 'Client Secret') },
  },
  guide: [
    {
      title: tx('Register an app with the provider', '在服务商处注册应用', '在服務供應商登記應用程式'),
      body: tx(
        "In the provider's developer settings, create an OAuth app and paste this redirect (callback) URL.",
        '在服务商的开发者设置中创建 OAuth 应用，并粘贴下面的回调地址。',
        '在服務供應商的開發者設定中建立 OAuth 應用程式，並貼上下方的回調網址。',
      ),
      paste: ['oauthCallback'],
    },
    {
      title: tx('Copy its Client ID and secret', '复制 Client ID 和密钥', '複製 Client ID 和密鑰'),
      body: tx(
        'Paste them here with the two URLs, then Connect.',
        '连同两个网址一起粘贴到这里，然后连接。',
        '連同兩個網址一併貼上到這裡，然後連接。',
      ),
      fields: ['authorizationUrl', 'tokenUrl', 'clientId', 'clientSecret'],
    },
  ],
};
