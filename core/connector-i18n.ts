/**
 * A connector's words for the config UI in the hub's three languages. English falls back to the
 * declaration (titles, zod `.describe()`); zh-CN is Simplified Chinese, zh-HK is Hong Kong wording in
 * traditional characters. The UI's translation test fails when a connector leaves one out.
 */
export type UiLang = 'en' | 'zh-CN' | 'zh-HK';
export type Text = Record<UiLang, string>;
export const UI_LANGS: UiLang[] = ['en', 'zh-CN', 'zh-HK'];

/** `tx(en, zhCN, zhHK)`: a Text in the three languages, in the dictionary's order. */
export function tx(en: string, zhCN: string, zhHK: string): Text {
  return { en, 'zh-CN': zhCN, 'zh-HK': zhHK };
}

export interface FieldTexts {
  label: Text;
  help?: Text;
  /** A value the field could hold, shown greyed in the empty input (not translated when it is data). */
  example?: string | Text;
  /** Labels of an enum field's values, keyed by value (a select shows them). */
  options?: Record<string, Text>;
  /** The field's value is one of the connection's live choices (a name in `choices` of defineConnector): the form lists them by name. */
  choices?: string;
}

/** One step of the guided connect panel: what to do in the provider's console, in words. */
export interface GuideStep {
  title: Text;
  body: Text;
  /** A URL of the provider's console to open (shown as a link). */
  link?: string;
  /** Hub URLs the admin pastes into the provider's console (each gets a copy button): `callback`, `webhook`, `oauthCallback`. */
  paste?: Array<'callback' | 'webhook' | 'oauthCallback' | 'origin' | 'egressIps'>;
  /** Connection fields this step fills (shown inside the step). */
  fields?: string[];
}

export interface ConnectorTranslations {
  name: Text;
  /** Keyed by action id (`google.calendar.create_event`). */
  actions?: Record<string, { title: Text; description?: Text; fields?: Record<string, FieldTexts> }>;
  /** Keyed by trigger id; `params` are the flow's trigger parameters. */
  triggers?: Record<string, { title: Text; description?: Text; params?: Record<string, FieldTexts> }>;
  /** Keyed by event type (`google.calendar.event.created`). */
  events?: Record<string, Text>;
  /** Connection fields (the connect form), keyed by field name. */
  connectionFields?: Record<string, FieldTexts>;
  /** Step error codes this connector raises, in words with what to do. */
  errors?: Record<string, Text>;
  /** The guided connect panel: steps in the provider's console, with its pages' exact names. */
  guide?: GuideStep[];
  /** Names of the live-choice lists the connector offers (`choices` in defineConnector), e.g. Trello boards. */
  choices?: Record<string, Text>;
}
