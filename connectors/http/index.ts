import { defineConnector } from '../../core/connector.ts';
import { httpPost } from './post.ts';
import { httpDownload, httpUpload } from './files.ts';
import { httpI18n } from './i18n.ts';

export default defineConnector({
  id: 'http',
  name: 'HTTP',
  i18n: httpI18n,
  auth: { kind: 'none' },
  triggers: [],
  actions: [httpPost, httpDownload, httpUpload],
});
