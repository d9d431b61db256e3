import { defineConnector } from '../../core/connector.ts';
import { SCHEDULE_EVENT } from '../../core/triggers/schedule-spec.ts';
import { scheduleI18n } from './i18n.ts';

/**
 * Schedules: `when: { event: schedule.fired, params: { every: 15m } }` or `params: { cron: "0 9 * * 1-5",
 * timezone: Asia/Hong_Kong }`. Built into the hub (core/triggers/schedules.ts runs them); this entry
 * only puts the trigger in the catalog the flow editor and the API list.
 */
export default defineConnector({
  id: 'schedule',
  name: 'Schedule',
  i18n: scheduleI18n,
  auth: { kind: 'none' },
  triggers: [
    {
      id: SCHEDULE_EVENT,
      title: 'A schedule came due (every 15m, or a cron such as "0 9 * * 1-5" in a time zone)',
      events: [SCHEDULE_EVENT],
      kind: 'schedule',
      sample: { slot: '2026-12-07T01:00:00.000Z', cron: '0 9 * * 1-5', timezone: 'Asia/Hong_Kong', catchUp: 'true' },
    },
  ],
  actions: [],
});
