import { z } from 'zod';
import { defineConnector } from '../../core/connector.ts';
import { urlSetting } from '../../core/settings.ts';
import { qboAuth } from './auth.ts';
import { cdcPoll, changes } from './triggers.ts';
import {
  attachFile,
  createBill,
  createInvoice,
  createPurchase,
  findOrCreateVendorAction,
  getEntityAction,
  overdueDigest,
  queryAction,
} from './actions/transactions.ts';
import { quickbooksI18n } from './i18n.ts';

/**
 * QuickBooks Online (node-quickbooks 2.0.50): connections through a registered Intuit app, one company
 * (realmId) each; webhooks at the app-level route POST /webhooks/quickbooks routed by realm, in both
 * of Intuit's formats, with a CDC poll catching up; expenses, bills, invoices, attachments, queries,
 * paced per company (10 at once, 500 a minute) and idempotent through requestid.
 */
export default defineConnector({
  id: 'quickbooks',
  name: 'QuickBooks Online',
  env: z.object({
    QBO_BASE_URL: urlSetting(['http:', 'https:']).optional(),
    QBO_OAUTH_BASE_URL: urlSetting(['http:', 'https:']).optional(),
  }),
  auth: qboAuth,
  triggers: [changes, cdcPoll],
  actions: [createPurchase, createBill, createInvoice, findOrCreateVendorAction, attachFile, getEntityAction, queryAction, overdueDigest],
  i18n: quickbooksI18n,
});
