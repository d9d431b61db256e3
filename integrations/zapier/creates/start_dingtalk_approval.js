'use strict';
const { runHubAction, extraInput } = require('../lib');

module.exports = {
  key: 'start_dingtalk_approval',
  noun: 'Approval',
  display: { label: 'Start DingTalk Approval', description: 'Starts a DingTalk approval (OA) instance through the hub.' },
  operation: {
    inputFields: [
      { key: 'connection_id', label: 'DingTalk connection', required: false },
      { key: 'process_code', label: 'Process code', required: true, helpText: "The approval template's processCode." },
      { key: 'originator_user_id', label: 'Originator user id', required: true },
      { key: 'dept_id', label: 'Department id', required: false },
      { key: 'form', label: 'Form fields', required: false, dict: true, helpText: 'Field name → value, as on the approval form.' },
      { key: 'extra_input', label: 'Extra input (JSON)', required: false, type: 'text' },
      {
        key: 'action_id',
        label: 'Hub action (advanced)',
        required: false,
        helpText: 'Run another hub action instead of dingtalk.approval.start.',
      },
    ],
    perform: async (z, bundle) => {
      const d = bundle.inputData;
      const actionId = d.action_id || 'dingtalk.approval.start';
      const input = {
        processCode: d.process_code,
        originatorUserId: d.originator_user_id,
        ...(d.dept_id ? { deptId: d.dept_id } : {}),
        form: d.form || {},
        ...extraInput(z, bundle),
      };
      return runHubAction(z, bundle, actionId, d.action_id ? extraInput(z, bundle) : input);
    },
    sample: { action: 'dingtalk.approval.start', processInstanceId: 'a1b2c3d4-0000-0000-0000-example' },
  },
};
