import { defineConnector } from '../../core/connector.ts';
import { httpPost } from './post.ts';

export default defineConnector({
  id: 'http',
  name: 'HTTP',
  auth: { kind: 'none' },
  triggers: [],
  actions: [httpPost],
});
