import type { Response } from 'express';

/** Google's canonical status names for the HTTP codes its JSON APIs answer. */
const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ALREADY_EXISTS',
  410: 'FAILED_PRECONDITION',
  412: 'FAILED_PRECONDITION',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  502: 'UNAVAILABLE',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export interface GoogleErrorDetail {
  reason: string;
  message?: string;
  domain?: string;
  location?: string;
  locationType?: string;
}

/** `{"error":{"code","message","errors":[{"message","domain","reason"}],"status"}}` as the JSON APIs answer. */
export function googleErrorBody(code: number, reason: string, message: string, extra: Partial<GoogleErrorDetail> = {}): unknown {
  const { domain = reason === 'rateLimitExceeded' || reason === 'userRateLimitExceeded' ? 'usageLimits' : 'global', ...rest } = extra;
  return {
    error: {
      code,
      message,
      errors: [{ message, domain, reason, ...rest }],
      status: STATUS_NAMES[code] ?? (code >= 500 ? 'INTERNAL' : 'UNKNOWN'),
    },
  };
}

export class GoogleError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly extra: Partial<GoogleErrorDetail> = {},
  ) {
    super(message);
  }
}

export function sendGoogleError(res: Response, err: GoogleError): void {
  res.status(err.code).json(googleErrorBody(err.code, err.reason, err.message, err.extra));
}

export const notFound = (what = 'Not Found', extra: Partial<GoogleErrorDetail> = {}) => new GoogleError(404, 'notFound', what, extra);
export const badRequest = (message: string, reason = 'invalid', extra: Partial<GoogleErrorDetail> = {}) =>
  new GoogleError(400, reason, message, extra);
export const required = (param: string) =>
  new GoogleError(400, 'required', `Required parameter: ${param}`, { location: param, locationType: 'parameter' });

/** The body an injected status fault answers with: what Google sends for that status. */
export function faultBody(status: number): unknown {
  switch (status) {
    case 400:
      return googleErrorBody(400, 'badRequest', 'Bad Request');
    case 401:
      return googleErrorBody(401, 'authError', 'Invalid Credentials', { location: 'Authorization', locationType: 'header' });
    case 403:
      return googleErrorBody(403, 'rateLimitExceeded', 'Rate Limit Exceeded');
    case 404:
      return googleErrorBody(404, 'notFound', 'Not Found');
    case 409:
      return googleErrorBody(409, 'conflict', 'Conflict');
    case 410:
      return googleErrorBody(410, 'deleted', 'Resource has been deleted');
    case 429:
      return googleErrorBody(429, 'rateLimitExceeded', 'Rate Limit Exceeded');
    case 500:
      return googleErrorBody(500, 'backendError', 'Backend Error');
    case 503:
      return googleErrorBody(503, 'backendError', 'The service is currently unavailable.');
    default:
      return googleErrorBody(status, status >= 500 ? 'backendError' : 'badRequest', status >= 500 ? 'Backend Error' : 'Bad Request');
  }
}
