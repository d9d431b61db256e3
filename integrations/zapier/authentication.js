'use strict';
const { hubUrl } = require('./lib');

/** API-key auth: the hub's URL and an API key an owner created (POST /api/v1/api-keys) with the scopes the Zap needs. */
module.exports = {
  type: 'custom',
  fields: [
    {
      key: 'hubUrl',
      label: 'Hub URL',
      required: true,
      type: 'string',
      helpText: 'The public address of your dingbridge hub, e.g. `https://hub.example.com`.',
    },
    {
      key: 'apiKey',
      label: 'API key',
      required: true,
      type: 'password',
      helpText:
        'An API key (`dbk_…`) with the scopes `hooks:read`, `hooks:write`, `events:read` and `actions:run` (and `connections:use` to send through a hub connection).',
    },
  ],
  test: async (z, bundle) => {
    const response = await z.request({ url: `${hubUrl(bundle)}/api/v1/me` });
    return response.data;
  },
  connectionLabel: (z, bundle) => `${bundle.inputData.label || 'dingbridge'} @ ${hubUrl(bundle)}`,
};
