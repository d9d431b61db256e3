import { tx, type ConnectorTranslations } from '../../core/connector-i18n.ts';

export const ocrI18n: ConnectorTranslations = {
  name: tx('Receipt reader (offline OCR)', '收据识别（离线 OCR）', '收據識別（離線 OCR）'),
  actions: {
    'ocr.receipt.total': {
      title: tx("Read a receipt's total and compare it with the claim", '识别收据总额并与申报金额核对', '識別收據總額並與申報金額核對'),
      description: tx(
        'Reads the total of a receipt image or PDF on this server (English and traditional Chinese; nothing is sent out). When it differs from the claimed amount by more than the tolerance, or cannot be read, the result says "review" with the reason; the flow goes on.',
        '在本服务器上识别收据图片或 PDF 的总额（英文和繁体中文，不外传任何数据）。与申报金额相差超过容差或无法识别时，结果标记为"需复核"并说明原因；流程照常继续。',
        '在本伺服器上識別收據圖片或 PDF 的總額（英文及繁體中文，不會外傳任何資料）。與申報金額相差超過容差或無法識別時，結果會標示為「需覆核」並註明原因；流程照常繼續。',
      ),
      fields: {
        file: {
          label: tx('Receipt (from an earlier step)', '收据（来自前面的步骤）', '收據（來自之前的步驟）'),
          help: tx(
            'PNG or JPEG photo, or a PDF with text. No file: nothing is read.',
            'PNG 或 JPEG 照片，或含文字的 PDF。没有文件则不识别。',
            'PNG 或 JPEG 相片，或含文字的 PDF。沒有檔案則不會識別。',
          ),
        },
        expectedAmount: { label: tx('Claimed amount', '申报金额', '申報金額'), example: '1234.50' },
        expectedCurrency: { label: tx('Claimed currency', '申报币种', '申報貨幣'), example: 'HKD' },
        tolerancePercent: {
          label: tx('Tolerance (%)', '容差（%）', '容差（%）'),
          help: tx(
            'How far the receipt may differ from the claim before it is flagged (default 1 %).',
            '收据与申报金额相差多少以内不标记（默认 1%）。',
            '收據與申報金額相差多少以內不會標示（預設 1%）。',
          ),
        },
      },
    },
  },
};
