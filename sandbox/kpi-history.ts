/**
 * A year of adoption history, deterministic from a seed, for the adoption-KPI tests and demos: approvals
 * (start and finish times per process code; purchase requests get fast once automated), meetings (arranged
 * through DingTalk or elsewhere), files shared, and DingTalk data-center days (staff, active users,
 * mobile/desktop logins). Plain data: the caller loads the data-center days and the approvals into the
 * DingTalk fake (POST /__sandbox/dingtalk/datacenter, POST /__sandbox/dingtalk/approvals/history) and
 * stores meetings and files as the hub's events and steps.
 */
export interface HistoryApproval {
  processInstanceId: string;
  processCode: string;
  /** Who started it (DingTalk userId): one of ORIGINATORS, in turn. */
  originatorUserId: string;
  createTime: string;
  finishTime: string;
  result: 'agree' | 'refuse';
}
export interface HistoryMeeting {
  side: 'dingtalk' | 'other';
  at: string;
}
export interface HistoryFile {
  at: string;
  name: string;
}
export interface HistoryDay {
  date: string;
  staff: number;
  activated: number;
  dau: number;
  active30d: number;
  mobileLogins: number;
  desktopLogins: number;
  approvalsStarted: number;
  approvalsFinished: number;
}
export interface KpiHistory {
  from: string;
  to: string;
  approvals: HistoryApproval[];
  meetings: HistoryMeeting[];
  files: HistoryFile[];
  days: HistoryDay[];
  automatedAt: Record<string, string>;
}

/** mulberry32: small, fast, and the same sequence everywhere. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The staff who start approvals in the history (DingTalk userIds), for the department filter. */
export const ORIGINATORS = ['user-01', 'user-02', 'user-03', 'user-04', 'user-05', 'user-06'];

const PROCESSES = [
  { code: 'PROC-PURCHASE', perDay: 1.2, hoursBefore: 72, hoursAfter: 8 },
  { code: 'PROC-LEAVE', perDay: 0.8, hoursBefore: 20, hoursAfter: 20 },
  { code: 'PROC-REIMBURSE', perDay: 1.0, hoursBefore: 48, hoursAfter: 30 },
];

/** `months` whole months ending with `lastMonth` (YYYY-MM); days are UTC calendar days. */
export function generateKpiHistory(opts: { seed?: number; lastMonth?: string; months?: number; automatedAt?: string } = {}): KpiHistory {
  const rand = prng(opts.seed ?? 17);
  const months = opts.months ?? 12;
  const [ly, lm] = (opts.lastMonth ?? '2026-11').split('-').map(Number) as [number, number];
  const start = Date.UTC(ly, lm - months, 1);
  const end = Date.UTC(ly, lm, 1);
  const automatedAt = opts.automatedAt ?? new Date(Date.UTC(ly, lm - Math.ceil(months / 2), 1)).toISOString().slice(0, 10);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const count = (mean: number) => {
    let n = 0;
    for (let i = 0; i < 3; i++) if (rand() < mean / 3) n++;
    return n;
  };

  const approvals: HistoryApproval[] = [];
  const meetings: HistoryMeeting[] = [];
  const files: HistoryFile[] = [];
  const days: HistoryDay[] = [];
  let seq = 0;
  const total = (end - start) / 86_400_000;
  for (let i = 0; i < total; i++) {
    const dayStart = start + i * 86_400_000;
    const date = new Date(dayStart).toISOString().slice(0, 10);
    const progress = i / total;
    for (const p of PROCESSES) {
      for (let k = count(p.perDay * 1.5); k > 0; k--) {
        const created = dayStart + int(0, 23 * 60) * 60_000;
        const hours = (date >= automatedAt ? p.hoursAfter : p.hoursBefore) * (0.5 + rand());
        const finished = created + Math.round(hours * 60) * 60_000;
        if (finished >= end) continue;
        approvals.push({
          processInstanceId: `hist-${String(++seq).padStart(6, '0')}`,
          processCode: p.code,
          originatorUserId: ORIGINATORS[seq % ORIGINATORS.length]!,
          createTime: new Date(created).toISOString(),
          finishTime: new Date(finished).toISOString(),
          result: rand() < 0.85 ? 'agree' : 'refuse',
        });
      }
    }
    // Meetings move to DingTalk as the roll-out settles in; files shared grow over the year.
    for (let k = int(0, 6); k > 0; k--)
      meetings.push({
        side: rand() < 0.3 + 0.6 * progress ? 'dingtalk' : 'other',
        at: new Date(dayStart + int(0, 1439) * 60_000).toISOString(),
      });
    for (let k = int(0, Math.round(2 + 12 * progress)); k > 0; k--)
      files.push({ at: new Date(dayStart + int(0, 1439) * 60_000).toISOString(), name: `file-${files.length + 1}.pdf` });
    const staff = 40 + Math.floor(progress * 20);
    const active30d = Math.min(staff, Math.round(staff * (0.6 + 0.35 * progress) + int(-2, 2)));
    const dau = Math.round(active30d * (0.5 + rand() * 0.3));
    const logins = dau * int(2, 4);
    const mobileLogins = Math.round(logins * (0.45 + 0.3 * progress + (rand() - 0.5) * 0.1));
    days.push({
      date,
      staff,
      activated: Math.min(staff, active30d + int(0, 3)),
      dau,
      active30d,
      mobileLogins,
      desktopLogins: logins - mobileLogins,
      approvalsStarted: int(0, 6),
      approvalsFinished: int(0, 6),
    });
  }
  return {
    from: new Date(start).toISOString().slice(0, 7),
    to: opts.lastMonth ?? '2026-11',
    approvals,
    meetings,
    files,
    days,
    automatedAt: { 'PROC-PURCHASE': automatedAt },
  };
}
