'use strict';
const { runHubAction, extraInput } = require('../lib');

/** The hub action behind each channel (registered by the DingTalk connector). */
const ACTIONS = {
  group: 'dingtalk.message.sendToGroup',
  users: 'dingtalk.message.sendToUsers',
  robot: 'dingtalk.robot.send',
};

module.exports = {
  key: 'send_dingtalk_message',
  noun: 'Message',
  display: {
    label: 'Send DingTalk Message',
    description: 'Sends a DingTalk message through the hub: to a group, to people, or by a group robot.',
  },
  operation: {
    inputFields: [
      {
        key: 'connection_id',
        label: 'DingTalk connection',
        required: false,
        helpText: "The hub connection to send with (its id on the hub's Connections page).",
      },
      {
        key: 'channel',
        label: 'Send to',
        required: true,
        choices: { group: 'A group chat', users: 'People (1:1)', robot: 'A group robot (webhook)' },
        default: 'group',
      },
      { key: 'open_conversation_id', label: 'Group (openConversationId)', required: false },
      { key: 'user_ids', label: 'User ids', required: false, list: true },
      { key: 'msg_type', label: 'Message type', required: true, choices: { text: 'Text', markdown: 'Markdown' }, default: 'text' },
      { key: 'title', label: 'Title (markdown)', required: false },
      { key: 'text', label: 'Text', required: true, type: 'text' },
      {
        key: 'extra_input',
        label: 'Extra input (JSON)',
        required: false,
        type: 'text',
        helpText: 'Other fields of the hub action, as a JSON object.',
      },
      {
        key: 'action_id',
        label: 'Hub action (advanced)',
        required: false,
        helpText: "Run another hub action instead of the channel's DingTalk action.",
      },
    ],
    perform: async (z, bundle) => {
      const d = bundle.inputData;
      const actionId = d.action_id || ACTIONS[d.channel || 'group'];
      const input = {
        ...(d.open_conversation_id ? { openConversationId: d.open_conversation_id } : {}),
        ...(d.user_ids && d.user_ids.length ? { userIds: d.user_ids } : {}),
        type: d.msg_type || 'text',
        ...(d.title ? { title: d.title } : {}),
        text: d.text,
        ...extraInput(z, bundle),
      };
      return runHubAction(z, bundle, actionId, d.action_id ? extraInput(z, bundle) : input);
    },
    sample: { action: 'dingtalk.message.sendToGroup', processQueryKey: 'example-query-key' },
  },
};
