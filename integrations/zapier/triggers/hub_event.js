'use strict';
const { hubUrl, deliveryProblem, header } = require('../lib');

/**
 * REST hook: subscribing creates a hub subscription (POST /api/v1/hooks) whose target is the Zap's
 * webhook URL; the hub then POSTs each matching event there, signed per Standard Webhooks.
 */
module.exports = {
  key: 'hub_event',
  noun: 'Event',
  display: {
    label: 'New Hub Event',
    description: 'Triggers when the hub stores an event of the chosen type (e.g. dingtalk.approval.finished, trello.card.*).',
  },
  operation: {
    type: 'hook',
    inputFields: [
      {
        key: 'event_type',
        label: 'Event type',
        required: true,
        dynamic: 'event_types.id.type',
        altersDynamicFields: false,
        helpText: 'An event type, or a pattern such as `trello.card.*`.',
      },
      { key: 'filter', label: 'Only when', required: false, helpText: 'Optional condition on the event, e.g. `data.amount > 5000`.' },
    ],
    performSubscribe: async (z, bundle) => {
      const response = await z.request({
        url: `${hubUrl(bundle)}/api/v1/hooks`,
        method: 'POST',
        body: {
          target_url: bundle.targetUrl,
          events: [bundle.inputData.event_type],
          ...(bundle.inputData.filter ? { filter: bundle.inputData.filter } : {}),
          description: 'Zapier',
        },
      });
      return response.data; // {id, secret, …}: kept by Zapier as bundle.subscribeData
    },
    performUnsubscribe: async (z, bundle) => {
      const response = await z.request({
        url: `${hubUrl(bundle)}/api/v1/hooks/${encodeURIComponent(bundle.subscribeData.id)}`,
        method: 'DELETE',
        skipThrowForStatus: true,
      });
      if (response.status !== 204 && response.status !== 404)
        throw new z.errors.Error(`the hub answered ${response.status}`, 'hub_error', response.status);
      return {};
    },
    perform: (z, bundle) => {
      const raw = bundle.rawRequest || {};
      const headers = raw.headers || {};
      const id = header(headers, 'webhook-id');
      const problem = deliveryProblem(bundle.subscribeData && bundle.subscribeData.secret, headers, raw.content);
      if (problem) throw new z.errors.Error(problem.charAt(0).toUpperCase() + problem.slice(1), 'invalid_signature', 401);
      // The signed raw body is what was verified, so that is what the Zap gets (not a re-parsed copy).
      let body;
      try {
        body = JSON.parse(raw.content);
      } catch (e) {
        throw new z.errors.Error("The delivery's body is not JSON", 'invalid_body', 400);
      }
      return [{ id, type: body.type, timestamp: body.timestamp, data: body.data || {} }];
    },
    performList: async (z, bundle) => {
      const response = await z.request({
        url: `${hubUrl(bundle)}/api/v1/events/samples`,
        params: { type: bundle.inputData.event_type, limit: 3 },
      });
      return response.data.items;
    },
    sample: {
      id: 'msg_2mVXfXzMBtr7hLEdJWd4Th0m9Xa',
      type: 'dingtalk.approval.finished',
      timestamp: '2026-01-01T08:00:00.000Z',
      data: { result: 'agree', title: 'Reimbursement HKD 1,200' },
    },
    outputFields: [
      { key: 'id', label: 'Delivery id' },
      { key: 'type', label: 'Event type' },
      { key: 'timestamp', label: 'Occurred at' },
    ],
  },
};
