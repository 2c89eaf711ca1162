import { useId, useState, type FormEvent } from 'react';

export function TokenForm(props: { initial: string; rejected: boolean; onSave: (token: string) => void; onCancel?: () => void }) {
  const [value, setValue] = useState(props.rejected ? '' : props.initial);
  const id = useId();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value.trim()) props.onSave(value);
  };
  return (
    <section className="card token-card" aria-labelledby={`${id}-title`}>
      <h1 id={`${id}-title`} role={props.rejected ? 'alert' : undefined}>
        {props.rejected ? 'The server rejected the API token' : 'Enter your API token'}
      </h1>
      <p className="muted">
        Uploads need the platform's API token. <code>npm start</code> prints it (it is also in <code>.data/api-token</code>). It is kept in this browser
        only.
      </p>
      <form onSubmit={submit} className="token-form">
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
          onChange={(e) => setValue(e.target.value)}
          autoFocus
        />
        <button type="submit" className="primary" disabled={!value.trim()}>
          Save
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
