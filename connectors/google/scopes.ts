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
