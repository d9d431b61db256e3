import { useEffect, useState } from 'react';
import { api, upload, type PeopleDiff, type Person } from '../api.ts';
import { useT } from '../i18n.tsx';
import { Empty, errorText, Field, Modal, Notice } from '../ui.tsx';

const SHOWN = 200;
const show = (v: unknown) => (v === null || v === undefined || v === '' ? '—' : String(v));

/** The import wizard: pick a file → dry-run diff (or the row errors) → confirm → done. */
function ImportWizard({ onClose, onImported }: { onClose: () => void; onImported: () => void }) {
  const t = useT();
  const [file, setFile] = useState<File>();
  const [deactivate, setDeactivate] = useState(false);
  const [diff, setDiff] = useState<PeopleDiff>();
  const [done, setDone] = useState<PeopleDiff>();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const send = async (dryRun: boolean) => {
    if (!file) return;
    setBusy(true);
    setError(undefined);
    try {
      const r = await upload<PeopleDiff>(`/api/v1/people/import?dry_run=${dryRun}&deactivate_missing=${deactivate}`, file, 'text/csv');
      if (r.status !== 200 && r.status !== 422) {
        setError((r.json as any)?.error?.message ?? `HTTP ${r.status}`);
        return;
      }
      if (dryRun) setDiff(r.json);
      else if (r.status === 200) {
        setDone(r.json);
        onImported();
      } else setDiff(r.json);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Modal title={t('importCsv')} onClose={onClose}>
      <div className="modal-body">
        {!done && <p className="muted">{t('importIntro')}</p>}
        {!done && (
          <>
            <Field label={t('csvFile')}>
              {(id) => (
                <input
                  id={id}
                  name="csv"
                  type="file"
                  accept=".csv,text/csv"
                  onChange={(e) => {
                    setFile(e.target.files?.[0]);
                    setDiff(undefined);
                  }}
                />
              )}
            </Field>
            <label className="check">
              <input
                type="checkbox"
                checked={deactivate}
                onChange={(e) => {
                  setDeactivate(e.target.checked);
                  setDiff(undefined);
                }}
              />{' '}
              {t('deactivateMissing')}
            </label>
            <div className="actions">
              <button type="button" className="btn" disabled={!file || busy} onClick={() => send(true)}>
                {t('checkFile')}
              </button>
            </div>
          </>
        )}
        {error && <Notice kind="error">{error}</Notice>}
        {diff && diff.errors.length > 0 && (
          <>
            <Notice kind="error">{t('importErrors', { n: diff.errors.length })}</Notice>
            <div className="table-wrap">
              <table className="table" data-testid="import-errors">
                <thead>
                  <tr>
                    <th>{t('row')}</th>
                    <th>{t('problem')}</th>
                  </tr>
                </thead>
                <tbody>
                  {diff.errors.slice(0, SHOWN).map((e) => (
                    <tr key={`${e.row}-${e.message}`}>
                      <td className="mono">{e.row}</td>
                      <td>{e.message}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </>
        )}
        {diff && diff.errors.length === 0 && !done && (
          <>
            <Notice>
              {t('diffSummary', { created: diff.created, updated: diff.updated, deactivated: diff.deactivated, unchanged: diff.unchanged })}
            </Notice>
            {diff.changes.length > SHOWN && (
              <p className="muted small">{t('changesShown', { shown: SHOWN, total: diff.changes.length })}</p>
            )}
            <div className="table-wrap">
              <table className="table" data-testid="import-diff">
                <thead>
                  <tr>
                    <th>{t('change')}</th>
                    <th>{t('name')}</th>
                    <th>{t('email')}</th>
                    <th>{t('what')}</th>
                  </tr>
                </thead>
                <tbody>
                  {diff.changes.slice(0, SHOWN).map((c, i) => (
                    <tr key={`${c.id ?? c.row ?? i}-${c.action}`} data-action={c.action}>
                      <td>
                        <span className={`badge badge-${c.action === 'deactivate' ? 'bad' : c.action === 'create' ? 'ok' : 'busy'}`}>
                          {t(`ch_${c.action}`)}
                        </span>
                      </td>
                      <td>{c.name}</td>
                      <td className="small">{show(c.email)}</td>
                      <td className="small">
                        {Object.entries(c.fields).map(([k, v]) => (
                          <div key={k}>
                            <code>{k}</code>: {c.action === 'create' ? show(v.to) : `${show(v.from)} → ${show(v.to)}`}
                          </div>
                        ))}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <div className="actions">
              <button type="button" className="btn btn-primary" disabled={busy} onClick={() => send(false)}>
                {t('confirmImport')}
              </button>
            </div>
          </>
        )}
        {done && (
          <Notice kind="success">{t('importDone', { created: done.created, updated: done.updated, deactivated: done.deactivated })}</Notice>
        )}
        {done && (
          <div className="actions">
            <button type="button" className="btn" onClick={onClose}>
              {t('close')}
            </button>
          </div>
        )}
      </div>
    </Modal>
  );
}

function LinkForm({ person, onLinked }: { person: Person; onLinked: () => void }) {
  const t = useT();
  const [userId, setUserId] = useState('');
  const [error, setError] = useState<string>();
  const save = async () => {
    try {
      await api('PATCH', `/api/v1/people/${person.id}`, { identities: { dingtalk: { userId } } });
      onLinked();
    } catch (e) {
      setError(errorText(e));
    }
  };
  return (
    <form
      className="inline-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save();
      }}
    >
      <input
        aria-label={`${t('dingtalkUserId')} — ${person.name}`}
        placeholder={t('dingtalkUserId')}
        value={userId}
        onChange={(e) => setUserId(e.target.value)}
        size={12}
      />
      <button type="submit" className="btn btn-small" disabled={!userId.trim()}>
        {t('link')}
      </button>
      {error && <div className="field-error">{error}</div>}
    </form>
  );
}

export function PeoplePage({ role }: { role: 'owner' | 'admin' | 'viewer' }) {
  const t = useT();
  const [q, setQ] = useState('');
  const [department, setDepartment] = useState('');
  const [unmatched, setUnmatched] = useState(false);
  const [data, setData] = useState<{ people: Person[]; departments: string[] }>();
  const [error, setError] = useState<string>();
  const [wizard, setWizard] = useState(false);
  const [tick, setTick] = useState(0);
  const admin = role !== 'viewer';
  const params = () => {
    const p = new URLSearchParams();
    if (q) p.set('q', q);
    if (department) p.set('department', department);
    if (unmatched) p.set('unmatched', 'dingtalk');
    return p.toString();
  };
  useEffect(() => {
    const h = setTimeout(() => {
      api<{ people: Person[]; departments: string[] }>('GET', `/api/v1/people?${params()}`).then(
        (r) => {
          setData(r);
          setError(undefined);
        },
        (e) => setError(errorText(e)),
      );
    }, 200);
    return () => clearTimeout(h);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [q, department, unmatched, tick]);
  const reload = () => setTick((n) => n + 1);
  return (
    <section aria-labelledby="people-h">
      <div className="page-head">
        <h1 id="people-h">{t('people')}</h1>
        <div className="actions">
          <a className="btn" href={`/api/v1/people.csv?${params()}`} download>
            {t('exportCsv')}
          </a>
          {admin && (
            <button type="button" className="btn btn-primary" onClick={() => setWizard(true)}>
              {t('importCsv')}
            </button>
          )}
        </div>
      </div>
      <p className="muted">{t('peopleIntro')}</p>
      <div className="filters card">
        <label>
          <span>{t('searchPeople')}</span>
          <input name="q" type="search" value={q} onChange={(e) => setQ(e.target.value)} />
        </label>
        <label>
          <span>{t('department')}</span>
          <select name="department" value={department} onChange={(e) => setDepartment(e.target.value)}>
            <option value="">{t('allDepartments')}</option>
            {(data?.departments ?? []).map((d) => (
              <option key={d} value={d}>
                {d}
              </option>
            ))}
          </select>
        </label>
        <label className="check">
          <input type="checkbox" name="unmatched" checked={unmatched} onChange={(e) => setUnmatched(e.target.checked)} />{' '}
          {t('unmatchedOnly')}
        </label>
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      {data && data.people.length === 0 && (
        <Empty>
          <p>{t('noPeople')}</p>
        </Empty>
      )}
      {data && data.people.length > 0 && (
        <div className="table-wrap">
          <table className="table people-table">
            <thead>
              <tr>
                <th>{t('name')}</th>
                <th>{t('email')}</th>
                <th>{t('mobile')}</th>
                <th>{t('department')}</th>
                <th>{t('jobTitle')}</th>
                <th>{t('identities')}</th>
              </tr>
            </thead>
            <tbody>
              {data.people.map((p) => (
                <tr key={p.id} data-person={p.email ?? p.id} className={p.active ? '' : 'muted'}>
                  <td>
                    {p.name}
                    {!p.active && (
                      <>
                        {' '}
                        <span className="badge badge-muted">{t('inactive')}</span>
                      </>
                    )}
                  </td>
                  <td className="small">{show(p.email)}</td>
                  <td className="small mono nowrap">{show(p.mobile)}</td>
                  <td className="small">{show(p.department)}</td>
                  <td className="small">{show(p.title)}</td>
                  <td className="small">
                    {Object.entries(p.identities).flatMap(([service, kinds]) =>
                      Object.entries(kinds).map(([kind, value]) => (
                        <div key={`${service}.${kind}`}>
                          <span className="badge badge-ok">{service}</span> <code>{kind}</code> {value}
                        </div>
                      )),
                    )}
                    {!p.identities.dingtalk &&
                      (admin ? <LinkForm person={p} onLinked={reload} /> : <span className="muted">{t('notLinked')}</span>)}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {wizard && <ImportWizard onClose={() => setWizard(false)} onImported={reload} />}
    </section>
  );
}
