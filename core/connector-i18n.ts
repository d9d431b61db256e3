/**
 * A connector's words for the config UI in the hub's three languages. English falls back to the
 * declaration (titles, zod `.describe()`); zh-CN is Simplified Chinese, zh-HK is Hong Kong wording in
 * traditional characters. The UI's translation test fails when a connector leaves one out.
 */
export type UiLang = 'en' | 'zh-CN' | 'zh-HK';
export type Text = Record<UiLang, string>;

export interface FieldTexts {
  label: Text;
  help?: Text;
  /** A value the field could hold, shown greyed in the empty input (not translated when it is data). */
  example?: string | Text;
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
}
