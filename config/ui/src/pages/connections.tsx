import { useState, type FormEvent } from 'react';
import { api, type Catalog, type CatalogConnector, type Connection, type ProviderApp, type User } from '../api.ts';
import { useLang, useT } from '../i18n.tsx';
import { say, useWords } from '../words.tsx';
import { GuidedConnect } from '../guided-connect.tsx';
import { Empty, errorText, Field, Modal, Notice, StatusBadge, Time, useLoad } from '../ui.tsx';

/** Starts the connect flow with a CSRF-protected POST (a link alone cannot start it), then goes to the provider. */
async function connect(c: Connection, onError: (text: string) => void): Promise<void> {
  try {
    const { authorizeUrl } = await api<{ authorizeUrl: string }>('POST', `/api/v1/connections/${encodeURIComponent(c.id)}/authorize`, {
      returnTo: '/connections',
    });
    window.location.assign(authorizeUrl);
  } catch (err) {
    onError(errorText(err));
  }
}

export function ConnectionsPage({ role }: { role: User['role'] }) {
  const t = useT();
  const catalog = useLoad(() => api<Catalog>('GET', '/api/v1/catalog'));
  const conns = useLoad(() => api<{ connections: Connection[] }>('GET', '/api/v1/connections'));
  const appsLoad = useLoad(() => api<{ apps: ProviderApp[] }>('GET', '/api/v1/apps'));
  const [addingApp, setAddingApp] = useState<CatalogConnector>();
  const [notice, setNotice] = useState<{ kind: 'success' | 'error'; text: string }>();
  const [editing, setEditing] = useState<{ connector: CatalogConnector; connection?: Connection }>();
  const [guided, setGuided] = useState<CatalogConnector>();
  const w = useWords();
  const canEdit = role !== 'viewer';
  const connected = new URLSearchParams(window.location.search).get('connected');

  const act = async (fn: () => Promise<unknown>, ok?: string) => {
    try {
      await fn();
      if (ok) setNotice({ kind: 'success', text: ok });
      await conns.reload();
      await appsLoad.reload();
    } catch (e) {
      setNotice({ kind: 'error', text: errorText(e) });
    }
  };
  const list = conns.data?.connections ?? [];
  const needing = list.filter((c) => c.status === 'needs_reauth');
  const withAuth = catalog.data?.connectors.filter((c) => c.auth.kind !== 'none') ?? [];
  const noAuth = catalog.data?.connectors.filter((c) => c.auth.kind === 'none') ?? [];

  return (
    <section aria-labelledby="conn-h">
      <div className="page-head">
        <h1 id="conn-h">{t('connections')}</h1>
      </div>
      {connected && (
        <Notice kind="success">
          {t('connected')}: {connected}
        </Notice>
      )}
      {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}
      {conns.error && <Notice kind="error">{conns.error}</Notice>}
      {!canEdit && <Notice>{t('credentialsHidden')}</Notice>}
      {needing.map((c) => (
        <div key={c.id} className="notice notice-warn banner" role="alert" data-needs-reauth={c.id}>
          <span>
            <strong>{c.label}</strong> {t('needsReauth')}
          </span>
          {canEdit && c.authKind === 'oauth2' && (
            <button
              type="button"
              className="btn btn-primary btn-small"
              onClick={() => void connect(c, (text) => setNotice({ kind: 'error', text }))}
            >
              {t('reconnect')}
            </button>
          )}
        </div>
      ))}
      {withAuth.map((connector) => {
        const mine = list.filter((c) => c.connectorId === connector.id);
        const apps = (appsLoad.data?.apps ?? []).filter((a) => a.connectorId === connector.id);
        const canHaveApp = connector.auth.kind !== 'webhook_secret';
        return (
          <div key={connector.id} className="card connector" data-connector={connector.id}>
            <div className="page-head small-head">
              <h2>
                {w.connector(connector)} <span className="chip">{t(`auth_${connector.auth.kind}`)}</span>
              </h2>
              <div className="actions wrap">
                {canEdit && canHaveApp && (
                  <button type="button" className="btn btn-small" onClick={() => setAddingApp(connector)}>
                    {t('addApp')}
                  </button>
                )}
                {canEdit && connector.i18n?.guide?.length ? (
                  <button
                    type="button"
                    className="btn btn-small btn-primary"
                    data-guided={connector.id}
                    onClick={() => setGuided(connector)}
                  >
                    {t('guidedConnect')}
                  </button>
                ) : null}
                {canEdit && (
                  <button type="button" className="btn btn-small" onClick={() => setEditing({ connector })}>
                    {t('addConnection')}
                  </button>
                )}
              </div>
            </div>
            {apps.length > 0 && (
              <ul className="conn-list app-list" aria-label={t('providerApps')}>
                {apps.map((a) => (
                  <li key={a.id} className="conn" data-app={a.id}>
                    <div className="conn-head">
                      <strong>{a.label}</strong> <span className="muted small mono">{a.id}</span>{' '}
                      <span className="chip">{a.environment}</span>
                      {a.origin === 'config' && <span className="chip">{t('fromConfig')}</span>}
                    </div>
                    <dl className="facts small">
                      <div>
                        <dt>{t('clientId')}</dt>
                        <dd className="mono">{a.clientId}</dd>
                      </div>
                      <div>
                        <dt>{t('appSecrets')}</dt>
                        <dd>{Object.keys(a.secrets).join(', ') || '—'}</dd>
                      </div>
                      <div>
                        <dt>{t('appConnections')}</dt>
                        <dd>{a.connections.map((id) => list.find((c) => c.id === id)?.label ?? id).join(', ') || '—'}</dd>
                      </div>
                    </dl>
                    {canEdit && (
                      <div className="actions">
                        <button
                          type="button"
                          className="btn btn-small btn-danger"
                          onClick={() => {
                            if (window.confirm(t('confirmDelete')))
                              void act(() => api('DELETE', `/api/v1/apps/${encodeURIComponent(a.id)}`));
                          }}
                        >
                          {t('delete')}
                        </button>
                      </div>
                    )}
                  </li>
                ))}
              </ul>
            )}
            {mine.length === 0 && <p className="muted">{t('noConnections')}</p>}
            <ul className="conn-list">
              {mine.map((c) => (
                <li key={c.id} className="conn" data-connection={c.id}>
                  <div className="conn-head">
                    <strong>{c.label}</strong> <span className="muted small mono">{c.id}</span> <StatusBadge status={c.status} />
                    {c.origin === 'config' && <span className="chip">{t('fromConfig')}</span>}
                    {c.appId && (
                      <span className="chip" data-uses-app={c.appId}>
                        {t('viaApp')} {apps.find((a) => a.id === c.appId)?.label ?? c.appId}
                      </span>
                    )}
                  </div>
                  <dl className="facts small">
                    <div>
                      <dt>{t('lastRefresh')}</dt>
                      <dd>
                        <Time at={c.lastRefreshAt} />
                      </dd>
                    </div>
                    {c.expiresAt && (
                      <div>
                        <dt>{t('expires')}</dt>
                        <dd>
                          <Time at={c.expiresAt} />
                        </dd>
                      </div>
                    )}
                    {c.lastError && (
                      <div>
                        <dt>{t('lastError')}</dt>
                        <dd className="error-text">{c.lastError}</dd>
                      </div>
                    )}
                  </dl>
                  {c.actionLink && (
                    <p className="small">
                      <a
                        className="btn btn-small btn-primary"
                        data-action-link
                        href={c.actionLink.url}
                        target="_blank"
                        rel="noopener noreferrer"
                      >
                        {c.actionLink.label}
                      </a>
                    </p>
                  )}
                  {canEdit && (
                    <div className="actions wrap">
                      {c.authKind === 'oauth2' && (
                        <button
                          type="button"
                          className="btn btn-small btn-primary"
                          onClick={() => void connect(c, (text) => setNotice({ kind: 'error', text }))}
                        >
                          {c.status === 'needs_reauth' || c.secrets?.accessToken ? t('reconnect') : t('connectAccount')}
                        </button>
                      )}
                      {connector.auth.testable && (
                        <button
                          type="button"
                          className="btn btn-small"
                          onClick={() => act(() => api('POST', `/api/v1/connections/${encodeURIComponent(c.id)}/test`), t('testOk'))}
                        >
                          {t('testConnection')}
                        </button>
                      )}
                      <button type="button" className="btn btn-small" onClick={() => setEditing({ connector, connection: c })}>
                        {t('edit')}
                      </button>
                      {c.status === 'disabled' ? (
                        <button
                          type="button"
                          className="btn btn-small"
                          onClick={() => act(() => api('POST', `/api/v1/connections/${encodeURIComponent(c.id)}/enable`))}
                        >
                          {t('enable')}
                        </button>
                      ) : (
                        <button
                          type="button"
                          className="btn btn-small"
                          onClick={() => act(() => api('POST', `/api/v1/connections/${encodeURIComponent(c.id)}/disable`))}
                        >
                          {t('disable')}
                        </button>
                      )}
                      <button
                        type="button"
                        className="btn btn-small btn-danger"
                        onClick={() => {
                          if (window.confirm(t('confirmDelete')))
                            void act(() => api('DELETE', `/api/v1/connections/${encodeURIComponent(c.id)}`));
                        }}
                      >
                        {t('delete')}
                      </button>
                    </div>
                  )}
                </li>
              ))}
            </ul>
          </div>
        );
      })}
      {catalog.data && withAuth.length === 0 && (
        <Empty>
          <p>{t('noConnections')}</p>
        </Empty>
      )}
      {noAuth.length > 0 && (
        <p className="muted small">
          {t('noAuthConnectors')} {noAuth.map((c) => w.connector(c)).join(', ')}
        </p>
      )}
      {addingApp && (
        <AppForm
          connector={addingApp}
          onClose={() => setAddingApp(undefined)}
          onSaved={async (a) => {
            setAddingApp(undefined);
            setNotice({ kind: 'success', text: `${t('saved')} ${a.label}` });
            await appsLoad.reload();
          }}
        />
      )}
      {guided && (
        <GuidedConnect
          connector={guided}
          publicUrl={catalog.data?.publicUrl ?? window.location.origin}
          onClose={() => setGuided(undefined)}
          onDone={async () => {
            await conns.reload();
          }}
        />
      )}
      {editing && (
        <ConnectionForm
          {...editing}
          apps={(appsLoad.data?.apps ?? []).filter((a) => a.connectorId === editing.connector.id)}
          onClose={() => setEditing(undefined)}
          onSaved={async (c) => {
            setEditing(undefined);
            setNotice({ kind: 'success', text: `${t('saved')} ${c.label}` });
            await conns.reload();
          }}
        />
      )}
    </section>
  );
}

/** The credentials form, generated from the connector's declared auth fields. Secrets are write-only. */
function ConnectionForm({
  connector,
  connection,
  apps,
  onClose,
  onSaved,
}: {
  connector: CatalogConnector;
  connection?: Connection;
  apps: ProviderApp[];
  onClose: () => void;
  onSaved: (c: Connection) => void;
}) {
  const t = useT();
  const { lang } = useLang();
  const w2 = useWords();
  const [app, setApp] = useState(connection?.appId ?? '');
  const [label, setLabel] = useState(connection?.label ?? '');
  const [id, setId] = useState('');
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(
      connector.auth.fields.filter((f) => !f.secret).map((f) => [f.key, String(connection?.settings[f.key] ?? f.default ?? '')]),
    ),
  );
  const [error, setError] = useState<string>();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const settings: Record<string, unknown> = {};
    const secrets: Record<string, string> = {};
    for (const f of connector.auth.fields) {
      const v = values[f.key] ?? '';
      if (f.secret) {
        if (v) secrets[f.key] = v;
      } else if (v !== '' || connection) settings[f.key] = v;
    }
    try {
      const saved = connection
        ? await api<Connection>('PATCH', `/api/v1/connections/${encodeURIComponent(connection.id)}`, {
            label: label || undefined,
            settings,
            secrets,
            ...(apps.length ? { app: app || null } : {}),
          })
        : await api<Connection>('POST', '/api/v1/connections', {
            connector: connector.id,
            ...(id ? { id } : {}),
            label: label || undefined,
            settings,
            secrets,
            ...(app ? { app } : {}),
          });
      onSaved(saved);
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <Modal title={`${w2.connector(connector)}: ${connection ? connection.label : t('addConnection')}`} onClose={onClose}>
      <form onSubmit={submit} className="stack" autoComplete="off">
        {error && <Notice kind="error">{error}</Notice>}
        <Field label={t('label')}>
          {(fid) => <input id={fid} name="label" value={label} onChange={(e) => setLabel(e.target.value)} />}
        </Field>
        {!connection && (
          <Field label="ID" hint={`${t('optional')} · ${t('flowIdHint')}`}>
            {(fid, d) => <input id={fid} name="id" value={id} onChange={(e) => setId(e.target.value)} aria-describedby={d} />}
          </Field>
        )}
        {apps.length > 0 && (
          <Field label={t('useApp')} hint={t('useAppHint')}>
            {(fid, d) => (
              <select id={fid} name="app" value={app} onChange={(e) => setApp(e.target.value)} aria-describedby={d}>
                <option value="">{t('ownCredentials')}</option>
                {apps.map((a) => (
                  <option key={a.id} value={a.id}>
                    {a.label} ({a.environment})
                  </option>
                ))}
              </select>
            )}
          </Field>
        )}
        {connector.auth.fields.map((f) => {
          const set = connection?.secrets?.[f.key];
          return (
            <Field
              key={f.key}
              label={
                <>
                  {say(lang, w2.connField(connector.id, f.key)?.label, f.label)}{' '}
                  {f.required ? <span className="muted small">({t('required')})</span> : null}
                </>
              }
              hint={
                f.secret && set
                  ? `${t('secretSet')}${set.last4 ? ` (…${set.last4})` : ''}`
                  : say(lang, w2.connField(connector.id, f.key)?.help, f.description ?? '') || undefined
              }
            >
              {(fid, d) => (
                <input
                  id={fid}
                  name={f.key}
                  type={f.secret ? 'password' : 'text'}
                  autoComplete={f.secret ? 'new-password' : 'off'}
                  required={f.required && (!f.secret || !set) && !connection && !app}
                  value={values[f.key] ?? ''}
                  onChange={(e) => setValues({ ...values, [f.key]: e.target.value })}
                  aria-describedby={d}
                />
              )}
            </Field>
          );
        })}
        <div className="actions">
          <button className="btn btn-primary">{t('save')}</button>
          <button type="button" className="btn btn-ghost" onClick={onClose}>
            {t('cancel')}
          </button>
        </div>
      </form>
    </Modal>
  );
}

/** Registers a provider app: its client id, and its secrets (write-only: never shown again). */
function AppForm({ connector, onClose, onSaved }: { connector: CatalogConnector; onClose: () => void; onSaved: (a: ProviderApp) => void }) {
  const t = useT();
  const [v, setV] = useState({ id: '', label: '', environment: 'production', clientId: '', clientSecret: '', webhookVerifierToken: '' });
  const [error, setError] = useState<string>();
  const set = (k: keyof typeof v) => (e: { target: { value: string } }) => setV({ ...v, [k]: e.target.value });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const secrets = Object.fromEntries(
      Object.entries({ clientSecret: v.clientSecret, webhookVerifierToken: v.webhookVerifierToken }).filter(([, x]) => x),
    );
    try {
      onSaved(
        await api<ProviderApp>('POST', '/api/v1/apps', {
          connector: connector.id,
          ...(v.id ? { id: v.id } : {}),
          label: v.label || undefined,
          environment: v.environment,
          clientId: v.clientId,
          secrets,
        }),
      );
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <Modal title={`${connector.name}: ${t('addApp')}`} onClose={onClose}>
      <form onSubmit={submit} className="stack" autoComplete="off">
        {error && <Notice kind="error">{error}</Notice>}
        <Field label={t('label')}>{(fid) => <input id={fid} name="label" value={v.label} onChange={set('label')} />}</Field>
        <Field label="ID" hint={`${t('optional')} · ${t('flowIdHint')}`}>
          {(fid, d) => <input id={fid} name="id" value={v.id} onChange={set('id')} aria-describedby={d} />}
        </Field>
        <Field label={t('environment')}>
          {(fid) => (
            <select id={fid} name="environment" value={v.environment} onChange={set('environment')}>
              <option value="production">production</option>
              <option value="sandbox">sandbox</option>
            </select>
          )}
        </Field>
        <Field label={t('clientId')}>
          {(fid) => <input id={fid} name="clientId" required value={v.clientId} onChange={set('clientId')} />}
        </Field>
        <Field label={t('clientSecret')}>
          {(fid) => (
            <input
              id={fid}
              name="clientSecret"
              type="password"
              autoComplete="new-password"
              value={v.clientSecret}
              onChange={set('clientSecret')}
            />
          )}
        </Field>
        <Field label={t('webhookVerifierToken')}>
          {(fid) => (
            <input
              id={fid}
              name="webhookVerifierToken"
              type="password"
              autoComplete="new-password"
              value={v.webhookVerifierToken}
              onChange={set('webhookVerifierToken')}
            />
          )}
        </Field>
        <div className="actions">
          <button className="btn btn-primary">{t('save')}</button>
          <button type="button" className="btn btn-ghost" onClick={onClose}>
            {t('cancel')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
