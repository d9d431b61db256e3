import { useState, type FormEvent } from 'react';
import { api, type ApiKey } from '../api.ts';
import { useT } from '../i18n.tsx';
import { Empty, errorText, Field, Notice, Time, useLoad } from '../ui.tsx';

// The hub's scopes (config/scopes.ts): a key reaches only routes that declare one of them.
const SCOPES = [
  'hooks:read',
  'hooks:write',
  'events:read',
  'actions:run',
  'catch_hooks:read',
  'catch_hooks:write',
  'flows:read',
  'flows:write',
  'runs:read',
  'runs:write',
  'audit:read',
  'connections:read',
  'connections:use',
  'triggers:read',
  'triggers:write',
  'people:read',
  'people:write',
  'kpis:read',
  'kpis:write',
];

export function ApiKeysPage() {
  const t = useT();
  const keys = useLoad(() => api<{ items: ApiKey[] }>('GET', '/api/v1/api-keys'));
  const [label, setLabel] = useState('');
  const [scopes, setScopes] = useState<string[]>(['hooks:read', 'hooks:write', 'events:read']);
  const [created, setCreated] = useState<string>();
  const [error, setError] = useState<string>();
  const create = async (e: FormEvent) => {
    e.preventDefault();
    try {
      const r = await api<ApiKey & { key: string }>('POST', '/api/v1/api-keys', { label, scopes });
      setCreated(r.key);
      setLabel('');
      await keys.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const revoke = async (k: ApiKey) => {
    if (!window.confirm(t('confirmDelete'))) return;
    try {
      await api('DELETE', `/api/v1/api-keys/${k.id}`);
      await keys.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <section aria-labelledby="keys-h">
      <div className="page-head">
        <h1 id="keys-h">{t('apiKeys')}</h1>
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      {created && (
        <Notice kind="success">
          <div>{t('keyShownOnce')}</div>
          <code className="secret-once">{created}</code>
        </Notice>
      )}
      {keys.data && keys.data.items.length === 0 && (
        <Empty>
          <p>{t('noKeys')}</p>
        </Empty>
      )}
      {keys.data && keys.data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th>{t('label')}</th>
                <th>{t('scopes')}</th>
                <th>{t('lastRun')}</th>
                <th>{t('status')}</th>
                <th>
                  <span className="sr-only">{t('revoke')}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.data.items.map((k) => (
                <tr key={k.id}>
                  <td>
                    {k.label}
                    <div className="muted small mono">{k.prefix}…</div>
                  </td>
                  <td className="small">{k.scopes.join(', ')}</td>
                  <td className="small">
                    <Time at={k.last_used_at} />
                  </td>
                  <td>
                    {k.revoked_at ? (
                      <span className="badge badge-bad">{t('revoked')}</span>
                    ) : (
                      <span className="badge badge-ok">{t('active')}</span>
                    )}
                  </td>
                  <td>
                    {!k.revoked_at && (
                      <button type="button" className="btn btn-small btn-danger" onClick={() => revoke(k)}>
                        {t('revoke')}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <form onSubmit={create} className="card stack narrow">
        <h2>{t('createKey')}</h2>
        <Field label={t('label')}>
          {(id) => <input id={id} name="label" required value={label} onChange={(e) => setLabel(e.target.value)} />}
        </Field>
        <fieldset className="checks">
          <legend>{t('scopes')}</legend>
          {SCOPES.map((s) => (
            <label key={s} className="check">
              <input
                type="checkbox"
                checked={scopes.includes(s)}
                onChange={(e) => setScopes(e.target.checked ? [...scopes, s] : scopes.filter((x) => x !== s))}
              />{' '}
              <code>{s}</code>
            </label>
          ))}
        </fieldset>
        <div>
          <button className="btn btn-primary" disabled={!scopes.length}>
            {t('createKey')}
          </button>
        </div>
      </form>
    </section>
  );
}
