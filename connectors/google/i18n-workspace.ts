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
  },
  triggers: {},
  events: {},
  errors: {},
};
