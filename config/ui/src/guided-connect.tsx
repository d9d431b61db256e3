import { useState, type FormEvent } from 'react';
import { api, ApiError, type CatalogConnector, type Connection } from './api.ts';
import { useLang, useT } from './i18n.tsx';
import { errorText, Field, Modal, Notice } from './ui.tsx';
import { say, useWords } from './words.tsx';

/**
 * Guided connect: the connector's steps in the provider's console (connectors/<id>/i18n.ts `guide`,
 * with the console's own page names in the chosen language), the fields each step fills, the hub URLs
 * to paste there with copy buttons, and at the end "Save and test connection", whose failure is said in
 * words naming the credential that is wrong.
 */
function CopyButton({ text, label }: { text: string; label: string }) {
  const t = useT();
  const [done, setDone] = useState(false);
  return (
    <button
      type="button"
      className="btn btn-small"
      aria-label={`${done ? t('copied') : t('copy')}: ${label}`}
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
        } catch {
          /* a browser without clipboard access: the URL is selectable */
        }
        setDone(true);
        setTimeout(() => setDone(false), 2000);
      }}
    >
      {done ? t('copied') : t('copy')}
    </button>
  );
}

export function GuidedConnect({
  connector,
  publicUrl,
  onClose,
  onDone,
}: {
  connector: CatalogConnector;
  publicUrl: string;
  onClose: () => void;
  onDone: () => Promise<void>;
}) {
  const t = useT();
  const { lang } = useLang();
  const w = useWords();
  const guide = connector.i18n?.guide ?? [];
  const [id, setId] = useState(connector.id.replace(/_/g, '-'));
  const [label, setLabel] = useState(w.connector(connector));
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(connector.auth.fields.filter((f) => !f.secret).map((f) => [f.key, f.default ?? ''])),
  );
  const [saved, setSaved] = useState<Connection>();
  const [result, setResult] = useState<{ ok: boolean; text: string; detail?: string }>();
  const [busy, setBusy] = useState(false);
  const base = publicUrl.replace(/\/+$/, '');
  const urls: Record<string, string> = {
    callback: `${base}/webhooks/${connector.id}/${id}`,
    webhook: `${base}/webhooks/${connector.id}/${id}`,
    oauthCallback: `${base}/oauth/${connector.id}/callback`,
    origin: base,
  };
  const fieldOf = (key: string) => connector.auth.fields.find((f) => f.key === key);
  const inSteps = new Set(guide.flatMap((g) => g.fields ?? []));

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setResult(undefined);
    const settings: Record<string, unknown> = {};
    const secrets: Record<string, string> = {};
    for (const f of connector.auth.fields) {
      const v = (values[f.key] ?? '').trim();
      if (f.secret) {
        if (v) secrets[f.key] = v;
      } else if (v !== '') settings[f.key] = v;
    }
    try {
      const conn = saved
        ? await api<Connection>('PATCH', `/api/v1/connections/${encodeURIComponent(saved.id)}`, { label, settings, secrets })
        : await api<Connection>('POST', '/api/v1/connections', { connector: connector.id, id, label, settings, secrets });
      setSaved(conn);
      await onDone();
      if (!connector.auth.testable) {
        setResult({ ok: true, text: t('savedNoTest') });
        return;
      }
      try {
        await api('POST', `/api/v1/connections/${encodeURIComponent(conn.id)}/test`);
        setResult({ ok: true, text: t('guidedOk') });
      } catch (err) {
        const reason = err instanceof ApiError ? (err.body?.reason as string | null | undefined) : undefined;
        const words = w.error(connector.id, reason);
        setResult({ ok: false, text: words ?? t('testFailedGeneric'), detail: errorText(err) });
      }
      await onDone();
    } catch (err) {
      setResult({ ok: false, text: errorText(err) });
    } finally {
      setBusy(false);
    }
  };

  const input = (key: string) => {
    const f = fieldOf(key);
    if (!f) return null;
    const texts = w.connField(connector.id, key);
    return (
      <Field
        key={key}
        label={
          <>
            {say(lang, texts?.label, f.label)} {f.required ? <span className="muted small">({t('required')})</span> : null}
          </>
        }
        hint={say(lang, texts?.help, f.description ?? '') || undefined}
      >
        {(fid, d) => (
          <input
            id={fid}
            name={key}
            type={f.secret ? 'password' : 'text'}
            autoComplete="off"
            placeholder={typeof texts?.example === 'string' ? texts.example : say(lang, texts?.example)}
            value={values[key] ?? ''}
            onChange={(e) => setValues({ ...values, [key]: e.target.value })}
            aria-describedby={d}
          />
        )}
      </Field>
    );
  };

  return (
    <Modal title={`${w.connector(connector)}: ${t('guidedConnect')}`} onClose={onClose} wide>
      <form onSubmit={save} className="stack guided" autoComplete="off">
        <div className="grid-2">
          <Field label={t('label')}>
            {(fid) => <input id={fid} name="label" value={label} onChange={(e) => setLabel(e.target.value)} />}
          </Field>
          <Field label={t('connectionId')} hint={t('flowIdHint')}>
            {(fid, d) => (
              <input id={fid} name="id" value={id} disabled={Boolean(saved)} onChange={(e) => setId(e.target.value)} aria-describedby={d} />
            )}
          </Field>
        </div>
        <ol className="guide-steps">
          {guide.map((g, i) => (
            <li key={i} className="guide-step" data-guide-step={i + 1}>
              <h3>
                <span className="step-no" aria-hidden="true">
                  {i + 1}
                </span>{' '}
                {say(lang, g.title)}
              </h3>
              <p>{say(lang, g.body)}</p>
              {g.link && (
                <p className="small">
                  <a href={g.link} target="_blank" rel="noreferrer noopener">
                    {g.link}
                  </a>
                </p>
              )}
              {(g.paste ?? []).map((p) => (
                <div key={p} className="paste-row">
                  <span className="small">{t(`paste_${p}`)}</span>
                  <code className="paste-url" data-paste={p}>
                    {urls[p] ?? ''}
                  </code>
                  <CopyButton text={urls[p] ?? ''} label={t(`paste_${p}`)} />
                </div>
              ))}
              {(g.fields ?? []).map((k) => input(k))}
            </li>
          ))}
          {connector.auth.fields.some((f) => f.required && !inSteps.has(f.key)) && (
            <li className="guide-step">
              <h3>{t('otherSettings')}</h3>
              {connector.auth.fields.filter((f) => f.required && !inSteps.has(f.key)).map((f) => input(f.key))}
            </li>
          )}
        </ol>
        {result && (
          <Notice kind={result.ok ? 'success' : 'error'}>
            <span className="guided-result" data-ok={result.ok}>
              {result.text}
            </span>
            {result.detail && (
              <details className="small">
                <summary>{t('technicalDetail')}</summary>
                {result.detail}
              </details>
            )}
          </Notice>
        )}
        <div className="actions">
          <button className="btn btn-primary" disabled={busy}>
            {connector.auth.testable ? t('saveAndTest') : t('save')}
          </button>
          <button type="button" className="btn btn-ghost" onClick={onClose}>
            {result?.ok ? t('close') : t('cancel')}
          </button>
        </div>
      </form>
    </Modal>
  );
}
