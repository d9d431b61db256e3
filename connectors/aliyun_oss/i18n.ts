import type { ConnectorTranslations } from '../../core/connector-i18n.ts';

export const aliyunOssI18n: ConnectorTranslations = {
  name: { en: 'Alibaba Cloud OSS', 'zh-CN': '阿里云对象存储 OSS', 'zh-HK': '阿里雲物件儲存 OSS' },
  actions: {
    'aliyun_oss.object.put': {
      title: { en: 'Save a file to OSS', 'zh-CN': '保存文件到 OSS', 'zh-HK': '儲存檔案到 OSS' },
      description: {
        en: 'Stores a file of an earlier step as an object with its content type and metadata, and gives a time-limited link.',
        'zh-CN': '将前面步骤的文件连同内容类型和元数据存为对象，并返回限时链接。',
        'zh-HK': '將之前步驟的檔案連同內容類型及中繼資料存為物件，並提供限時連結。',
      },
      fields: {
        key: { label: { en: 'Object key', 'zh-CN': '对象键名', 'zh-HK': '物件鍵名' }, example: 'contracts/2026/nda — signed.pdf' },
        file: { label: { en: 'File', 'zh-CN': '文件', 'zh-HK': '檔案' } },
        contentType: { label: { en: 'Content type', 'zh-CN': '内容类型', 'zh-HK': '內容類型' } },
        metadata: { label: { en: 'Metadata', 'zh-CN': '元数据', 'zh-HK': '中繼資料' } },
        signedUrlSeconds: { label: { en: 'Link lifetime (s)', 'zh-CN': '链接有效期（秒）', 'zh-HK': '連結有效期（秒）' } },
      },
    },
    'aliyun_oss.object.signed_url': {
      title: { en: 'Time-limited link to an object', 'zh-CN': '对象的限时链接', 'zh-HK': '物件的限時連結' },
      fields: {
        key: { label: { en: 'Object key', 'zh-CN': '对象键名', 'zh-HK': '物件鍵名' } },
        expiresSeconds: { label: { en: 'Lifetime (s)', 'zh-CN': '有效期（秒）', 'zh-HK': '有效期（秒）' } },
      },
    },
  },
  connectionFields: {
    accessKeyId: { label: { en: 'AccessKey ID', 'zh-CN': 'AccessKey ID', 'zh-HK': 'AccessKey ID' } },
    accessKeySecret: { label: { en: 'AccessKey secret', 'zh-CN': 'AccessKey Secret', 'zh-HK': 'AccessKey Secret' } },
    securityToken: { label: { en: 'STS security token', 'zh-CN': 'STS 安全令牌', 'zh-HK': 'STS 保安權杖' } },
    bucket: { label: { en: 'Bucket', 'zh-CN': '存储空间（Bucket）', 'zh-HK': '儲存空間（Bucket）' } },
    region: { label: { en: 'Region', 'zh-CN': '地域', 'zh-HK': '地域' } },
    endpoint: { label: { en: 'Endpoint', 'zh-CN': '访问域名（Endpoint）', 'zh-HK': '存取網域（Endpoint）' } },
    pathStyle: { label: { en: 'Path-style addressing', 'zh-CN': '路径风格访问', 'zh-HK': '路徑風格存取' } },
  },
  errors: {
    SignatureDoesNotMatch: {
      en: 'OSS refused the signature: check the AccessKey secret.',
      'zh-CN': 'OSS 拒绝了签名：请检查 AccessKey Secret。',
      'zh-HK': 'OSS 拒絕了簽名：請檢查 AccessKey Secret。',
    },
    SecurityTokenExpired: {
      en: 'The STS credentials expired: paste new ones into the connection.',
      'zh-CN': 'STS 临时凭证已过期：请在连接中填入新的凭证。',
      'zh-HK': 'STS 臨時憑證已過期：請在連線中填入新的憑證。',
    },
  },
};
