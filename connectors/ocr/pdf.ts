/**
 * A PDF receipt's text without rendering it (pdftoppm and a canvas are not promised in the image):
 * pdfjs-dist 4.10.38 (pinned: the last major that runs on Node 20; 5.x asks for ≥ 20.16 / 22.3 and
 * a canvas) reads the text layer of the first pages. A scanned PDF has no text layer: the answer is
 * empty and the receipt is flagged for review as unreadable.
 */
export async function pdfText(data: Uint8Array, maxPages = 3): Promise<string> {
  const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
  const doc = await pdfjs.getDocument({
    data,
    isEvalSupported: false,
    disableFontFace: true,
    useSystemFonts: false,
    verbosity: 0,
  }).promise;
  try {
    const lines: string[] = [];
    for (let p = 1; p <= Math.min(doc.numPages, maxPages); p++) {
      const page = await doc.getPage(p);
      const content = await page.getTextContent();
      let line = '';
      for (const item of content.items as Array<{ str?: string; hasEOL?: boolean }>) {
        line += item.str ?? '';
        if (item.hasEOL) {
          lines.push(line);
          line = '';
        } else if (item.str) line += ' ';
      }
      if (line.trim()) lines.push(line);
    }
    return lines.join('\n');
  } finally {
    await doc.destroy();
  }
}
