import { useState, type FormEvent } from 'react';
import { api, type Catalog, type User } from '../api.ts';
import { useT } from '../i18n.tsx';
import { Empty, errorText, Field, Notice, Time, useLoad } from '../ui.tsx';

interface ApiHook {
  id: string;
  name: string | null;
  url: string;
  verify: { type: string; header?: string };
  created_at: string;
}
interface Created extends ApiHook {
  secret: string | null;
  url_with_token?: string;
}

/** Catch hooks: the config file's (read-only) and those made through /api/v1/catch-hooks. */
export function HooksPage({ role }: { role: User['role'] }) {
  const t = useT();
  const catalog = useLoad(() => api<Catalog>('GET', '/api/v1/catalog'));
  const hooks = useLoad(() => api<{ items: ApiHook[] }>('GET', '/api/v1/catch-hooks'));
  const [form, setForm] = useState({ id: '', name: '', type: 'hmac' });
  const [created, setCreated] = useState<Created>();
  const [error, setError] = useState<string>();
  const canEdit = role !== 'viewer';
  const base = window.location.origin;
  const configHooks = catalog.data?.catchHooks.filter((h) => h.origin === 'config') ?? [];

  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const verify = form.type === 'hmac' ? { type: 'hmac', header: 'X-Signature', encoding: 'hex' } : { type: form.type };
      setCreated(
        await api<Created>('POST', '/api/v1/catch-hooks', {
          ...(form.id ? { id: form.id } : {}),
          ...(form.name ? { name: form.name } : {}),
          verify,
        }),
      );
      setForm({ id: '', name: '', type: 'hmac' });
      setError(undefined);
      await hooks.reload();
      await catalog.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const remove = async (id: string) => {
    if (!window.confirm(t('confirmDelete'))) return;
    try {
      await api('DELETE', `/api/v1/catch-hooks/${encodeURIComponent(id)}`);
      await hooks.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const empty = hooks.data && hooks.data.items.length === 0 && configHooks.length === 0;

  return (
    <section aria-labelledby="hooks-h">
      <div className="page-head">
        <h1 id="hooks-h">{t('hooks')}</h1>
      </div>
      <p className="muted">{t('hooksIntro')}</p>
      {error && <Notice kind="error">{error}</Notice>}
      {created && (
        <Notice kind="success">
          <div>
            <strong>{created.id}</strong> · {t('keyShownOnce')}
          </div>
          <div className="small">
            URL: <code className="break">{created.url_with_token ?? created.url}</code>
          </div>
          {created.secret && (
            <div className="small">
              {t('secret')}: <code className="secret-once">{created.secret}</code>
            </div>
          )}
        </Notice>
      )}
      {empty && (
        <Empty>
          <p>{t('noHooks')}</p>
        </Empty>
      )}
      {!empty && (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th>ID</th>
                <th>URL</th>
                <th>{t('verification')}</th>
                <th>{t('created')}</th>
                <th>
                  <span className="sr-only">{t('delete')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {configHooks.map((h) => (
                <tr key={`c-${h.id}`} data-hook={h.id}>
                  <td>
                    {h.name ?? h.id}
                    <div className="muted small mono">{h.id}</div>
                  </td>
                  <td className="small mono break">
                    {base}/hooks/catch/{h.id}
                  </td>
                  <td className="small">—</td>
                  <td>
                    <span className="chip">
                      {t('fromConfig')} · {t('readOnly')}
                    </span>
                  </td>
                  <td />
                </tr>
              ))}
              {hooks.data?.items.map((h) => (
                <tr key={h.id} data-hook={h.id}>
                  <td>
                    {h.name ?? h.id}
                    <div className="muted small mono">{h.id}</div>
                  </td>
                  <td className="small mono break">{h.url}</td>
                  <td className="small">
                    {h.verify.type}
                    {h.verify.header ? ` (${h.verify.header})` : ''}
                  </td>
                  <td className="small">
                    <Time at={h.created_at} />
                  </td>
                  <td>
                    {canEdit && (
                      <button type="button" className="btn btn-small btn-danger" onClick={() => remove(h.id)}>
                        {t('delete')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {canEdit && (
        <form onSubmit={create} className="card stack narrow">
          <h2>{t('newHook')}</h2>
          <div className="grid-2">
            <Field label="ID" hint={`${t('optional')} · ${t('flowIdHint')}`}>
              {(id, d) => (
                <input
                  id={id}
                  name="hook-id"
                  value={form.id}
                  onChange={(e) => setForm({ ...form, id: e.target.value })}
                  aria-describedby={d}
                />
              )}
            </Field>
            <Field label={t('name')}>
              {(id) => <input id={id} name="hook-name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />}
            </Field>
          </div>
          <Field label={t('verification')} hint={t('verifyAdvice')}>
            {(id, d) => (
              <select
                id={id}
                name="verify"
                value={form.type}
                onChange={(e) => setForm({ ...form, type: e.target.value })}
                aria-describedby={d}
              >
                <option value="hmac">HMAC-SHA256 (X-Signature)</option>
                <option value="standard_webhooks">Standard Webhooks</option>
                <option value="hmac_timestamped">{t('hmacTimestamped')}</option>
                <option value="token">{t('tokenInUrl')}</option>
                <option value="none">{t('noVerification')}</option>
              </select>
            )}
          </Field>
          <div>
            <button className="btn btn-primary">{t('create')}</button>
          </div>
        </form>
      )}
    </section>
  );
}
