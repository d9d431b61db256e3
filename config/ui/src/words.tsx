import { useEffect, useState } from 'react';
import { api, type Catalog, type CatalogConnector } from './api.ts';
import { translate, useLang, type Lang } from './i18n.tsx';

/**
 * The connectors' own words (connectors/<id>/i18n.ts, delivered with GET /api/v1/catalog) and the
 * hub's way of writing dates, times and money. Every page that names a connector, an action, an event
 * or a connection field goes through here, so nothing shows in English on a Chinese page.
 */
export type Text = Record<Lang, string>;
export interface FieldTexts {
  label: Text;
  help?: Text;
  example?: string | Text;
  options?: Record<string, Text>;
  choices?: string;
}

let catalogPromise: Promise<Catalog> | undefined;
/** The catalog, fetched once per page load and shared by every component. */
export function loadCatalog(): Promise<Catalog> {
  catalogPromise ??= api<Catalog>('GET', '/api/v1/catalog').catch((e) => {
    catalogPromise = undefined;
    throw e;
  });
  return catalogPromise;
}
export function useCatalog(): Catalog | undefined {
  const [c, setC] = useState<Catalog>();
  useEffect(() => {
    let live = true;
    loadCatalog().then(
      (x) => live && setC(x),
      () => {},
    );
    return () => {
      live = false;
    };
  }, []);
  return c;
}

export function say(lang: Lang, text: Text | string | undefined, fallback = ''): string {
  if (!text) return fallback;
  if (typeof text === 'string') return text;
  return text[lang] || text.en || fallback;
}

/** Words of one catalog, in the chosen language. */
export function wordsOf(catalog: Catalog | undefined, lang: Lang) {
  const connectors = catalog?.connectors ?? [];
  const byAction = (id: string) => connectors.find((c) => c.actions.some((a) => a.id === id));
  const byPrefix = (pattern: string) =>
    connectors.find((x) => x.triggers.some((t) => t.events.some((e) => e.startsWith(pattern.replace(/\*$/, '')))));
  const byEvent = (type: string) => connectors.find((c) => c.i18n?.events?.[type] || c.triggers.some((t) => t.events.includes(type)));
  return {
    connector: (c: CatalogConnector | string) => {
      const conn = typeof c === 'string' ? connectors.find((x) => x.id === c) : c;
      return say(lang, conn?.i18n?.name, conn?.name ?? String(c));
    },
    action: (id: string) => {
      const c = byAction(id);
      return say(lang, c?.i18n?.actions?.[id]?.title, c?.actions.find((a) => a.id === id)?.title ?? id);
    },
    event: (type: string) => {
      if (type.endsWith('*')) {
        const c = byPrefix(type);
        return c ? `${say(lang, c.i18n?.name, c.name)}: ${translate(lang, 'anyEvent')}` : type;
      }
      return say(lang, byEvent(type)?.i18n?.events?.[type], type);
    },
    field: (actionId: string, key: string): FieldTexts | undefined => byAction(actionId)?.i18n?.actions?.[actionId]?.fields?.[key],
    connField: (connectorId: string, key: string): FieldTexts | undefined =>
      connectors.find((c) => c.id === connectorId)?.i18n?.connectionFields?.[key],
    /** A provider or connector error code in words, when the connector translates it. */
    error: (connectorId: string | undefined, code: string | null | undefined): string | undefined => {
      if (!code) return undefined;
      const own = connectors.find((c) => c.id === connectorId)?.i18n?.errors?.[code];
      const any = own ?? connectors.map((c) => c.i18n?.errors?.[code]).find(Boolean);
      return any ? say(lang, any) : undefined;
    },
    serviceOf: (idOrEvent: string) => (byAction(idOrEvent) ?? byEvent(idOrEvent) ?? byPrefix(idOrEvent))?.id,
  };
}
export function useWords() {
  const { lang } = useLang();
  return wordsOf(useCatalog(), lang);
}

// ---------- dates, times, money ----------

let companyTimeZone = 'Asia/Hong_Kong';
export function setCompanyTimeZone(tz: string | undefined) {
  if (tz) companyTimeZone = tz;
}
/** English pages write dates the Hong Kong way (day before month). */
export const LOCALE: Record<Lang, string> = { en: 'en-HK', 'zh-CN': 'zh-CN', 'zh-HK': 'zh-HK' };
const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone;

/** A time in the company's time zone, with the zone named when the browser is elsewhere. */
export function formatTime(at: string | Date, lang: Lang): string {
  const d = typeof at === 'string' ? new Date(at) : at;
  const other = browserZone() !== companyTimeZone;
  return d.toLocaleString(LOCALE[lang], {
    timeZone: companyTimeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
    hour12: false,
    ...(other ? { timeZoneName: 'short' } : {}),
  });
}
/** An amount with its currency: HK$5,000.00. */
export function formatMoney(amount: number, currency: string, lang: Lang): string {
  return new Intl.NumberFormat(LOCALE[lang], { style: 'currency', currency, currencyDisplay: 'symbol' }).format(amount);
}
