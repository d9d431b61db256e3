import { DETAILED_ERRORS } from './error-words.ts';
import { useCallback, useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { ApiError } from './api.ts';
import { currentLang, translate, useLang, useT } from './i18n.tsx';
import { formatTime } from './words.tsx';

export function navigate(to: string) {
  window.history.pushState({}, '', to);
  window.dispatchEvent(new PopStateEvent('popstate'));
}

export function Link({
  to,
  children,
  className,
  ...rest
}: {
  to: string;
  children: ReactNode;
  className?: string;
  'aria-current'?: 'page' | undefined;
}) {
  return (
    <a
      href={to}
      className={className}
      {...rest}
      onClick={(e) => {
        if (e.metaKey || e.ctrlKey || e.shiftKey || e.button !== 0) return;
        e.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

/** Loads something, with reload; errors are kept to show. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[] = []) {
  const [data, setData] = useState<T | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [loading, setLoading] = useState(true);
  const reload = useCallback(async () => {
    try {
      setData(await load());
      setError(undefined);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setLoading(false);
    }
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, deps);
  useEffect(() => {
    setLoading(true);
    void reload();
  }, [reload]);
  return { data, error, loading, reload, setData };
}

/**
 * A server error in words: its code's translation (`err_<code>`, error-words.ts) in the page's language;
 * for a code whose message names what is wrong (fields, the provider's words) the message follows as the
 * technical detail; a code with no words shows the server's message as it is. A failed fetch (no answer) is
 * the network's fault, in words too.
 */
export function errorText(e: unknown): string {
  const lang = currentLang();
  if (e instanceof ApiError) {
    const key = `err_${e.code}`;
    const words = translate(lang, key);
    if (words === key) return e.message;
    return DETAILED_ERRORS.has(e.code) && e.message && e.message !== words
      ? `${words} (${translate(lang, 'technicalDetail')}: ${e.message})`
      : words;
  }
  if (e instanceof TypeError && /fetch|network/i.test(e.message)) return translate(lang, 'err_network');
  return (e as Error)?.message ?? String(e);
}

export function Notice({
  kind = 'info',
  children,
  role,
}: {
  kind?: 'info' | 'error' | 'success' | 'warn';
  children: ReactNode;
  role?: string;
}) {
  return (
    <div className={`notice notice-${kind}`} role={role ?? (kind === 'error' ? 'alert' : 'status')}>
      {children}
    </div>
  );
}

export function Field({
  label,
  hint,
  error,
  children,
  id,
}: {
  label: ReactNode;
  hint?: ReactNode;
  error?: string;
  children: (id: string, describedBy?: string) => ReactNode;
  id?: string;
}) {
  const auto = useId();
  const fid = id ?? auto;
  const hintId = hint ? `${fid}-hint` : undefined;
  const errId = error ? `${fid}-err` : undefined;
  return (
    <div className={`field${error ? ' has-error' : ''}`}>
      <label htmlFor={fid}>{label}</label>
      {children(fid, [hintId, errId].filter(Boolean).join(' ') || undefined)}
      {hint && (
        <div className="hint" id={hintId}>
          {hint}
        </div>
      )}
      {error && (
        <div className="field-error" id={errId}>
          {error}
        </div>
      )}
    </div>
  );
}

export function Switch({
  checked,
  onChange,
  label,
  disabled,
}: {
  checked: boolean;
  onChange: (v: boolean) => void;
  label: string;
  disabled?: boolean;
}) {
  return (
    <button
      type="button"
      role="switch"
      aria-checked={checked}
      aria-label={label}
      className={`switch${checked ? ' on' : ''}`}
      disabled={disabled}
      onClick={() => onChange(!checked)}
    >
      <span className="knob" aria-hidden="true" />
    </button>
  );
}

export function StatusBadge({ status }: { status: string }) {
  const t = useT();
  const tone = ['succeeded', 'active', 'ok'].includes(status)
    ? 'ok'
    : ['failed', 'dead', 'error', 'needs_reauth', 'waiting_reauth'].includes(status)
      ? 'bad'
      : ['running', 'pending', 'retrying'].includes(status)
        ? 'busy'
        : 'muted';
  const text = t(`st_${status}`);
  return (
    <span className={`badge badge-${tone}`} data-status={status}>
      {text.startsWith('st_') ? status : text}
    </span>
  );
}

export function Time({ at }: { at: string | null | undefined }) {
  const { lang } = useLang();
  if (!at) return <span className="muted">—</span>;
  const d = new Date(at);
  return (
    <time dateTime={at} title={d.toISOString()}>
      {formatTime(d, lang)}
    </time>
  );
}

export function Modal({ title, onClose, children, wide }: { title: string; onClose: () => void; children: ReactNode; wide?: boolean }) {
  const t = useT();
  const id = useId();
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    // Keyboard users land inside the dialog, and go back where they were when it closes.
    const before = document.activeElement as HTMLElement | null;
    box.current?.querySelector<HTMLElement>('input, select, textarea, .modal-body button, .recipe')?.focus();
    return () => before?.focus?.();
  }, []);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onClose();
      // Focus stays inside the dialog: Tab from the last control goes to the first, Shift+Tab the other way.
      if (e.key === 'Tab' && box.current) {
        const all = [
          ...box.current.querySelectorAll<HTMLElement>(
            'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])',
          ),
        ].filter((el) => el.offsetParent !== null);
        if (!all.length) return;
        const first = all[0]!;
        const last = all[all.length - 1]!;
        const active = document.activeElement as HTMLElement | null;
        if (e.shiftKey && (active === first || !box.current.contains(active))) {
          e.preventDefault();
          last.focus();
        } else if (!e.shiftKey && (active === last || !box.current.contains(active))) {
          e.preventDefault();
          first.focus();
        }
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onClose]);
  return (
    <div
      className="modal-backdrop"
      onMouseDown={(e) => {
        if (e.target === e.currentTarget) onClose();
      }}
    >
      <div className={`modal${wide ? ' modal-wide' : ''}`} role="dialog" aria-modal="true" aria-labelledby={id} ref={box}>
        <div className="modal-head">
          <h2 id={id}>{title}</h2>
          <button type="button" className="icon-btn" aria-label={t('close')} onClick={onClose}>
            ×
          </button>
        </div>
        {children}
      </div>
    </div>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return <div className="empty">{children}</div>;
}

export function Json({ value }: { value: unknown }) {
  if (value === null || value === undefined) return <span className="muted">—</span>;
  return <pre className="json">{typeof value === 'string' ? value : JSON.stringify(value, null, 2)}</pre>;
}

/** A value as a readable tree: keys and values, nested lists for objects (long strings kept whole). */
export function Tree({ value, depth = 0 }: { value: unknown; depth?: number }): ReactNode {
  if (value === null || value === undefined || value === '') return <span className="muted">—</span>;
  if (typeof value !== 'object') return <span>{String(value)}</span>;
  const entries = Array.isArray(value)
    ? value.map((v, i) => [String(i + 1), v] as const)
    : Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return <span className="muted">—</span>;
  if (depth > 5) return <code>{JSON.stringify(value)}</code>;
  return (
    <ul className="tree">
      {entries.map(([k, v]) => (
        <li key={k}>
          <span className="k">{k}</span>: <Tree value={v} depth={depth + 1} />
        </li>
      ))}
    </ul>
  );
}
