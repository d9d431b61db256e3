'use strict';
const { hubUrl } = require('../lib');

/** Hidden trigger feeding the event-type dropdown. */
module.exports = {
  key: 'event_types',
  noun: 'Event type',
  display: { label: 'Event types', description: 'Event types the hub can emit.', hidden: true },
  operation: {
    perform: async (z, bundle) => {
      const response = await z.request({ url: `${hubUrl(bundle)}/api/v1/events/types` });
      return response.data.items.map((item) => ({ id: item.type, type: item.type }));
    },
    sample: { id: 'catch_hook.received', type: 'catch_hook.received' },
  },
};
