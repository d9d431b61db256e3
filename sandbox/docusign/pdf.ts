/**
 * Small valid PDFs (one Helvetica text page per entry) built byte for byte, so a given input always
 * gives the same bytes: the combined PDF of an envelope is stable while the envelope does not change.
 */
export function textPdf(pages: string[][], title: string): Buffer {
  const esc = (s: string) => s.replace(/[^\x20-\x7e]/g, '?').replace(/([\\()])/g, '\\$1');
  const objects: string[] = [];
  const pageIds: number[] = [];
  // 1: catalog, 2: pages, 3: font, 4: info; then content + page object per page.
  let next = 5;
  const bodies: Record<number, string> = {};
  for (const lines of pages) {
    const contentId = next++;
    const pageId = next++;
    const text = lines
      .slice(0, 48)
      .map((l, i) => `BT /F1 ${i === 0 ? 14 : 10} Tf 56 ${780 - i * 15} Td (${esc(l).slice(0, 110)}) Tj ET`)
      .join('\n');
    bodies[contentId] = `<< /Length ${Buffer.byteLength(text, 'latin1')} >>\nstream\n${text}\nendstream`;
    bodies[pageId] =
      `<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> /Contents ${contentId} 0 R >>`;
    pageIds.push(pageId);
  }
  bodies[1] = '<< /Type /Catalog /Pages 2 0 R >>';
  bodies[2] = `<< /Type /Pages /Kids [${pageIds.map((id) => `${id} 0 R`).join(' ')}] /Count ${pageIds.length} >>`;
  bodies[3] = '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>';
  bodies[4] = `<< /Title (${esc(title)}) /Producer (dingbridge sandbox docusign fake) >>`;
  let out = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const offsets: number[] = [];
  for (let id = 1; id < next; id++) {
    offsets[id] = Buffer.byteLength(out, 'latin1');
    objects.push(`${id} 0 obj\n${bodies[id]}\nendobj\n`);
    out += objects.at(-1);
  }
  const xref = Buffer.byteLength(out, 'latin1');
  out += `xref\n0 ${next}\n0000000000 65535 f \n`;
  for (let id = 1; id < next; id++) out += `${String(offsets[id]).padStart(10, '0')} 00000 n \n`;
  out += `trailer\n<< /Size ${next} /Root 1 0 R /Info 4 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

/** Text a PDF (or a text document) shows, for anchor tabs: literal strings of raw and Flate-decoded streams. */
export function documentText(bytes: Buffer, inflate: (b: Buffer) => Buffer): string {
  const raw = bytes.toString('latin1');
  if (!raw.startsWith('%PDF')) return bytes.toString('utf8');
  const parts: string[] = [raw];
  for (const m of raw.matchAll(/stream\r?\n/g)) {
    const start = m.index + m[0].length;
    const end = raw.indexOf('endstream', start);
    if (end < 0) break;
    try {
      parts.push(inflate(bytes.subarray(start, end)).toString('latin1'));
    } catch {
      /* not Flate */
    }
  }
  // Literal strings inside text operators: (Hello) Tj and [(He) 20 (llo)] TJ.
  return parts
    .join('\n')
    .replace(/\)\s*-?\d*\.?\d*\s*\(/g, '')
    .replace(/\\([()\\])/g, '$1');
}
