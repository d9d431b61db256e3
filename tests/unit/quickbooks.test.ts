import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intuitSignature, verifyIntuitSignature } from '../../connectors/quickbooks/triggers.ts';
import { cdcChanges, changeEvent, parseNotifications, realmsOf, secondOf } from '../../connectors/quickbooks/normalise.ts';
import { money, need } from '../../connectors/quickbooks/actions/common.ts';
import { attachmentsOf } from '../../connectors/dingtalk/approval-files.ts';
import { StepError } from '../../core/errors.ts';

// Intuit's published webhook test vector: QuickBooks-V3-Java-SDK, ipp-v3-java-devkit WebhooksServiceTest.java.
const VECTOR = {
  verifierToken: 'b5771f19b12ddb4bcdb9f08bdc50bc63878a',
  signature: 'JC2GUwciPmRBwEO7WvrRmKqu9tGOKL8FFallocTFi8Q=',
  payload:
    '{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":[{"name":"Customer","id":"1","operation":"Create","lastUpdated":"2015-10-05T14:42:19-0700"}]}}]}',
};

test("Intuit's published webhook test vector verifies; a flipped byte, another token or no header do not", () => {
  const raw = Buffer.from(VECTOR.payload, 'utf8');
  assert.equal(intuitSignature(VECTOR.verifierToken, raw), VECTOR.signature);
  assert.equal(verifyIntuitSignature(VECTOR.verifierToken, raw, VECTOR.signature), true);
  for (let i = 0; i < raw.length; i += 17) {
    const flipped = Buffer.from(raw);
    flipped[i]! ^= 0x01;
    assert.equal(verifyIntuitSignature(VECTOR.verifierToken, flipped, VECTOR.signature), false, `byte ${i} flipped`);
  }
  assert.equal(verifyIntuitSignature('another-token', raw, VECTOR.signature), false);
  assert.equal(verifyIntuitSignature(VECTOR.verifierToken, raw, undefined), false);
  assert.equal(verifyIntuitSignature(VECTOR.verifierToken, raw, ''), false);
  assert.equal(verifyIntuitSignature('', raw, VECTOR.signature), false);
});

test('the vector parses to one notification: Customer 1 created in realm 1185883450, at the second in UTC', () => {
  assert.deepEqual(parseNotifications(JSON.parse(VECTOR.payload)), [
    { realmId: '1185883450', entity: 'Customer', id: '1', operation: 'created', at: '2015-10-05T21:42:19Z' },
  ]);
  assert.deepEqual(realmsOf(JSON.parse(VECTOR.payload)), ['1185883450']);
});

// One batch of changes as Intuit sends it in both formats (the same changes).
const LEGACY = {
  eventNotifications: [
    {
      realmId: '9341453050000001',
      dataChangeEvent: {
        entities: [
          { name: 'Invoice', id: '130', operation: 'Update', lastUpdated: '2026-12-01T02:00:05+00:00' },
          { name: 'Vendor', id: '58', operation: 'Create', lastUpdated: '2026-12-01T02:00:06+00:00' },
          { name: 'Bill', id: '77', operation: 'Delete', lastUpdated: '2026-12-01T02:00:07+00:00' },
          { name: 'Invoice', id: '131', operation: 'Void', lastUpdated: '2026-12-01T02:00:08+00:00' },
        ],
      },
    },
  ],
};
const ce = (type: string, id: string, time: string) => ({
  specversion: '1.0',
  id: `ce-${id}`,
  source: 'intuit.abc',
  type,
  datacontenttype: 'application/json',
  time,
  intuitentityid: id,
  intuitaccountid: '9341453050000001',
  data: {},
});
const CLOUDEVENTS = [
  ce('qbo.invoice.updated.v1', '130', '2026-12-01T02:00:05.000Z'),
  ce('qbo.vendor.created.v1', '58', '2026-12-01T02:00:06.000Z'),
  ce('qbo.bill.deleted.v1', '77', '2026-12-01T02:00:07.000Z'),
  ce('qbo.invoice.voided.v1', '131', '2026-12-01T02:00:08.000Z'),
];

test('both payload formats give the same notifications and the same hub events', () => {
  const a = parseNotifications(LEGACY);
  const b = parseNotifications(CLOUDEVENTS);
  assert.deepEqual(a, b);
  assert.deepEqual(
    a.map((n) => n.operation),
    ['updated', 'created', 'deleted', 'voided'],
  );
  const invoice = {
    Id: '130',
    DocNumber: '1037',
    TotalAmt: 500,
    Balance: 0,
    CurrencyRef: { value: 'HKD' },
    CustomerRef: { value: '3', name: 'Kowloon Florists' },
  };
  const company = { realmId: '9341453050000001', companyName: 'Lantau Trading' };
  const ea = a.map((n) => changeEvent(n, n.id === '130' ? invoice : null, company));
  const eb = b.map((n) => changeEvent(n, n.id === '130' ? invoice : null, company));
  assert.deepEqual(ea, eb);
  assert.deepEqual(
    ea.map((e) => e.type),
    ['quickbooks.invoice.updated', 'quickbooks.vendor.created', 'quickbooks.bill.deleted', 'quickbooks.invoice.voided'],
  );
  assert.equal(ea[0]!.providerId, '9341453050000001:Invoice:130:2026-12-01T02:00:05Z');
  assert.equal(ea[0]!.data.paid, true);
  assert.equal(ea[0]!.data.customer, 'Kowloon Florists');
  assert.equal(ea[0]!.subject, 'Invoice 1037 (Kowloon Florists)');
});

test('a CDC answer gives the same provider ids as the webhooks for the same changes', () => {
  const cdc = {
    CDCResponse: [
      {
        QueryResponse: [
          {
            Invoice: [
              {
                Id: '130',
                TotalAmt: 500,
                Balance: 0,
                MetaData: { CreateTime: '2026-11-20T01:00:00+00:00', LastUpdatedTime: '2026-12-01T02:00:05+00:00' },
              },
            ],
          },
          {
            Vendor: [
              {
                Id: '58',
                DisplayName: 'Chan Tai Man',
                MetaData: { CreateTime: '2026-12-01T02:00:06+00:00', LastUpdatedTime: '2026-12-01T02:00:06+00:00' },
              },
            ],
          },
          { Bill: [{ Id: '77', status: 'Deleted', domain: 'QBO', MetaData: { LastUpdatedTime: '2026-12-01T02:00:07+00:00' } }] },
        ],
      },
    ],
  };
  const changes = cdcChanges('9341453050000001', cdc);
  const fromCdc = changes.map((c) => changeEvent(c.notification, c.entity, { realmId: '9341453050000001' }));
  const fromHooks = parseNotifications(LEGACY)
    .slice(0, 3)
    .map((n) => changeEvent(n, null, { realmId: '9341453050000001' }));
  assert.deepEqual(
    fromCdc.map((e) => e.providerId),
    fromHooks.map((e) => e.providerId),
  );
  assert.deepEqual(
    fromCdc.map((e) => e.type),
    ['quickbooks.invoice.updated', 'quickbooks.vendor.created', 'quickbooks.bill.deleted'],
  );
});

test('times: legacy offsets without a colon, CloudEvents milliseconds and CDC offsets agree to the second', () => {
  assert.equal(secondOf('2015-10-05T14:42:19-0700'), '2015-10-05T21:42:19Z');
  assert.equal(secondOf('2015-10-05T21:42:19.999Z'), '2015-10-05T21:42:19Z');
  assert.equal(secondOf('2015-10-05T21:42:19+00:00'), '2015-10-05T21:42:19Z');
  assert.equal(secondOf('nonsense'), undefined);
  assert.throws(() => parseNotifications({ hello: 1 }), /eventNotifications/);
});

test('form values: a missing or non-numeric amount is a step error naming the field', () => {
  const err = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof StepError);
      assert.equal(e.errorClass, 'permanent');
      return e.message;
    }
    assert.fail('no error');
  };
  assert.equal(money('HKD 1,234.50', 'amount', 'a'), 1234.5);
  assert.equal(money(88, 'amount', 'a'), 88);
  assert.match(
    err(() => money('', 'amount', 'quickbooks.purchase.create')),
    /quickbooks\.purchase\.create: amount is missing/,
  );
  assert.match(
    err(() => money('lots', 'amount', 'x')),
    /amount "lots" is not an amount/,
  );
  assert.match(
    err(() => need('  ', 'account', 'x', 'the category')),
    /account is missing \(the category\)/,
  );
});

test("DingTalk approval attachments: the DDAttachment field's files, optionally of one field", () => {
  const values = [
    { name: 'Amount', value: '420', componentType: 'MoneyField' },
    {
      name: 'Receipt',
      componentType: 'DDAttachment',
      value: JSON.stringify([{ spaceId: '2001', fileId: '7001', fileName: 'taxi.jpg', fileSize: '1024', fileType: 'jpg' }]),
    },
    { name: 'Quote', componentType: 'DDAttachment', value: JSON.stringify([{ spaceId: '2001', fileId: '7002', fileName: 'quote.pdf' }]) },
    { name: 'Note', componentType: 'TextField', value: '[not json' },
  ];
  assert.deepEqual(
    attachmentsOf(values).map((a) => a.fileId),
    ['7001', '7002'],
  );
  assert.deepEqual(
    attachmentsOf(values, 'Receipt').map((a) => [a.field, a.fileName]),
    [['Receipt', 'taxi.jpg']],
  );
  assert.deepEqual(attachmentsOf(values, 'Nope'), []);
});
