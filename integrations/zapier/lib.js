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
    try { error = (typeof response.data === 'object' && response.data) ? response.data.error : JSON.parse(response.content).error; } catch (e) { error = undefined; }
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
  return String(signatureHeader || '').split(' ').some((sig) => {
    const [version, value] = sig.split(',');
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && crypto.timingSafeEqual(given, expected);
  });
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
  return { action: actionId, ...(output && typeof output === 'object' && !Array.isArray(output) ? output : { result: output === undefined ? null : output }) };
};

/** `extra_input` is a JSON object merged into the action's input (fields this app does not name). */
const extraInput = (z, bundle) => {
  const text = bundle.inputData.extra_input;
  if (!text) return {};
  if (typeof text === 'object') return text;
  try {
    const value = JSON.parse(text);
    if (value && typeof value === 'object' && !Array.isArray(value)) return value;
  } catch (e) { /* reported below */ }
  throw new z.errors.Error('Extra input must be a JSON object', 'invalid_input', 400);
};

module.exports = { hubUrl, addApiKey, hubErrors, verifySignature, header, runHubAction, extraInput };
