import { defineConnector } from '../../core/connector.ts';
import { ocrI18n } from './i18n.ts';
import { readReceiptTotal } from './read-total.ts';

/**
 * Offline OCR of receipts: tesseract.js with its English and traditional-Chinese models from npm
 * (engine.ts), PDF text through pdfjs-dist (pdf.ts), the total found in the text and compared with a
 * claim (total.ts). No credentials, no network.
 */
export default defineConnector({
  id: 'ocr',
  name: 'Receipt reader (offline OCR)',
  i18n: ocrI18n,
  auth: { kind: 'none' },
  triggers: [],
  actions: [readReceiptTotal],
});
