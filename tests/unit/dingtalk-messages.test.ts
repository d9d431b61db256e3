import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { appMessage } from '../../connectors/dingtalk/messages.ts';
import { normaliseEvent, normaliseRobotMessage } from '../../connectors/dingtalk/normalise.ts';
import { robotBody, robotSendInput } from '../../connectors/dingtalk/robot-send.ts';

describe('DingTalk event normalisation', () => {
  test('an approval that finished: type, times in ISO, originator, provider id from the eventId', () => {
    const e = normaliseEvent(
      { eventId: 'ev-1', eventType: 'bpms_instance_change', corpId: 'dingcorp' },
      {
        processInstanceId: 'PI-1',
        processCode: 'PROC-1',
        title: 'Reimbursement HKD 250',
        type: 'finish',
        result: 'agree',
        staffId: 'user001',
        createTime: 1733300000000,
        finishTime: '1733303600000',
        url: 'https://aflow.dingtalk.com/x',
      },
    );
    assert.equal(e.type, 'dingtalk.approval.finished');
    assert.equal(e.providerId, 'event:ev-1');
    assert.equal(e.occurredAt, '2024-12-04T09:13:20.000Z');
    assert.equal(e.subject, 'Reimbursement HKD 250');
    assert.equal(e.data.result, 'agree');
    assert.equal(e.data.originatorUserId, 'user001');
    assert.equal(e.data.createTime, '2024-12-04T08:13:20.000Z');
    assert.equal(e.data.corpId, 'dingcorp');
    assert.equal(e.data.formFetched, false);
  });

  test('a task change is an approval.task event with the task; without an eventId the id is built from the fields', () => {
    const fields = {
      processInstanceId: 'PI-2',
      taskId: 'T-9',
      type: 'comment',
      staffId: 'user002',
      remark: 'ok',
      createTime: 1733300000000,
    };
    const e = normaliseEvent({ eventType: 'bpms_task_change' }, fields);
    assert.equal(e.type, 'dingtalk.approval.task.commented');
    assert.deepEqual(e.data.task, { taskId: 'T-9', userId: 'user002', type: 'comment', result: null, remark: 'ok' });
    assert.equal(
      e.providerId,
      normaliseEvent({ eventType: 'bpms_task_change' }, { ...fields }).providerId,
      'the same push gives the same id',
    );
    assert.notEqual(e.providerId, normaliseEvent({ eventType: 'bpms_task_change' }, { ...fields, taskId: 'T-10' }).providerId);
  });

  test('other pushes keep their fields under dingtalk.event.received', () => {
    const e = normaliseEvent({ eventId: 'ev-3', eventType: 'user_add_org', bornTime: 1733300000000 }, { userId: ['u1'] });
    assert.equal(e.type, 'dingtalk.event.received');
    assert.equal(e.subject, 'user_add_org');
    assert.deepEqual(e.data.userId, ['u1']);
    assert.equal(e.occurredAt, '2024-12-04T08:13:20.000Z');
  });

  test('a group message to the robot: text, words, sender and conversation', () => {
    const e = normaliseRobotMessage({
      msgId: 'msg1',
      msgtype: 'text',
      text: { content: '  trello add Fix the login page ' },
      conversationType: '2',
      conversationId: 'cid1',
      conversationTitle: 'Sales',
      senderStaffId: 'user001',
      senderNick: 'Chan',
      isInAtList: true,
      createAt: 1733300000000,
    });
    assert.equal(e.type, 'dingtalk.message.received');
    assert.equal(e.providerId, 'message:msg1');
    assert.equal(e.data.text, 'trello add Fix the login page');
    assert.deepEqual(e.data.words, ['trello', 'add', 'Fix', 'the', 'login', 'page']);
    assert.deepEqual(e.data.conversation, { id: 'cid1', type: 'group', title: 'Sales' });
    assert.equal((e.data.sender as { staffId: string }).staffId, 'user001');
    const direct = normaliseRobotMessage({ msgId: 'm2', conversationType: '1' });
    assert.equal((direct.data.conversation as { type: string }).type, 'private');
    assert.deepEqual(direct.data.words, []);
    assert.equal(direct.subject, null);
  });
});

describe('DingTalk message builders', () => {
  test('app robot messages: msgKey and the msgParam JSON for each friendly type', () => {
    assert.deepEqual(appMessage({ type: 'text', text: 'hi' }), { msgKey: 'sampleText', msgParam: '{"content":"hi"}' });
    assert.deepEqual(JSON.parse(appMessage({ type: 'markdown', title: 'T', text: '**b**' }).msgParam), { title: 'T', text: '**b**' });
    assert.deepEqual(JSON.parse(appMessage({ type: 'link', title: 'T', text: 'x', messageUrl: 'https://e.com' }).msgParam), {
      title: 'T',
      text: 'x',
      messageUrl: 'https://e.com',
      picUrl: '',
    });
    const single = appMessage({ type: 'actionCard', title: 'T', text: 'x', singleTitle: 'Open', singleUrl: 'https://e.com' });
    assert.equal(single.msgKey, 'sampleActionCard');
    assert.equal(JSON.parse(single.msgParam).singleURL, 'https://e.com');
    const three = appMessage({
      type: 'actionCard',
      title: 'T',
      text: 'x',
      buttons: [
        { title: 'A', url: 'u1' },
        { title: 'B', url: 'u2' },
        { title: 'C', url: 'u3' },
      ],
    });
    assert.equal(three.msgKey, 'sampleActionCard3');
    assert.deepEqual(JSON.parse(three.msgParam), {
      title: 'T',
      text: 'x',
      actionTitle1: 'A',
      actionURL1: 'u1',
      actionTitle2: 'B',
      actionURL2: 'u2',
      actionTitle3: 'C',
      actionURL3: 'u3',
    });
    assert.deepEqual(appMessage({ type: 'text', msgKey: 'officialImageMsg', msgParam: { photoURL: 'p' } }), {
      msgKey: 'officialImageMsg',
      msgParam: '{"photoURL":"p"}',
    });
  });

  test('custom robot bodies: text with @-mentions, action cards with buttons, feed cards', () => {
    const body = (input: unknown) => robotBody(robotSendInput.parse(input));
    assert.deepEqual(body({ text: 'hello', atMobiles: ['85291234567'] }), {
      msgtype: 'text',
      text: { content: 'hello' },
      at: { atMobiles: ['85291234567'], atUserIds: [], isAtAll: false },
    });
    assert.deepEqual(
      body({ type: 'actionCard', title: 'T', text: 'x', buttons: [{ title: 'A', url: 'u1' }], buttonsVertical: false }).actionCard,
      { title: 'T', text: 'x', btnOrientation: '1', btns: [{ title: 'A', actionURL: 'u1' }] },
    );
    assert.deepEqual(body({ type: 'feedCard', links: [{ title: 'L', messageUrl: 'm' }] }), {
      msgtype: 'feedCard',
      feedCard: { links: [{ title: 'L', messageURL: 'm', picURL: '' }] },
    });
  });

  test('an incomplete message is refused by the input schema with what it lacks', () => {
    const issues = (input: unknown) => {
      const r = robotSendInput.safeParse(input);
      return r.success ? '' : r.error.issues.map((i) => i.message).join();
    };
    assert.match(issues({ type: 'text' }), /needs text/);
    assert.match(issues({ type: 'link', title: 'T', text: 'x' }), /messageUrl/);
    assert.match(issues({ type: 'feedCard' }), /needs links/);
    assert.equal(issues({ type: 'markdown', title: 'T', text: 'x' }), '');
  });
});
