import { defineConnector } from '../../core/connector.ts';
import { httpPost } from './post.ts';
import { httpDownload, httpUpload } from './files.ts';

export default defineConnector({
  id: 'http',
  name: 'HTTP',
  auth: { kind: 'none' },
  triggers: [],
  actions: [httpPost, httpDownload, httpUpload],
});
