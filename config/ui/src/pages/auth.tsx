import { useState, type FormEvent } from 'react';
import { api, ApiError } from '../api.ts';
import { LANGS, useLang, useT, type Lang } from '../i18n.tsx';
import { errorText, Field, Notice } from '../ui.tsx';

function AuthFrame({ title, children }: { title: string; children: React.ReactNode }) {
  const { lang, setLang } = useLang();
  const t = useT();
  return (
    <div className="center-page">
      <div className="auth-card card">
        <div className="auth-head">
          <span className="brand">
            <span className="logo" aria-hidden="true">
              ⇄
            </span>{' '}
            dingbridge
          </span>
          <select aria-label={t('language')} value={lang} onChange={(e) => setLang(e.target.value as Lang)}>
            {LANGS.map((l) => (
              <option key={l.id} value={l.id}>
                {l.label}
              </option>
            ))}
          </select>
        </div>
        <h1>{title}</h1>
        {children}
      </div>
    </div>
  );
}

export function SetupPage({ proof, onDone }: { proof: 'admin_token' | 'setup_code'; onDone: () => Promise<void> }) {
  const t = useT();
  const [setupCode, setSetupCode] = useState('');
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    try {
      await api('POST', '/api/v1/auth/setup', { email, name: name || undefined, password, setupCode });
      await onDone();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <AuthFrame title={t('setupTitle')}>
      <p className="lead">{t('setupIntro')}</p>
      {error && <Notice kind="error">{error}</Notice>}
      <form onSubmit={submit} className="stack">
        <Field
          label={t(proof === 'admin_token' ? 'setupAdminToken' : 'setupCode')}
          hint={t(proof === 'admin_token' ? 'setupAdminTokenHint' : 'setupCodeHint')}
        >
          {(id, d) => (
            <input
              id={id}
              name="setupCode"
              type="password"
              required
              value={setupCode}
              onChange={(e) => setSetupCode(e.target.value)}
              autoComplete="off"
              aria-describedby={d}
            />
          )}
        </Field>
        <Field label={t('yourName')}>
          {(id) => <input id={id} name="name" value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" />}
        </Field>
        <Field label={t('email')}>
          {(id) => (
            <input
              id={id}
              name="email"
              type="email"
              required
              value={email}
              onChange={(e) => setEmail(e.target.value)}
              autoComplete="username"
            />
          )}
        </Field>
        <Field label={t('password')} hint={t('passwordHint')}>
          {(id, d) => (
            <input
              id={id}
              name="password"
              type="password"
              required
              minLength={10}
              value={password}
              onChange={(e) => setPassword(e.target.value)}
              autoComplete="new-password"
              aria-describedby={d}
            />
          )}
        </Field>
        <button className="btn btn-primary btn-block" disabled={busy}>
          {t('createOwner')}
        </button>
      </form>
    </AuthFrame>
  );
}

export function SignInPage({ onDone }: { onDone: () => Promise<void> }) {
  const t = useT();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [code, setCode] = useState('');
  const [needCode, setNeedCode] = useState(false);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await api('POST', '/api/v1/auth/login', { email, password, ...(needCode ? { code } : {}) });
      await onDone();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'totp_required') {
        setNeedCode(true);
        setError(undefined);
      } else setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <AuthFrame title={t('signIn')}>
      {error && <Notice kind="error">{error}</Notice>}
      <form onSubmit={submit} className="stack">
        {!needCode ? (
          <>
            <Field label={t('email')}>
              {(id) => (
                <input
                  id={id}
                  name="email"
                  type="email"
                  required
                  value={email}
                  onChange={(e) => setEmail(e.target.value)}
                  autoComplete="username"
                  autoFocus
                />
              )}
            </Field>
            <Field label={t('password')}>
              {(id) => (
                <input
                  id={id}
                  name="password"
                  type="password"
                  required
                  value={password}
                  onChange={(e) => setPassword(e.target.value)}
                  autoComplete="current-password"
                />
              )}
            </Field>
            <button className="btn btn-primary btn-block" disabled={busy}>
              {t('signIn')}
            </button>
          </>
        ) : (
          <>
            <p className="lead">{t('totpPrompt')}</p>
            <Field label={t('totpCode')}>
              {(id) => (
                <input
                  id={id}
                  name="code"
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  required
                  value={code}
                  onChange={(e) => setCode(e.target.value)}
                  autoFocus
                />
              )}
            </Field>
            <button className="btn btn-primary btn-block" disabled={busy}>
              {t('verify')}
            </button>
            <button
              type="button"
              className="btn btn-ghost btn-block"
              onClick={() => {
                setNeedCode(false);
                setCode('');
              }}
            >
              {t('back')}
            </button>
          </>
        )}
      </form>
    </AuthFrame>
  );
}
