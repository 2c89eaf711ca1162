import { useId, useState, type FormEvent } from 'react';

export function TokenForm(props: { initial: string; rejected: boolean; onSave: (token: string) => Promise<boolean>; onCancel?: () => void }) {
  const [value, setValue] = useState(props.initial);
  const [checking, setChecking] = useState(false);
  const [wrong, setWrong] = useState(false);
  const id = useId();
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (!value.trim() || checking) return;
    setChecking(true);
    const ok = await props.onSave(value);
    setChecking(false);
    setWrong(!ok);
  };
  return (
    <section className="card token-card" aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`}>{props.rejected ? 'The API token was rejected' : 'Enter your API token'}</h1>
      <p className="muted">
        Uploads need the platform's API token. <code>npm start</code> prints it (it is also in <code>.data/api-token</code>). It is kept in this browser
        only.
      </p>
      {wrong && (
        <p className="error-text small" role="alert">
          The server does not accept this token.
        </p>
      )}
      <form onSubmit={(e) => void submit(e)} className="token-form">
        <label htmlFor={id} className="sr-only">
          API token
        </label>
        <input
          id={id}
          name="token"
          type="password"
          autoComplete="off"
          spellCheck={false}
          placeholder="API token"
          value={value}
          onChange={(e) => {
            setValue(e.target.value);
            setWrong(false);
          }}
          autoFocus
        />
        <button type="submit" className="primary" disabled={!value.trim() || checking}>
          {checking ? 'Checking…' : 'Save'}
        </button>
        {props.onCancel && (
          <button type="button" onClick={props.onCancel}>
            Cancel
          </button>
        )}
      </form>
    </section>
  );
}
