// Entry of a template worker thread: TypeScript sources run through tsx here as in the main thread
// (bin/dingbridge.js), whatever flags the process was started with.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
