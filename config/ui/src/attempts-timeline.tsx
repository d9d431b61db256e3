import type { ReactNode } from 'react';
import type { Attempt, StepSummary } from './api.ts';
import { useLang, useT } from './i18n.tsx';
import { Json, StatusBadge, Time } from './ui.tsx';

/**
 * A step's attempts as a time line: a bar of the step's life (each attempt a block placed at its time,
 * as long as it lasted, coloured by how it ended) over a list of what happened — queued, each attempt
 * with its time, status, duration and error, and between them the wait and why (in the queue, a retry
 * after a failure, the provider asking to slow down, a connection to reconnect), ending with what
 * comes next (the next attempt's time, waiting for a reconnect, or given up).
 */
type Step = StepSummary & { attemptDetails: Attempt[] };

export function formatDuration(ms: number, lang: string): string {
  const unit = (value: number, u: 'millisecond' | 'second' | 'minute' | 'hour') =>
    new Intl.NumberFormat(lang === 'en' ? 'en-HK' : lang, {
      style: 'unit',
      unit: u,
      unitDisplay: 'short',
      maximumFractionDigits: 1,
    }).format(value);
  if (ms < 1000) return unit(Math.round(ms), 'millisecond');
  if (ms < 60_000) return unit(ms / 1000, 'second');
  if (ms < 3_600_000) return unit(ms / 60_000, 'minute');
  return unit(ms / 3_600_000, 'hour');
}

const t0 = (s: string | null | undefined) => (s ? Date.parse(s) : Number.NaN);
const tone = (status: string) => (status === 'succeeded' ? 'ok' : status === 'failed' || status === 'dead' ? 'bad' : 'busy');

/** Why the step waited after an attempt that ended so. */
function waitReason(a: Attempt): string {
  if (a.errorClass === 'needs_reauth') return 'waitReauth';
  if (/\b429\b|throttl|too fast|rate limit|flow ?control/i.test(a.error ?? '')) return 'waitThrottled';
  return 'waitRetry';
}

export function AttemptsTimeline({ step }: { step: Step }) {
  const t = useT();
  const { lang } = useLang();
  const attempts = step.attemptDetails;
  const created = t0(step.createdAt);
  const now = Date.now();
  const lastEnd = Math.max(
    ...attempts.map((a) => t0(a.finishedAt ?? a.startedAt)).filter((x) => !Number.isNaN(x)),
    t0(step.finishedAt),
    created,
  );
  const end = Math.max(lastEnd, step.status === 'retrying' && step.nextAttemptAt ? t0(step.nextAttemptAt) : lastEnd, created + 1);
  const span = Math.max(end - (Number.isNaN(created) ? lastEnd : created), 1);
  const pos = (ms: number) => `${Math.min(100, Math.max(0, ((ms - created) / span) * 100)).toFixed(2)}%`;

  const rows: ReactNode[] = [];
  rows.push(
    <li key="queued" className="tl-item tl-queued">
      <span className="tl-dot" aria-hidden="true" />
      <span>
        {t('stepQueued')} · <Time at={step.createdAt} />
      </span>
    </li>,
  );
  let prevEnd = created;
  let prev: Attempt | undefined;
  for (const a of attempts) {
    const start = t0(a.startedAt);
    const gap = start - prevEnd;
    if (!Number.isNaN(gap) && gap >= 50)
      rows.push(
        <li key={`wait-${a.attempt}`} className="tl-item tl-wait" data-wait={prev ? waitReason(prev) : 'waitQueued'}>
          <span className="tl-dot" aria-hidden="true" />
          <span className="muted small">
            {t('waited')} {formatDuration(gap, lang)} · {t(prev ? waitReason(prev) : 'waitQueued')}
          </span>
        </li>,
      );
    rows.push(
      <li key={`a-${a.attempt}`} className={`tl-item tl-attempt tl-${tone(a.status)}`} data-attempt={a.attempt}>
        <span className="tl-dot" aria-hidden="true" />
        <details>
          <summary>
            {t('attempt')} {a.attempt} · <StatusBadge status={a.status} /> · <Time at={a.startedAt} />
            {a.durationMs !== null ? ` · ${formatDuration(a.durationMs, lang)}` : ''}
            {a.error ? <span className="error-text"> · {a.error}</span> : null}
          </summary>
          <div className="grid-2">
            <div>
              <h4 className="small">{t('request')}</h4>
              <Json value={a.request} />
            </div>
            <div>
              <h4 className="small">{t('response')}</h4>
              <Json value={a.response} />
            </div>
          </div>
        </details>
      </li>,
    );
    prevEnd = t0(a.finishedAt ?? a.startedAt);
    prev = a;
  }
  // What comes next.
  const next =
    step.status === 'retrying' && step.nextAttemptAt ? (
      <>
        {t('nextAttemptAt')} <Time at={step.nextAttemptAt} />
        {prev ? ` · ${t(waitReason(prev))}` : ''}
      </>
    ) : step.status === 'waiting_reauth' ? (
      t('waitingReauthNow')
    ) : step.status === 'dead' ? (
      `${t('gaveUp')} (${attempts.length}/${step.maxAttempts})`
    ) : step.status === 'pending' || step.status === 'running' ? (
      t('inProgress')
    ) : null;
  if (next)
    rows.push(
      <li key="next" className={`tl-item tl-next tl-${step.status === 'dead' ? 'bad' : 'busy'}`} data-next={step.status}>
        <span className="tl-dot" aria-hidden="true" />
        <span className="small">{next}</span>
      </li>,
    );

  const summary = `${t('attemptsTimeline')}: ${attempts.map((a) => `${t('attempt')} ${a.attempt} ${a.status}`).join(', ')}`;
  return (
    <div className="timeline" data-timeline={step.id}>
      {!Number.isNaN(created) && attempts.length > 0 && (
        <div className="tl-track" role="img" aria-label={summary}>
          {attempts.map((a) => {
            const s = t0(a.startedAt);
            const e = t0(a.finishedAt) || s;
            return (
              <span
                key={a.attempt}
                className={`tl-block tl-${tone(a.status)}`}
                style={{ left: pos(s), width: `max(6px, calc(${pos(e)} - ${pos(s)}))` }}
              />
            );
          })}
          {step.status === 'retrying' && step.nextAttemptAt && (
            <span className="tl-block tl-planned" style={{ left: `calc(${pos(t0(step.nextAttemptAt))} - 6px)`, width: '6px' }} />
          )}
        </div>
      )}
      {!Number.isNaN(created) && attempts.length > 0 && (
        <div className="tl-scale small muted" aria-hidden="true">
          <span>
            <Time at={step.createdAt} />
          </span>
          <span>{formatDuration(Math.max(0, (step.status === 'retrying' ? end : Math.min(end, now)) - created), lang)}</span>
        </div>
      )}
      <ol className="tl-list" aria-label={t('attemptsTimeline')}>
        {rows}
      </ol>
    </div>
  );
}
