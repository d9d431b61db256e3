import { tx, type ConnectorTranslations } from '../../core/connector-i18n.ts';

export const scheduleI18n: ConnectorTranslations = {
  name: tx('Schedule', '定时', '定時'),
  triggers: {
    'schedule.fired': {
      title: tx('On a schedule', '按时间表', '按時間表'),
      description: tx(
        'Every 15 minutes, or at set times (e.g. 09:00 on weekdays).',
        '每 15 分钟，或在固定时间（如工作日 09:00）。',
        '每 15 分鐘，或在指定時間（例如平日 09:00）。',
      ),
      params: {
        every: { label: tx('Every', '每隔', '每隔'), example: '15m' },
        cron: {
          label: tx('At these times (cron)', '在这些时间（cron）', '在這些時間（cron）'),
          help: tx('Minute, hour, day, month, weekday.', '分、时、日、月、星期。', '分、時、日、月、星期。'),
          example: '0 9 * * 1-5',
        },
        timezone: { label: tx('Time zone', '时区', '時區'), example: 'Asia/Hong_Kong' },
      },
    },
  },
  events: { 'schedule.fired': tx('Time came', '时间到了', '時間到了') },
};
