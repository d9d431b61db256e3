import { useState, type FormEvent } from 'react';
import { api, type User } from '../api.ts';
import { useT } from '../i18n.tsx';
import { errorText, Field, Notice, Time, useLoad } from '../ui.tsx';

export function UsersPage({ me }: { me: User }) {
  const t = useT();
  const users = useLoad(() => api<{ items: User[] }>('GET', '/api/v1/users'));
  const [form, setForm] = useState({ email: '', name: '', role: 'admin', password: '' });
  const [notice, setNotice] = useState<{ kind: 'success' | 'error'; text: string }>();
  const act = async (fn: () => Promise<unknown>) => {
    try {
      await fn();
      setNotice(undefined);
      await users.reload();
    } catch (e) {
      setNotice({ kind: 'error', text: errorText(e) });
    }
  };
  const add = async (e: FormEvent) => {
    e.preventDefault();
    await act(async () => {
      await api('POST', '/api/v1/users', { ...form, name: form.name || undefined });
      setForm({ email: '', name: '', role: 'admin', password: '' });
    });
  };
  return (
    <section aria-labelledby="users-h">
      <div className="page-head">
        <h1 id="users-h">{t('users')}</h1>
      </div>
      {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}
      <div className="table-wrap">
        <table className="table">
          <thead>
            <tr>
              <th>{t('email')}</th>
              <th>{t('role')}</th>
              <th>{t('twoFactor')}</th>
              <th>{t('lastSignIn')}</th>
              <th>{t('status')}</th>
              <th>
                <span className="sr-only">{t('edit')}</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {users.data?.items.map((u) => (
              <tr key={u.id} data-user={u.email}>
                <td>
                  {u.email}
                  {u.name ? <div className="muted small">{u.name}</div> : null}
                </td>
                <td>
                  <select
                    aria-label={`${t('role')} ${u.email}`}
                    value={u.role}
                    disabled={u.id === me.id}
                    onChange={(e) => act(() => api('PATCH', `/api/v1/users/${u.id}`, { role: e.target.value }))}
                  >
                    {(['owner', 'admin', 'viewer'] as const).map((r) => (
                      <option key={r} value={r}>
                        {t(`role_${r}`)}
                      </option>
                    ))}
                  </select>
                </td>
                <td>
                  {u.twoFactor ? <span className="badge badge-ok">{t('on')}</span> : <span className="badge badge-muted">{t('off')}</span>}
                </td>
                <td className="small">
                  <Time at={u.lastSignInAt} />
                </td>
                <td>
                  {u.disabled ? (
                    <span className="badge badge-bad">{t('st_disabled')}</span>
                  ) : (
                    <span className="badge badge-ok">{t('active')}</span>
                  )}
                </td>
                <td>
                  <div className="actions wrap">
                    {u.id !== me.id && (
                      <button
                        type="button"
                        className="btn btn-small"
                        onClick={() => act(() => api('PATCH', `/api/v1/users/${u.id}`, { disabled: !u.disabled }))}
                      >
                        {u.disabled ? t('enable') : t('disable')}
                      </button>
                    )}
                    {u.id !== me.id && (
                      <button
                        type="button"
                        className="btn btn-small btn-danger"
                        onClick={() => {
                          if (window.confirm(t('confirmDelete'))) void act(() => api('DELETE', `/api/v1/users/${u.id}`));
                        }}
                      >
                        {t('delete')}
                      </button>
                    )}
                  </div>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <form onSubmit={add} className="card stack narrow">
        <h2>{t('addUser')}</h2>
        <div className="grid-2">
          <Field label={t('email')}>
            {(id) => (
              <input
                id={id}
                name="email"
                type="email"
                required
                value={form.email}
                onChange={(e) => setForm({ ...form, email: e.target.value })}
              />
            )}
          </Field>
          <Field label={t('name')}>
            {(id) => <input id={id} name="name" value={form.name} onChange={(e) => setForm({ ...form, name: e.target.value })} />}
          </Field>
          <Field label={t('role')}>
            {(id) => (
              <select id={id} name="role" value={form.role} onChange={(e) => setForm({ ...form, role: e.target.value })}>
                {(['owner', 'admin', 'viewer'] as const).map((r) => (
                  <option key={r} value={r}>
                    {t(`role_${r}`)}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={t('initialPassword')} hint={t('passwordHint')}>
            {(id, d) => (
              <input
                id={id}
                name="password"
                type="password"
                autoComplete="new-password"
                required
                minLength={10}
                value={form.password}
                onChange={(e) => setForm({ ...form, password: e.target.value })}
                aria-describedby={d}
              />
            )}
          </Field>
        </div>
        <div>
          <button className="btn btn-primary">{t('addUser')}</button>
        </div>
      </form>
    </section>
  );
}
