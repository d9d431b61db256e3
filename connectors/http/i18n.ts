import { tx, type ConnectorTranslations } from '../../core/connector-i18n.ts';

const url = { label: tx('Address (URL)', '网址', '網址'), example: 'https://example.com/hooks/orders' };
const headers = {
  label: tx('Extra headers', '额外请求头', '額外請求標頭'),
  help: tx(
    'Name and value of each header, e.g. {"X-Team": "sales"}.',
    '每个请求头的名称和值，如 {"X-Team": "sales"}。',
    '每個請求標頭的名稱和值，例如 {"X-Team": "sales"}。',
  ),
};

export const httpI18n: ConnectorTranslations = {
  name: tx('Web request (HTTP)', '网络请求（HTTP）', '網絡請求（HTTP）'),
  actions: {
    'http.post': {
      title: tx('Send JSON to a URL', '发送 JSON 到网址', '傳送 JSON 到網址'),
      fields: {
        url,
        body: {
          label: tx('What to send', '发送内容', '傳送內容'),
          help: tx(
            "JSON; use the data picker for the event's values.",
            'JSON；用数据选择器插入事件中的值。',
            'JSON；用資料選擇器插入事件中的值。',
          ),
        },
        secret: {
          label: tx('Signing secret', '签名密钥', '簽署密鑰'),
          help: tx(
            'When set, each request is signed (write-only).',
            '设置后每个请求都会签名（只写）。',
            '設定後每個請求都會簽署（只寫）。',
          ),
        },
        headers,
      },
    },
    'http.download': {
      title: tx('Download a file from a URL', '从网址下载文件', '從網址下載檔案'),
      fields: { url, name: { label: tx('File name', '文件名', '檔案名稱'), example: 'report.pdf' }, headers },
    },
    'http.upload': {
      title: tx('Upload a file to a URL', '上传文件到网址', '上載檔案到網址'),
      fields: {
        url,
        file: { label: tx('File (from an earlier step)', '文件（来自前面的步骤）', '檔案（來自之前的步驟）') },
        method: { label: tx('Method', '方法', '方法'), options: { PUT: tx('PUT', 'PUT', 'PUT'), POST: tx('POST', 'POST', 'POST') } },
        headers,
      },
    },
  },
  errors: {
    egress_denied: tx(
      'This address is not allowed: the hub only calls public addresses (see DINGBRIDGE_EGRESS_ALLOW).',
      '不允许访问此地址：本中心只调用公网地址（参见 DINGBRIDGE_EGRESS_ALLOW）。',
      '不允許存取此網址：本中心只會呼叫公開網址（參閱 DINGBRIDGE_EGRESS_ALLOW）。',
    ),
  },
};
