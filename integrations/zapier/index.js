'use strict';
const { version: platformVersion } = require('zapier-platform-core');
const { version } = require('./package.json');
const authentication = require('./authentication');
const { addApiKey, hubErrors } = require('./lib');
const hubEvent = require('./triggers/hub_event');
const eventTypes = require('./triggers/event_types');
const sendMessage = require('./creates/send_dingtalk_message');
const startApproval = require('./creates/start_dingtalk_approval');

/** The dingbridge app for Zapier: API-key auth, a REST-hook trigger, two DingTalk actions. */
module.exports = {
  version,
  platformVersion,
  authentication,
  beforeRequest: [addApiKey],
  afterResponse: [hubErrors],
  triggers: { [hubEvent.key]: hubEvent, [eventTypes.key]: eventTypes },
  creates: { [sendMessage.key]: sendMessage, [startApproval.key]: startApproval },
  searches: {},
};
