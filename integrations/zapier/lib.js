'use strict';
const crypto = require('node:crypto');

/** The hub's base URL from the connection (no trailing slash). */
const hubUrl = (bundle) => String(bundle.authData.hubUrl || '').replace(/\/+$/, '');

/** Adds the API key as a Bearer token to every request. */
const addApiKey = (request, z, bundle) => {
  if (bundle.authData && bundle.authData.apiKey) {
    request.headers = { ...(request.headers || {}), Authorization: `Bearer ${bundle.authData.apiKey}` };
  }
  return request;
};

/** The hub answers errors as {error:{code,message}}: show that message, not a bare status. */
const hubErrors = (response, z) => {
  if (response.request && response.request.skipThrowForStatus) return response;
  if (response.status >= 400) {
    let error;
    try {
      error = typeof response.data === 'object' && response.data ? response.data.error : JSON.parse(response.content).error;
    } catch (e) {
      error = undefined;
    }
    const message = error && error.message ? error.message : `the hub answered ${response.status}`;
    throw new z.errors.Error(message, (error && error.code) || 'hub_error', response.status);
  }
  return response;
};

/**
 * Checks a delivery's Standard Webhooks signature (`v1,` HMAC-SHA256 of `id.timestamp.body` with the
 * subscription's whsec_ secret; several space-separated during a secret rotation).
 */
const verifySignature = (secret, id, timestamp, body, signatureHeader) => {
  const key = Buffer.from(String(secret).replace(/^whsec_/, ''), 'base64');
  const expected = crypto.createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return String(signatureHeader || '')
    .split(' ')
    .some((sig) => {
      const [version, value] = sig.split(',');
      if (version !== 'v1' || !value) return false;
      const given = Buffer.from(value, 'base64');
      return given.length === expected.length && crypto.timingSafeEqual(given, expected);
    });
};

/** Deliveries older (or further in the future) than this are refused, as Standard Webhooks recommends. */
const TOLERANCE_SECONDS = 5 * 60;

/**
 * Why a delivery must be refused, or undefined when it verifies. Fails closed: without the
 * subscription's secret, the raw body, the id, a fresh timestamp and a valid signature, nothing is accepted.
 */
const deliveryProblem = (secret, headers, content, nowMs = Date.now()) => {
  if (!secret) return 'this Zap has no subscription secret to check deliveries with; turn the Zap off and on again';
  if (typeof content !== 'string') return "the delivery's raw body is missing, so its signature cannot be checked";
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  if (!id || !timestamp) return 'the delivery has no webhook-id or webhook-timestamp header';
  if (!/^\d{1,12}$/.test(String(timestamp))) return "the delivery's webhook-timestamp is not a number of seconds";
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > TOLERANCE_SECONDS)
    return "the delivery's timestamp is more than 5 minutes away from now (a replay, or a clock out of step)";
  if (!verifySignature(secret, id, timestamp, content, header(headers, 'webhook-signature')))
    return "the delivery's Standard Webhooks signature does not verify";
  return undefined;
};

/** A header of a Zapier raw request, whichever way it is spelled (`Http-Webhook-Id` or `webhook-id`). */
const header = (headers, name) => {
  if (!headers) return undefined;
  const wanted = [name.toLowerCase(), `http-${name.toLowerCase()}`];
  for (const [k, v] of Object.entries(headers)) if (wanted.includes(k.toLowerCase())) return Array.isArray(v) ? v[0] : v;
  return undefined;
};

/** Runs one of the hub's registered actions through POST /api/v1/actions/:actionId/run. */
const runHubAction = async (z, bundle, actionId, input) => {
  const response = await z.request({
    url: `${hubUrl(bundle)}/api/v1/actions/${encodeURIComponent(actionId)}/run`,
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(bundle.meta && bundle.meta.zap && bundle.meta.zap.id ? {} : {}) },
    body: { ...(bundle.inputData.connection_id ? { connection_id: bundle.inputData.connection_id } : {}), input },
  });
  const output = response.data && response.data.output;
  return {
    action: actionId,
    ...(output && typeof output === 'object' && !Array.isArray(output) ? output : { result: output === undefined ? null : output }),
  };
};

/** `extra_input` is a JSON object merged into the action's input (fields this app does not name). */
const extraInput = (z, bundle) => {
  const text = bundle.inputData.extra_input;
  if (!text) return {};
  if (typeof text === 'object') return text;
  try {
    const value = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch (e) {
    /* reported below */
  }
  throw new z.errors.Error('Extra input must be a JSON object', 'invalid_input', 400);
};

module.exports = { hubUrl, addApiKey, hubErrors, verifySignature, deliveryProblem, TOLERANCE_SECONDS, header, runHubAction, extraInput };
