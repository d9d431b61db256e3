import { useEffect, useState } from 'react';
import { api } from './api.ts';
import { useT } from './i18n.tsx';
import { errorText } from './ui.tsx';

/** A live-choice dropdown: the connector's list (e.g. Trello boards) read through the chosen connection. */
export function ChoiceSelect({
  id,
  connection,
  list,
  value,
  onChange,
  required,
  describedBy,
}: {
  id: string;
  connection: string;
  list: string;
  value: string;
  /** The chosen id, and its name when it is one of the live choices. */
  onChange: (v: string, label?: string) => void;
  required: boolean;
  describedBy?: string;
}) {
  const t = useT();
  const [items, setItems] = useState<{ id: string; label: string }[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    setItems(undefined);
    setError(undefined);
    if (!connection) return;
    let live = true;
    api<{ items: { id: string; label: string }[] }>('GET', `/api/v1/connections/${encodeURIComponent(connection)}/choices/${list}`).then(
      (r) => live && setItems(r.items),
      (e) => live && setError(errorText(e)),
    );
    return () => {
      live = false;
    };
  }, [connection, list]);
  return (
    <>
      <select
        id={id}
        value={value}
        onChange={(e) => onChange(e.target.value, items?.find((c) => c.id === e.target.value)?.label)}
        required={required}
        aria-describedby={describedBy}
        disabled={!items}
      >
        <option value="">{!connection ? t('chooseConnectionFirst') : items ? t('choose') : t('loading')}</option>
        {value && !items?.some((c) => c.id === value) && <option value={value}>{value}</option>}
        {items?.map((c) => (
          <option key={c.id} value={c.id}>
            {c.label}
          </option>
        ))}
      </select>
      {error && (
        <div className="field-error" role="alert">
          {error}
        </div>
      )}
    </>
  );
}
