import type { Response } from 'express';
import { requestId } from './crypto.ts';

/** New-API error body: {requestid, code, message} (the SDK reads code/message/requestid). */
export function apiError(res: Response, status: number, code: string, message: string): void {
  const rid = requestId();
  res.setHeader('x-acs-request-id', rid);
  res.status(status).json({ requestid: rid, code, message });
}
