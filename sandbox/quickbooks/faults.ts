/** Intuit's Fault bodies: `{"Fault":{"Error":[{Message, Detail, code, element}],"type"},"time"}`. */

export type FaultType = 'ValidationFault' | 'AuthenticationFault' | 'AuthorizationFault' | 'SERVICE' | 'SystemFault';

export class QboFault extends Error {
  constructor(
    readonly status: number,
    readonly type: FaultType,
    readonly code: string,
    message: string,
    readonly detail?: string,
    readonly element = '',
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function faultBody(f: { type: FaultType; code: string; message: string; detail?: string; element?: string }, time: string): unknown {
  const error: Record<string, string> = { Message: f.message };
  if (f.detail !== undefined) error.Detail = f.detail;
  error.code = f.code;
  error.element = f.element ?? '';
  return { Fault: { Error: [error], type: f.type }, time };
}

export const faults = {
  /** 610: reading or referencing an Id that does not exist (or was deleted). */
  notFound: (entity: string, id: string) =>
    new QboFault(
      400,
      'ValidationFault',
      '610',
      'Object Not Found',
      `Object Not Found : Something you're trying to use has been made inactive. Check the fields with accounts, customers, items, vendors or employees. (${entity} ${id})`,
    ),
  /** 2500: a *Ref points at nothing. */
  badRef: (element: string, id: string) =>
    new QboFault(
      400,
      'ValidationFault',
      '2500',
      'Invalid Reference Id',
      `Invalid Reference Id : ${element} element id ${id} not found`,
      element,
    ),
  required: (element: string) =>
    new QboFault(
      400,
      'ValidationFault',
      '2020',
      'Required param missing, need to supply the required value for the API',
      `Required parameter ${element} is missing in the request`,
      element,
    ),
  invalidValue: (element: string, detail: string) =>
    new QboFault(400, 'ValidationFault', '2010', 'Request has invalid or unsupported property', `Property Name:${detail}`, element),
  stale: () =>
    new QboFault(
      400,
      'ValidationFault',
      '5010',
      'Stale Object Error',
      'Stale Object Error : You and API API were working on this at the same time. API API finished before you did, so your work was not saved.',
    ),
  duplicateName: (kind: 'name-list' | 'account' | 'item') =>
    new QboFault(
      400,
      'ValidationFault',
      '6240',
      'Duplicate Name Exists Error',
      kind === 'account'
        ? 'The name supplied already exists. : Another account is already using this name. Please use a different name.'
        : kind === 'item'
          ? 'The name supplied already exists. : Another product or service is already using this name. Please use a different name.'
          : 'The name supplied already exists. : Another customer, vendor or employee is already using this name. Please use a different name.',
    ),
  business: (detail: string, element = '') =>
    new QboFault(
      400,
      'ValidationFault',
      '6000',
      'A business validation error has occurred while processing your request',
      `Business Validation Error: ${detail}`,
      element,
    ),
  unsupported: (op: string) => new QboFault(400, 'ValidationFault', '500', 'Unsupported Operation', `Operation ${op} is not supported.`),
  badQuery: (detail: string) => new QboFault(400, 'ValidationFault', '4000', 'Error parsing query', `QueryParserError: ${detail}`),
  /** 401 on a missing, expired or revoked access token. */
  authentication: () =>
    new QboFault(401, 'AuthenticationFault', '3200', 'message=AuthenticationFailed; errorCode=003200; statusCode=401', undefined, '', {
      'WWW-Authenticate': 'Bearer realm="Intuit"',
    }),
  /** 403: a token used for a company it was not issued for, or a sandbox connection on the production host. */
  authorization: () => new QboFault(403, 'SERVICE', '3100', 'message=ApplicationAuthorizationFailed; errorCode=003100; statusCode=403'),
  /** 401: a production connection on the sandbox host. */
  wrongCluster: () =>
    new QboFault(
      401,
      'AuthenticationFault',
      '130',
      'Accessing Wrong Cluster',
      'WrongClusterError: -11017-You have accessed the wrong server.  You will now be redirected. , statusCode: 401',
    ),
  throttled: () =>
    new QboFault(
      429,
      'SERVICE',
      '3001',
      'message=ThrottleExceeded; errorCode=003001; statusCode=429',
      'The request limit was reached.  Try again later',
    ),
  minorVersion: (given: string | undefined) =>
    new QboFault(
      400,
      'ValidationFault',
      '2010',
      'Request has invalid or unsupported property',
      given === undefined
        ? 'Property Name:minorversion is required: minor versions 1 to 74 were retired on 2025-08-01; send minorversion=75 or later'
        : `Property Name:minorversion ${given} is not supported: minor versions 1 to 74 were retired on 2025-08-01; send minorversion=75 or later`,
      'minorversion',
    ),
};
