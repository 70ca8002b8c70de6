import { useState } from 'react';
import { messageOf } from '../api';
import { useSession } from '../context';
import { formatDateTime } from '../format';
import type { Webhook } from '../types';
import { ConfirmDialog, ErrorMessage } from './ui';
import { SecretValue, VerifySnippet } from './Secret';

export function SecretPanel({ webhook }: { webhook: Webhook }) {
  const { api } = useSession();
  const [secret, setSecret] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [confirm, setConfirm] = useState(false);
  const [rotateError, setRotateError] = useState<string | null>(null);
  const [rotated, setRotated] = useState<{ expires: string | null } | null>(null);
  const [showHelp, setShowHelp] = useState(false);

  async function reveal() {
    setBusy(true);
    setError(null);
    try {
      const r = await api.secret(webhook.id);
      setSecret(r.secret);
      if (r.previous_secret_expires_at && Date.parse(r.previous_secret_expires_at) > Date.now()) {
        setRotated({ expires: r.previous_secret_expires_at });
      }
    } catch (err) {
      setError(`Could not reveal the secret: ${messageOf(err)}`);
    } finally {
      setBusy(false);
    }
  }

  async function rotate() {
    setBusy(true);
    setRotateError(null);
    try {
      const r = await api.rotateSecret(webhook.id);
      setSecret(r.secret);
      setRotated({ expires: r.previous_secret_expires_at });
      setConfirm(false);
    } catch (err) {
      setRotateError(`Could not rotate the secret: ${messageOf(err)}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="card" aria-labelledby="secret-title">
      <h2 id="secret-title">Signing secret</h2>
      <p className="muted">Each request is signed with this secret so your code can check that it came from Social Flow.</p>
      {secret ? (
        <SecretValue secret={secret} label={rotated ? 'New signing secret' : 'Signing secret'} />
      ) : (
        <p className="mono masked" aria-label="Secret hidden">
          whsec_••••••••••••••••••••••••
        </p>
      )}
      {rotated && (
        <p className="notice" role="status">
          Secret rotated.{' '}
          {rotated.expires
            ? `Requests are signed with both the old and the new secret until ${formatDateTime(rotated.expires)}; update your receiver before then.`
            : 'The old secret no longer works; update your receiver now.'}
        </p>
      )}
      <ErrorMessage>{error}</ErrorMessage>
      <div className="actions">
        {secret ? (
          <button type="button" className="button" onClick={() => setSecret(null)}>
            Hide secret
          </button>
        ) : (
          <button type="button" className="button" onClick={reveal} disabled={busy}>
            {busy ? 'Revealing…' : 'Reveal secret'}
          </button>
        )}
        <button type="button" className="button" onClick={() => { setRotateError(null); setConfirm(true); }} disabled={busy}>
          Rotate secret…
        </button>
        <button type="button" className="button link" aria-expanded={showHelp} onClick={() => setShowHelp((s) => !s)}>
          {showHelp ? 'Hide verification example' : 'How to verify requests'}
        </button>
      </div>
      {showHelp && <VerifySnippet />}
      <ConfirmDialog
        open={confirm}
        title="Rotate the signing secret?"
        confirmLabel="Rotate secret"
        busy={busy}
        error={rotateError}
        onCancel={() => setConfirm(false)}
        onConfirm={rotate}
      >
        <p>A new secret is created. For a grace period, requests carry signatures made with both secrets, so receivers using either one keep verifying.</p>
        <p>After that, only the new secret works.</p>
      </ConfirmDialog>
    </section>
  );
}
