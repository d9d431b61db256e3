import type { ConnectorTranslations } from '../../core/connector-i18n.ts';

export const docusignI18n: ConnectorTranslations = {
  name: { en: 'DocuSign', 'zh-CN': 'DocuSign 电子签名', 'zh-HK': 'DocuSign 電子簽署' },
  actions: {
    'docusign.envelope.send': {
      title: { en: 'Send an envelope for signature', 'zh-CN': '发送信封签署', 'zh-HK': '傳送信封簽署' },
      description: {
        en: 'From a template (roles filled with names and emails) or from a file with signature tabs placed by anchor text. A retry never sends a second envelope.',
        'zh-CN': '使用模板（按角色填入姓名和邮箱），或使用文件并按锚点文字放置签名位置。重试不会重复发送信封。',
        'zh-HK': '使用範本（按角色填入姓名及電郵），或使用檔案並按錨點文字放置簽署位置。重試不會重複傳送信封。',
      },
      fields: {
        emailSubject: { label: { en: 'Email subject', 'zh-CN': '邮件主题', 'zh-HK': '電郵主旨' } },
        emailBlurb: { label: { en: 'Email message', 'zh-CN': '邮件正文', 'zh-HK': '電郵內文' } },
        templateId: { label: { en: 'Template', 'zh-CN': '模板', 'zh-HK': '範本' } },
        roles: { label: { en: 'Template roles', 'zh-CN': '模板角色', 'zh-HK': '範本角色' } },
        document: { label: { en: 'Document (file)', 'zh-CN': '文档（文件）', 'zh-HK': '文件（檔案）' } },
        signers: { label: { en: 'Signers', 'zh-CN': '签署人', 'zh-HK': '簽署人' } },
        customFields: { label: { en: 'Custom fields', 'zh-CN': '自定义字段', 'zh-HK': '自訂欄位' } },
        documentName: { label: { en: 'Document name', 'zh-CN': '文档名称', 'zh-HK': '文件名稱' } },
        carbonCopies: { label: { en: 'Copies to (name and email)', 'zh-CN': '抄送（姓名和邮箱）', 'zh-HK': '副本收件人（姓名及電郵）' } },
        status: { label: { en: 'Send now or keep as draft', 'zh-CN': '立即发送或存为草稿', 'zh-HK': '立即傳送或儲存為草稿' } },
      },
    },
    'docusign.envelope.get': {
      title: { en: 'Get an envelope', 'zh-CN': '获取信封', 'zh-HK': '取得信封' },
      fields: { envelopeId: { label: { en: 'Envelope id', 'zh-CN': '信封 ID', 'zh-HK': '信封 ID' } } },
    },
    'docusign.envelope.void': {
      title: { en: 'Void an envelope', 'zh-CN': '作废信封', 'zh-HK': '作廢信封' },
      fields: {
        envelopeId: { label: { en: 'Envelope id', 'zh-CN': '信封 ID', 'zh-HK': '信封 ID' } },
        reason: { label: { en: 'Reason', 'zh-CN': '原因', 'zh-HK': '原因' } },
      },
    },
    'docusign.envelope.download': {
      title: { en: 'Download the signed PDF', 'zh-CN': '下载已签署 PDF', 'zh-HK': '下載已簽署 PDF' },
      fields: {
        envelopeId: { label: { en: 'Envelope id', 'zh-CN': '信封 ID', 'zh-HK': '信封 ID' } },
        name: { label: { en: 'File name', 'zh-CN': '文件名', 'zh-HK': '檔案名稱' } },
        certificate: { label: { en: 'Also the certificate', 'zh-CN': '同时下载完成证书', 'zh-HK': '一併下載完成證書' } },
      },
    },
  },
  triggers: {
    'docusign.connect': {
      title: { en: 'Envelope events (DocuSign Connect)', 'zh-CN': '信封事件（DocuSign Connect）', 'zh-HK': '信封事件（DocuSign Connect）' },
    },
    'docusign.status_poll': {
      title: { en: 'Envelope status changes (polled)', 'zh-CN': '信封状态变更（轮询）', 'zh-HK': '信封狀態變更（輪詢）' },
    },
  },
  events: {
    'docusign.envelope.sent': { en: 'Envelope sent', 'zh-CN': '信封已发送', 'zh-HK': '信封已傳送' },
    'docusign.envelope.delivered': { en: 'Envelope opened by a signer', 'zh-CN': '签署人已打开信封', 'zh-HK': '簽署人已開啟信封' },
    'docusign.envelope.completed': {
      en: 'Envelope completed (all signed)',
      'zh-CN': '信封已完成（全部签署）',
      'zh-HK': '信封已完成（全部簽署）',
    },
    'docusign.envelope.declined': { en: 'Envelope declined', 'zh-CN': '信封被拒签', 'zh-HK': '信封被拒簽' },
    'docusign.envelope.voided': { en: 'Envelope voided', 'zh-CN': '信封已作废', 'zh-HK': '信封已作廢' },
    'docusign.recipient.completed': { en: 'A recipient signed', 'zh-CN': '一位收件人已签署', 'zh-HK': '一位收件人已簽署' },
  },
  connectionFields: {
    clientId: { label: { en: 'Integration key', 'zh-CN': '集成密钥', 'zh-HK': '整合金鑰' } },
    clientSecret: { label: { en: 'Secret key', 'zh-CN': '密钥', 'zh-HK': '密鑰' } },
    refreshToken: { label: { en: 'Refresh token', 'zh-CN': '刷新令牌', 'zh-HK': '更新權杖' } },
    userId: { label: { en: 'User id (JWT)', 'zh-CN': '用户 ID（JWT）', 'zh-HK': '用戶 ID（JWT）' } },
    privateKey: { label: { en: 'RSA private key (JWT)', 'zh-CN': 'RSA 私钥（JWT）', 'zh-HK': 'RSA 私密金鑰（JWT）' } },
    privateKeyFile: { label: { en: 'Private key file (JWT)', 'zh-CN': '私钥文件（JWT）', 'zh-HK': '私密金鑰檔案（JWT）' } },
    accountId: { label: { en: 'Account id', 'zh-CN': '账户 ID', 'zh-HK': '帳戶 ID' } },
    hmacKeys: { label: { en: 'Connect HMAC keys', 'zh-CN': 'Connect HMAC 密钥', 'zh-HK': 'Connect HMAC 金鑰' } },
    oauthBaseUrl: { label: { en: 'Account server', 'zh-CN': '账户服务器', 'zh-HK': '帳戶伺服器' } },
    baseUrl: { label: { en: 'REST base URI', 'zh-CN': 'REST 基础地址', 'zh-HK': 'REST 基本網址' } },
    connectUrl: { label: { en: 'Connect URL per envelope', 'zh-CN': '每个信封的 Connect 地址', 'zh-HK': '每個信封的 Connect 網址' } },
    consentRedirectUri: { label: { en: 'Consent redirect URI', 'zh-CN': '授权同意回调地址', 'zh-HK': '授權同意回調網址' } },
  },
  errors: {
    consent_required: {
      en: 'The DocuSign user has not granted consent yet: open the consent link on the Connections page.',
      'zh-CN': 'DocuSign 用户尚未授权同意：请在“连接”页面打开授权链接。',
      'zh-HK': 'DocuSign 用戶尚未授權同意：請在「連線」頁面開啟授權連結。',
    },
    HOURLY_APIINVOCATION_LIMIT_EXCEEDED: {
      en: "The account's hourly API budget is spent: sends wait for its reset.",
      'zh-CN': '账户每小时 API 额度已用完：发送将等待额度重置。',
      'zh-HK': '帳戶每小時 API 額度已用完：傳送會等候額度重設。',
    },
    HOURLY_ENVELOPE_POLLING_LIMIT_EXCEEDED: {
      en: 'This envelope was read too often this hour: the step waits for the next hour.',
      'zh-CN': '本小时内读取该信封次数过多：步骤将等到下一小时。',
      'zh-HK': '本小時內讀取該信封次數過多：步驟會等到下一小時。',
    },
  },
};
