/**
 * Mobile numbers in one E.164-like form so the same phone matches across sources: spaces, dashes,
 * dots and brackets dropped; `00` → `+`; a bare 8-digit number is Hong Kong's (+852); a bare
 * 11-digit number starting with 1 is mainland China's (+86). Returns undefined for an empty value and
 * null for one that is not a phone number.
 */
export function normaliseMobile(raw: string | null | undefined, defaultCountry = '852'): string | undefined | null {
  if (raw === null || raw === undefined) return undefined;
  let s = raw.trim().replace(/[\s\-().]/g, '');
  if (!s) return undefined;
  if (s.startsWith('00')) s = `+${s.slice(2)}`;
  // DingTalk writes country codes as "+852-12345678", already handled above; "852 1234 5678" without a plus is ambiguous with an 11-digit number.
  if (s.startsWith('+')) return /^\+[1-9]\d{6,14}$/.test(s) ? s : null;
  if (!/^\d+$/.test(s)) return null;
  if (s.length === 8) return `+${defaultCountry}${s}`;
  if (s.length === 11 && s.startsWith('1')) return `+86${s}`;
  if (s.length === 11 && s.startsWith('852')) return `+${s}`;
  return null;
}

/** The national part DingTalk's old API takes (`mobile`) and its country code, from an E.164 number. */
export function splitMobile(e164: string): { countryCode: string; national: string } {
  for (const cc of ['852', '853', '886', '86', '65', '44', '1'])
    if (e164.startsWith(`+${cc}`)) return { countryCode: cc, national: e164.slice(cc.length + 1) };
  return { countryCode: '', national: e164.replace(/^\+/, '') };
}
