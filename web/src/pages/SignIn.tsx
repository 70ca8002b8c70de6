import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { Api, ApiError, messageOf } from '../api';
import type { Workspace } from '../types';
import { ErrorMessage } from '../components/ui';
import { useDocumentTitle } from '../hooks';

export function SignIn({ notice, onSignedIn }: { notice?: string; onSignedIn: (key: string, ws: Workspace) => void }) {
  useDocumentTitle('Sign in');
  const [key, setKey] = useState('');
  const [show, setShow] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inputId = useId();
  const errorId = useId();
  const hintId = useId();
  const inputRef = useRef<HTMLInputElement>(null);

  useEffect(() => inputRef.current?.focus(), []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const trimmed = key.trim();
    if (!trimmed) {
      setError('Enter your workspace API key.');
      inputRef.current?.focus();
      return;
    }
    setBusy(true);
    setError(null);
    try {
      const ws = await new Api(trimmed).workspace();
      onSignedIn(trimmed, ws);
    } catch (err) {
      setBusy(false);
      if (err instanceof ApiError && err.status === 401) {
        setError('That API key was not accepted. Check that you copied the whole key for the right workspace.');
      } else {
        setError(messageOf(err));
      }
      inputRef.current?.focus();
    }
  }

  return (
    <main className="centered">
      <form className="card narrow signin" method="post" onSubmit={submit} noValidate>
        <div className="brand big">
          <img src="/favicon.svg" alt="" width={32} height={32} />
          <span>Social Flow Webhooks</span>
        </div>
        <h1>Sign in to the dashboard</h1>
        {notice && (
          <p className="notice" role="status">
            {notice}
          </p>
        )}
        <div className="field">
          <label htmlFor={inputId}>Workspace API key</label>
          <div className="input-row">
            <input
              id={inputId}
              ref={inputRef}
              name="api-key"
              type={show ? 'text' : 'password'}
              autoComplete="off"
              spellCheck={false}
              value={key}
              onChange={(e) => setKey(e.target.value)}
              aria-invalid={error ? true : undefined}
              aria-describedby={`${hintId}${error ? ` ${errorId}` : ''}`}
            />
            <button type="button" className="button" onClick={() => setShow((s) => !s)} aria-pressed={show}>
              {show ? 'Hide' : 'Show'}
            </button>
          </div>
          <p className="hint" id={hintId}>
            The key stays in this browser tab only and is forgotten when you close it or sign out.
          </p>
          <ErrorMessage id={errorId}>{error}</ErrorMessage>
        </div>
        <button type="submit" className="button primary wide" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
