export { freePort } from '../../core/net/free-port.ts';
