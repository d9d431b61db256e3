/** Google's OAuth scopes the connector's triggers and actions use. */
export const SCOPES = {
  openid: 'openid',
  email: 'email',
  profile: 'profile',
  calendar: 'https://www.googleapis.com/auth/calendar',
  calendarEvents: 'https://www.googleapis.com/auth/calendar.events',
  drive: 'https://www.googleapis.com/auth/drive',
  driveFile: 'https://www.googleapis.com/auth/drive.file',
  gmailSend: 'https://www.googleapis.com/auth/gmail.send',
  gmailReadonly: 'https://www.googleapis.com/auth/gmail.readonly',
  sheets: 'https://www.googleapis.com/auth/spreadsheets',
  directoryUsers: 'https://www.googleapis.com/auth/admin.directory.user.readonly',
  directoryGroups: 'https://www.googleapis.com/auth/admin.directory.group.readonly',
} as const;

/** What a new connection asks for when the admin names no scopes. */
export const DEFAULT_SCOPES: string[] = [
  SCOPES.openid,
  SCOPES.email,
  SCOPES.profile,
  SCOPES.calendar,
  SCOPES.drive,
  SCOPES.gmailSend,
  SCOPES.gmailReadonly,
];

/**
 * What each use of a Google connection needs, by action id or event type prefix (the first match
 * wins). A flow's action `google.calendar.free_busy` or trigger `google.calendar.event.*` needs
 * Calendar; Drive, Gmail, Sheets and Directory uses get theirs.
 */
const NEEDS: Array<[prefix: string, scopes: string[]]> = [
  ['google.calendar.', [SCOPES.calendar]],
  ['google.drive.', [SCOPES.drive]],
  ['google.gmail.send', [SCOPES.gmailSend]],
  ['google.gmail.', [SCOPES.gmailReadonly]],
  ['google.sheets.', [SCOPES.sheets]],
  ['google.directory.group', [SCOPES.directoryGroups]],
  ['google.directory.', [SCOPES.directoryUsers]],
];

/** Always asked for: who the account is (the connection's label and the People directory match on the email). */
const IDENTITY = [SCOPES.openid, SCOPES.email, SCOPES.profile];

/** One event type pattern of a flow (`google.calendar.*`, `google.*`) may stand for several uses. */
function needsOf(name: string): string[] {
  if (name.endsWith('*')) {
    const stem = name.slice(0, -1);
    return NEEDS.filter(([p]) => p.startsWith(stem) || stem.startsWith(p)).flatMap(([, s]) => s);
  }
  return NEEDS.find(([p]) => name.startsWith(p))?.[1] ?? [];
}

/**
 * The scopes a connect asks for: identity, plus what the enabled flows use the connection for; with no
 * flow yet, Calendar (the connection test reads the calendar list). Google's `include_granted_scopes`
 * keeps what was granted before, so connecting again after enabling a Drive flow adds Drive.
 */
export function scopesForUse(use: { actions: string[]; events: string[] }): string[] {
  const wanted = new Set<string>(IDENTITY);
  for (const name of [...use.actions, ...use.events]) for (const s of needsOf(name)) wanted.add(s);
  if (wanted.size === IDENTITY.length) wanted.add(SCOPES.calendar);
  return [...wanted];
}
