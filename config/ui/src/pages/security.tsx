import { useState, type FormEvent } from 'react';
import { api, type AuthStatus, type User } from '../api.ts';
import { useT } from '../i18n.tsx';
import { errorText, Field, Notice, Switch, useLoad } from '../ui.tsx';

interface SecurityPolicy {
  require2fa: boolean;
  owners?: number;
  recommendation?: string | null;
  users?: { email: string; name: string | null; role: string; twoFactor: boolean }[];
}

export function SecurityPage({ user, status, refresh }: { user: User; status: AuthStatus; refresh: () => Promise<void> }) {
  const t = useT();
  const [setup, setSetup] = useState<{ secret: string; qrDataUrl: string }>();
  const [code, setCode] = useState('');
  const [codes, setCodes] = useState<string[]>();
  const [pw, setPw] = useState({ current: '', password: '' });
  const [disablePw, setDisablePw] = useState('');
  const [notice, setNotice] = useState<{ kind: 'success' | 'error'; text: string }>();
  const security = useLoad(() =>
    api<SecurityPolicy>('GET', '/api/v1/security').catch((): SecurityPolicy => ({ require2fa: status.twoFactorRequired })),
  );
  const run = async (fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      setNotice({ kind: 'error', text: errorText(e) });
    }
  };

  const start = () =>
    run(async () => {
      setSetup(await api('POST', '/api/v1/auth/2fa/setup'));
      setNotice(undefined);
    });
  const enable = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      const r = await api<{ recoveryCodes: string[] }>('POST', '/api/v1/auth/2fa/enable', { code });
      setCodes(r.recoveryCodes);
      setSetup(undefined);
      setCode('');
    });
  };
  const finish = () =>
    run(async () => {
      setCodes(undefined);
      await refresh();
    });
  const disable = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api('POST', '/api/v1/auth/2fa/disable', { password: disablePw });
      setDisablePw('');
      await refresh();
    });
  };
  const changePw = (e: FormEvent) => {
    e.preventDefault();
    void run(async () => {
      await api('POST', '/api/v1/auth/password', pw);
      setPw({ current: '', password: '' });
      setNotice({ kind: 'success', text: t('saved') });
    });
  };
  const setRequire = (v: boolean) =>
    run(async () => {
      await api('PUT', '/api/v1/security', { require2fa: v });
      await security.reload();
    });

  return (
    <section aria-labelledby="sec-h">
      <div className="page-head">
        <h1 id="sec-h">{t('security')}</h1>
      </div>
      {status.needsTwoFactorSetup && <Notice kind="warn">{t('twoFactorRequiredBanner')}</Notice>}
      {notice && <Notice kind={notice.kind}>{notice.text}</Notice>}
      <div className="card stack narrow" id="twofa">
        <h2>{t('twoFactorTitle')}</h2>
        {codes ? (
          <div className="stack">
            <h3>{t('recoveryCodes')}</h3>
            <p className="muted">{t('recoveryHint')}</p>
            <ul className="codes" aria-label={t('recoveryCodes')}>
              {codes.map((c) => (
                <li key={c}>
                  <code>{c}</code>
                </li>
              ))}
            </ul>
            <div>
              <button type="button" className="btn btn-primary" onClick={finish}>
                {t('done')}
              </button>
            </div>
          </div>
        ) : user.twoFactor ? (
          <>
            <p>
              <span className="badge badge-ok">{t('on')}</span> {t('twoFactorOn')}
            </p>
            <form onSubmit={disable} className="inline wrap align-end">
              <Field label={t('password')}>
                {(id) => (
                  <input
                    id={id}
                    name="disable-password"
                    type="password"
                    autoComplete="current-password"
                    value={disablePw}
                    onChange={(e) => setDisablePw(e.target.value)}
                    required
                  />
                )}
              </Field>
              <button className="btn btn-danger">{t('turnOff2fa')}</button>
            </form>
          </>
        ) : setup ? (
          <form onSubmit={enable} className="stack">
            <p>{t('scanQr')}</p>
            <img src={setup.qrDataUrl} alt="QR code" className="qr" width={200} height={200} />
            <p className="small">
              {t('orEnterKey')}{' '}
              <code className="totp-secret" data-secret={setup.secret}>
                {setup.secret}
              </code>
            </p>
            <Field label={t('totpCode')}>
              {(id) => (
                <input
                  id={id}
                  name="code"
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  pattern="\d{6}"
                  required
                  value={code}
                  onChange={(e) => setCode(e.target.value)}
                  autoFocus
                />
              )}
            </Field>
            <div>
              <button className="btn btn-primary">{t('verify')}</button>
            </div>
          </form>
        ) : (
          <>
            <p>
              <span className="badge badge-muted">{t('off')}</span> {t('twoFactorOff')}
            </p>
            <div>
              <button type="button" className="btn btn-primary" onClick={start}>
                {t('setUp2fa')}
              </button>
            </div>
          </>
        )}
      </div>
      {user.role === 'owner' && security.data && (
        <div className="card inline narrow">
          <Switch checked={security.data.require2fa} label={t('require2fa')} onChange={setRequire} />
          <span>{t('require2fa')}</span>
        </div>
      )}
      {security.data?.users && (
        <div className="card stack narrow" data-testid="people-2fa">
          <h2>{t('whoHas2fa')}</h2>
          {(security.data.owners ?? 0) < 2 && <Notice kind="warn">{t('twoOwnersAdvice')}</Notice>}
          <table>
            <thead>
              <tr>
                <th>{t('email')}</th>
                <th>{t('role')}</th>
                <th>2FA</th>
              </tr>
            </thead>
            <tbody>
              {security.data.users.map((u) => (
                <tr key={u.email}>
                  <td>
                    {u.name ? `${u.name} · ` : ''}
                    {u.email}
                  </td>
                  <td>{u.role}</td>
                  <td>
                    {u.twoFactor ? (
                      <span className="badge badge-ok">{t('on')}</span>
                    ) : (
                      <span className="badge badge-muted">{t('off')}</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {user.role === 'owner' && <p className="small muted">{t('require2faSignsOut')}</p>}
        </div>
      )}
      <form onSubmit={changePw} className="card stack narrow">
        <h2>{t('changePassword')}</h2>
        <Field label={t('currentPassword')}>
          {(id) => (
            <input
              id={id}
              name="current"
              type="password"
              autoComplete="current-password"
              required
              value={pw.current}
              onChange={(e) => setPw({ ...pw, current: e.target.value })}
            />
          )}
        </Field>
        <Field label={t('newPassword')} hint={t('passwordHint')}>
          {(id, d) => (
            <input
              id={id}
              name="new-password"
              type="password"
              autoComplete="new-password"
              minLength={10}
              required
              value={pw.password}
              onChange={(e) => setPw({ ...pw, password: e.target.value })}
              aria-describedby={d}
            />
          )}
        </Field>
        <div>
          <button className="btn">{t('changePassword')}</button>
        </div>
      </form>
    </section>
  );
}
