import { lazy, StrictMode, Suspense, useCallback, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { api, setCsrf, type AuthStatus } from './api.ts';
import { LangContext, LANGS, initialLang, setCurrentLang, useLang, useT, type Lang } from './i18n.tsx';
import { setCompanyTimeZone } from './words.tsx';
import { RecipesPage } from './pages/recipes.tsx';
import { errorText, Link, navigate, Notice } from './ui.tsx';
import { SetupPage, SignInPage } from './pages/auth.tsx';
import { FlowsPage } from './pages/flows.tsx';
import { FlowEditorPage } from './pages/flow-editor.tsx';
import { RunsPage } from './pages/runs.tsx';
import { ConnectionsPage } from './pages/connections.tsx';
import { AuditPage } from './pages/audit.tsx';
import { UsersPage } from './pages/users.tsx';
import { ApiKeysPage } from './pages/api-keys.tsx';
import { SecurityPage } from './pages/security.tsx';
import { HooksPage } from './pages/hooks.tsx';
import { TriggersPage } from './pages/triggers.tsx';
import { PeoplePage } from './pages/people.tsx';
import './styles.css';

// The KPI dashboard carries ECharts: loaded when first opened.
const KpisPage = lazy(() => import('./pages/kpis.tsx').then((m) => ({ default: m.KpisPage })));

function usePath() {
  const [path, setPath] = useState(window.location.pathname + window.location.search);
  useEffect(() => {
    const on = () => setPath(window.location.pathname + window.location.search);
    window.addEventListener('popstate', on);
    return () => window.removeEventListener('popstate', on);
  }, []);
  return path;
}

function LanguageSwitcher() {
  const t = useT();
  const ctx = useLang();
  return (
    <label className="lang">
      <span className="sr-only">{t('language')}</span>
      <select aria-label={t('language')} value={ctx.lang} onChange={(e) => ctx.setLang(e.target.value as Lang)}>
        {LANGS.map((l) => (
          <option key={l.id} value={l.id}>
            {l.label}
          </option>
        ))}
      </select>
    </label>
  );
}

function App() {
  const [lang, setLangState] = useState<Lang>(initialLang());
  const setLang = (l: Lang) => {
    localStorage.setItem('dingbridge.lang', l);
    setLangState(l);
  };
  setCurrentLang(lang);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const [status, setStatus] = useState<AuthStatus | undefined>();
  const [loadError, setLoadError] = useState<string | undefined>();
  const refresh = useCallback(async () => {
    try {
      const s = await api<AuthStatus>('GET', '/api/v1/auth/status');
      setCsrf(s.csrfToken);
      setCompanyTimeZone(s.timeZone);
      setStatus(s);
    } catch (e) {
      setLoadError(errorText(e));
    }
  }, []);
  useEffect(() => {
    void refresh();
  }, [refresh]);
  const path = usePath();

  let body;
  if (!status)
    body = <div className="center-page">{loadError ? <Notice kind="error">{loadError}</Notice> : <p className="muted">…</p>}</div>;
  else if (status.setupRequired) body = <SetupPage proof={status.setupProof ?? 'setup_code'} onDone={refresh} />;
  else if (!status.user) body = <SignInPage onDone={refresh} />;
  else body = <Shell status={status} path={path} refresh={refresh} />;
  return <LangContext.Provider value={{ lang, setLang }}>{body}</LangContext.Provider>;
}

const NAV = [
  { to: '/recipes', key: 'recipes', min: 'admin' },
  { to: '/flows', key: 'flows', min: 'viewer' },
  { to: '/runs', key: 'runs', min: 'viewer' },
  { to: '/connections', key: 'connections', min: 'viewer' },
  { to: '/catch-hooks', key: 'hooks', min: 'viewer' },
  { to: '/triggers', key: 'triggers', min: 'viewer' },
  { to: '/people', key: 'people', min: 'viewer' },
  { to: '/kpis', key: 'kpis', min: 'viewer' },
  { to: '/audit', key: 'audit', min: 'admin' },
  { to: '/users', key: 'users', min: 'owner' },
  { to: '/api-keys', key: 'apiKeys', min: 'owner' },
  { to: '/security', key: 'security', min: 'viewer' },
] as const;
const RANK = { viewer: 0, admin: 1, owner: 2 } as const;

function Shell({ status, path, refresh }: { status: AuthStatus; path: string; refresh: () => Promise<void> }) {
  const t = useT();
  const user = status.user!;
  const [menuOpen, setMenuOpen] = useState(false);
  const pathname = path.split('?')[0]!;
  useEffect(() => {
    setMenuOpen(false);
  }, [pathname]);
  useEffect(() => {
    if (pathname === '/' || pathname === '') navigate(status.needsTwoFactorSetup ? '/security' : '/flows');
    else if (status.needsTwoFactorSetup && pathname !== '/security') navigate('/security');
  }, [pathname, status.needsTwoFactorSetup]);

  const signOut = async () => {
    await api('POST', '/api/v1/auth/logout').catch(() => {});
    setCsrf(null);
    navigate('/');
    await refresh();
  };

  const can = (min: keyof typeof RANK) => RANK[user.role] >= RANK[min];
  let page;
  const m = /^\/flows\/(new|[^/]+)$/.exec(pathname);
  if (pathname === '/security') page = <SecurityPage user={user} status={status} refresh={refresh} />;
  else if (status.needsTwoFactorSetup) page = null;
  else if (pathname.startsWith('/recipes') && can('admin')) page = <RecipesPage />;
  else if (m) page = <FlowEditorPage id={decodeURIComponent(m[1]!)} role={user.role} />;
  else if (pathname.startsWith('/flows')) page = <FlowsPage role={user.role} />;
  else if (pathname.startsWith('/runs')) page = <RunsPage role={user.role} />;
  else if (pathname.startsWith('/connections')) page = <ConnectionsPage role={user.role} />;
  else if (pathname.startsWith('/catch-hooks')) page = <HooksPage role={user.role} />;
  else if (pathname.startsWith('/triggers')) page = <TriggersPage role={user.role} />;
  else if (pathname.startsWith('/people')) page = <PeoplePage role={user.role} />;
  else if (pathname.startsWith('/kpis'))
    page = (
      <Suspense fallback={<p className="muted">…</p>}>
        <KpisPage canBackfill={can('admin')} />
      </Suspense>
    );
  else if (pathname.startsWith('/audit') && can('admin')) page = <AuditPage />;
  else if (pathname.startsWith('/users') && can('owner')) page = <UsersPage me={user} />;
  else if (pathname.startsWith('/api-keys') && can('owner')) page = <ApiKeysPage />;
  else page = <Notice kind="warn">404</Notice>;

  return (
    <div className="shell">
      <a className="skip" href="#main">
        {t('skipToContent')}
      </a>
      <header className="topbar">
        <Link to="/flows" className="brand">
          <span className="logo" aria-hidden="true">
            ⇄
          </span>{' '}
          dingbridge
        </Link>
        <button
          type="button"
          className="btn btn-small menu-btn"
          aria-expanded={menuOpen}
          aria-controls="nav"
          onClick={() => setMenuOpen(!menuOpen)}
        >
          {t('menu')}
        </button>
        <div className="topbar-right">
          <LanguageSwitcher />
          <span className="who" title={user.email}>
            <span className="who-email">{user.email}</span> <span className="role-chip">{t(`role_${user.role}`)}</span>
          </span>
          <button type="button" className="btn btn-ghost" onClick={signOut}>
            {t('signOut')}
          </button>
        </div>
      </header>
      <div className="layout">
        <nav id="nav" className={`sidenav${menuOpen ? ' open' : ''}`} aria-label={t('mainNav')}>
          <ul>
            {NAV.filter((n) => can(n.min)).map((n) => (
              <li key={n.to}>
                <Link
                  to={n.to}
                  className={pathname.startsWith(n.to) ? 'active' : ''}
                  aria-current={pathname.startsWith(n.to) ? 'page' : undefined}
                >
                  {t(n.key)}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          {user.role === 'viewer' && <Notice>{t('viewerNote')}</Notice>}
          {page}
        </main>
      </div>
    </div>
  );
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
