import type { ConnectorTranslations, FieldTexts, Text } from '../../core/connector-i18n.ts';
import { OPERATIONS, WEBHOOK_ENTITIES } from './normalise.ts';

const t = (en: string, zhCN: string, zhHK: string): Text => ({ en, 'zh-CN': zhCN, 'zh-HK': zhHK });

const ENTITY: Record<string, Text> = {
  Account: t('Account', '科目', '會計科目'),
  Bill: t('Bill', '账单', '賬單'),
  BillPayment: t('Bill payment', '账单付款', '賬單付款'),
  Customer: t('Customer', '客户', '客戶'),
  Employee: t('Employee', '员工', '員工'),
  Invoice: t('Invoice', '发票', '發票'),
  Item: t('Product or service', '产品或服务', '產品或服務'),
  Payment: t('Payment', '收款', '收款'),
  Purchase: t('Expense', '支出', '支出'),
  Vendor: t('Vendor', '供应商', '供應商'),
  Attachable: t('Attachment', '附件', '附件'),
  CreditMemo: t('Credit memo', '贷项通知单', '貸項通知單'),
  Estimate: t('Estimate', '报价单', '報價單'),
  JournalEntry: t('Journal entry', '日记账分录', '日記賬分錄'),
  SalesReceipt: t('Sales receipt', '销售收据', '銷售收據'),
};
const OP: Record<string, Text> = {
  created: t('created', '已创建', '已建立'),
  updated: t('updated', '已更新', '已更新'),
  deleted: t('deleted', '已删除', '已刪除'),
  voided: t('voided', '已作废', '已作廢'),
  merged: t('merged', '已合并', '已合併'),
};

const events: Record<string, Text> = {};
for (const e of WEBHOOK_ENTITIES)
  for (const op of OPERATIONS) {
    const name = ENTITY[e] ?? t(e, e, e);
    const o = OP[op]!;
    events[`quickbooks.${e.toLowerCase()}.${op}`] = {
      en: `QuickBooks ${name.en.toLowerCase()} ${o.en}`,
      'zh-CN': `QuickBooks ${name['zh-CN']}${o['zh-CN']}`,
      'zh-HK': `QuickBooks ${name['zh-HK']}${o['zh-HK']}`,
    };
  }

/** Fields several transaction actions share. */
const F: Record<string, FieldTexts> = {
  amount: { label: t('Amount', '金额', '金額') },
  description: { label: t('Description', '说明', '說明') },
  memo: { label: t('Memo', '备注', '備註') },
  currency: {
    label: t('Currency', '币种', '貨幣'),
    help: t('ISO code; empty = the home currency', 'ISO 代码；留空 = 本位币', 'ISO 代碼；留空 = 本位幣'),
    example: 'HKD',
  },
  exchangeRate: {
    label: t('Exchange rate to the home currency', '对本位币汇率', '兌本位幣匯率'),
    help: t(
      "Home-currency units per foreign unit; empty = QuickBooks' rate",
      '每一单位外币折合多少本位币；留空 = 使用 QuickBooks 汇率',
      '每一單位外幣兌多少本位幣；留空 = 使用 QuickBooks 匯率',
    ),
  },
  docNumber: {
    label: t('Reference number', '单据编号', '單據編號'),
    help: t('The number shown on the transaction (DocNumber)', '交易上显示的编号（DocNumber）', '交易上顯示的編號（DocNumber）'),
  },
  txnDate: {
    label: t('Transaction date', '交易日期', '交易日期'),
    help: t('YYYY-MM-DD; empty = today', 'YYYY-MM-DD；留空 = 今天', 'YYYY-MM-DD；留空 = 今日'),
  },
  dueDate: { label: t('Due date', '到期日', '到期日'), help: t('YYYY-MM-DD', 'YYYY-MM-DD', 'YYYY-MM-DD') },
  lines: {
    label: t('Lines', '明细行', '明細項目'),
    help: t(
      'Several lines, each with an amount, an expense account and a description; instead of the single amount',
      '多条明细，每条含金额、费用科目和说明；代替单一金额',
      '多項明細，每項包括金額、開支科目及說明；代替單一金額',
    ),
  },
  vendorEmail: {
    label: t("Payee's email", '收款人邮箱', '收款人電郵'),
    help: t(
      'Finds the vendor, or the person in the People directory',
      '用于查找供应商，或人员目录中的人员',
      '用來尋找供應商，或人員名錄中的人員',
    ),
  },
  requesterUserId: {
    label: t("Requester's DingTalk user id", '申请人的钉钉用户 ID', '申請人的釘釘用戶 ID'),
    help: t(
      'The People directory gives their name and the vendor remembered for them',
      '人员目录会提供其姓名及已记住的对应供应商',
      '人員名錄會提供其姓名及已記住的對應供應商',
    ),
  },
};

export const quickbooksI18n: ConnectorTranslations = {
  name: t('QuickBooks Online', 'QuickBooks Online', 'QuickBooks Online'),
  actions: {
    'quickbooks.purchase.create': {
      title: t('Create an expense (Purchase)', '创建支出（Purchase）', '建立支出（Purchase）'),
      description: t(
        'An expense paid from a bank or credit-card account, with its category, payee, memo and currency; sent once even when retried.',
        '从银行或信用卡账户支付的支出，含类别、收款人、备注和币种；重试也只创建一次。',
        '由銀行或信用卡戶口支付的支出，包括類別、收款人、備註及貨幣；重試亦只會建立一次。',
      ),
      fields: {
        amount: { label: t('Amount', '金额', '金額') },
        account: { label: t('Expense category (account)', '费用类别（科目）', '開支類別（會計科目）'), example: 'Travel' },
        paymentAccount: {
          label: t('Paid from (bank or credit card)', '付款账户（银行或信用卡）', '付款戶口（銀行或信用卡）'),
          example: 'Petty Cash',
        },
        vendor: { label: t('Payee (vendor)', '收款人（供应商）', '收款人（供應商）') },
        currency: { label: t('Currency', '币种', '貨幣'), example: 'HKD' },
        exchangeRate: { label: t('Exchange rate to the home currency', '对本位币汇率', '兌本位幣匯率') },
        memo: { label: t('Memo', '备注', '備註') },
        description: F.description!,
        lines: F.lines!,
        vendorEmail: F.vendorEmail!,
        requesterUserId: F.requesterUserId!,
        txnDate: F.txnDate!,
        docNumber: F.docNumber!,
      },
    },
    'quickbooks.bill.create': {
      title: t('Create a bill', '创建账单', '建立賬單'),
      fields: {
        vendor: {
          label: t('Payee (vendor)', '收款人（供应商）', '收款人（供應商）'),
          help: t('Vendor display name; found or created', '供应商显示名称；找不到则创建', '供應商顯示名稱；找不到便會建立'),
        },
        vendorEmail: F.vendorEmail!,
        requesterUserId: F.requesterUserId!,
        dueDate: F.dueDate!,
        amount: F.amount!,
        account: { label: t('Expense category (account)', '费用类别（科目）', '開支類別（會計科目）'), example: 'Travel' },
        description: F.description!,
        lines: F.lines!,
        currency: F.currency!,
        exchangeRate: F.exchangeRate!,
        memo: F.memo!,
        txnDate: F.txnDate!,
        docNumber: F.docNumber!,
      },
    },
    'quickbooks.invoice.create': {
      title: t('Create an invoice', '创建发票', '建立發票'),
      fields: {
        customer: {
          label: t('Customer', '客户', '客戶'),
          help: t('Customer display name; found or created', '客户显示名称；找不到则创建', '客戶顯示名稱；找不到便會建立'),
        },
        lines: {
          label: t('Lines', '明细行', '明細項目'),
          help: t(
            'Several lines, each with an amount, a description and a product/service (default Services)',
            '多条明细，每条含金额、说明和产品/服务（默认 Services）',
            '多項明細，每項包括金額、說明及產品／服務（預設 Services）',
          ),
        },
        amount: F.amount!,
        description: F.description!,
        dueDate: F.dueDate!,
        docNumber: { label: t('Invoice number', '发票编号', '發票編號') },
        currency: F.currency!,
        exchangeRate: F.exchangeRate!,
        memo: F.memo!,
        email: { label: t("Customer's billing email", '客户账单邮箱', '客戶賬單電郵') },
      },
    },
    'quickbooks.vendor.find_or_create': {
      title: t('Find or create a vendor', '查找或创建供应商', '尋找或建立供應商'),
      description: t(
        'By name or email; the People directory remembers which vendor a person is.',
        '按名称或邮箱查找；人员目录会记住每人对应的供应商。',
        '按名稱或電郵尋找；人員名錄會記住每人對應的供應商。',
      ),
      fields: {
        name: { label: t('Vendor name', '供应商名称', '供應商名稱') },
        email: { label: t('Email', '邮箱', '電郵') },
        requesterUserId: F.requesterUserId!,
        currency: {
          label: t('Currency', '币种', '貨幣'),
          help: t('Of a vendor created now', '新建供应商时使用的币种', '新建立供應商時使用的貨幣'),
          example: 'HKD',
        },
      },
    },
    'quickbooks.attach': {
      title: t('Attach a file to a transaction', '为交易添加附件', '為交易加入附件'),
      fields: {
        file: { label: t('File (from an earlier step)', '文件（来自前面的步骤）', '檔案（來自之前的步驟）') },
        entityType: { label: t('Transaction type', '交易类型', '交易類型'), example: 'Purchase' },
        entityId: { label: t('Transaction id', '交易 ID', '交易 ID') },
        note: { label: t('Note', '备注', '備註') },
        skipWhenNoFile: {
          label: t('Skip when there is no file', '没有文件时跳过', '沒有檔案時略過'),
          help: t(
            'E.g. a claim without a receipt: do nothing instead of failing',
            '例如没有收据的报销：不做任何操作，而不是报错',
            '例如沒有收據的報銷：不作任何處理，而不是報錯',
          ),
        },
      },
    },
    'quickbooks.get': {
      title: t('Get an entity by id', '按 ID 获取记录', '按 ID 讀取記錄'),
      fields: {
        entity: { label: t('Record type', '记录类型', '記錄類型'), example: 'Invoice' },
        id: { label: t('Id', 'ID', 'ID') },
      },
    },
    'quickbooks.query': {
      title: t('Query (select * from …)', '查询（select * from …）', '查詢（select * from …）'),
      fields: {
        query: {
          label: t('Query', '查询语句', '查詢語句'),
          example: "select * from Invoice where Balance > '0'",
        },
      },
    },
    'quickbooks.digest': {
      title: t('Overdue invoices and bills due soon', '逾期发票与即将到期的账单', '逾期發票及即將到期的賬單'),
      fields: {
        billsWithinDays: {
          label: t('Bills due within (days)', '多少天内到期的账单', '多少日內到期的賬單'),
          help: t('Default 7', '默认 7', '預設 7'),
        },
        today: {
          label: t('Today (date)', '今天（日期）', '今日（日期）'),
          help: t('YYYY-MM-DD; empty = today (UTC)', 'YYYY-MM-DD；留空 = 今天（UTC）', 'YYYY-MM-DD；留空 = 今日（UTC）'),
        },
      },
    },
  },
  triggers: {
    'quickbooks.changes': {
      title: t('Changes in a QuickBooks company (webhooks)', 'QuickBooks 公司数据变更（Webhook）', 'QuickBooks 公司資料變更（Webhook）'),
      description: t(
        'Intuit sends every change to POST /webhooks/quickbooks; the hub fetches each changed record.',
        'Intuit 将每项变更发送到 POST /webhooks/quickbooks；中枢会读取每条变更的记录。',
        'Intuit 會將每項變更傳送到 POST /webhooks/quickbooks；中樞會讀取每項變更的記錄。',
      ),
    },
    'quickbooks.cdc': {
      title: t(
        'Changes in a QuickBooks company (change data capture poll)',
        'QuickBooks 公司数据变更（CDC 轮询）',
        'QuickBooks 公司資料變更（CDC 輪詢）',
      ),
    },
  },
  events,
  connectionFields: {
    clientId: { label: t('Client ID', '客户端 ID', '用戶端 ID') },
    clientSecret: { label: t('Client secret', '客户端密钥', '用戶端密鑰') },
    webhookVerifierToken: { label: t('Webhook verifier token', 'Webhook 验证令牌', 'Webhook 驗證權杖') },
    environment: { label: t('Environment', '环境', '環境'), example: 'production' },
    realmId: { label: t('Company id (realmId)', '公司 ID（realmId）', '公司 ID（realmId）') },
    companyName: { label: t('Company name', '公司名称', '公司名稱') },
    homeCurrency: { label: t('Home currency', '本位币', '本位幣'), example: 'HKD' },
    baseUrl: { label: t('Accounting API base URL', '会计 API 地址', '會計 API 網址') },
    oauthBaseUrl: { label: t('OAuth base URL', 'OAuth 地址', 'OAuth 網址') },
    authorizeBaseUrl: { label: t('Consent page base URL', '授权页地址', '授權頁網址') },
    refreshToken: { label: t('Refresh token', '刷新令牌', '更新權杖') },
    requestsPerMinute: { label: t('Requests a minute', '每分钟请求数', '每分鐘請求數') },
    maxConcurrent: { label: t('Requests at once', '同时请求数', '同時請求數') },
  },
  errors: {
    missing_field: t(
      'The form lacks a field the transaction needs (the message names it): add it to the approval form or the step.',
      '表单缺少交易所需字段（错误信息中有字段名）：请在审批表单或步骤中补上。',
      '表格缺少交易所需欄位（錯誤訊息會列明）：請在審批表格或步驟中補上。',
    ),
    invalid_field: t(
      'A field holds a value QuickBooks cannot take.',
      '某字段的值 QuickBooks 无法接受。',
      '某欄位的值 QuickBooks 無法接受。',
    ),
    unknown_account: t(
      'No account of that name in the chart of accounts: check the spelling or map the category.',
      '科目表中没有该名称的科目：请检查拼写或映射类别。',
      '會計科目表中沒有該名稱：請檢查拼寫或對應類別。',
    ),
    multicurrency_off: t('The company has not turned on multicurrency.', '该公司未启用多币种。', '該公司未啟用多種貨幣。'),
    '003001': t(
      'QuickBooks throttled the hub; it waits and tries again.',
      'QuickBooks 限流，中枢稍后重试。',
      'QuickBooks 限制流量，中樞稍後重試。',
    ),
  },
};
