import type { ConnectorDefinition } from '../core/connector.ts';
import catchHook from './catch-hook/index.ts';
import google from './google/index.ts';
import http from './http/index.ts';
import oauth2 from './oauth2/index.ts';
import schedule from './schedule/index.ts';
import trello from './trello/index.ts';
import { dingtalk, dingtalkRobot } from './dingtalk/index.ts';

/** The one list of connectors. Adding a service is adding its folder and a line here. */
export const connectors: ConnectorDefinition[] = [catchHook, http, oauth2, trello, dingtalk, dingtalkRobot, schedule, google];
