// Small building blocks shared by the pages.
import { useEffect, useId, useRef, useState, type ReactNode } from 'react';
import { formatDateTime, relativeTime } from '../format';
import type { Webhook } from '../types';

export function ErrorMessage({ children, id, onRetry }: { children: ReactNode; id?: string; onRetry?: () => void }) {
  if (!children) return null;
  return (
    <div className="error-box" role="alert" id={id}>
      <span>{children}</span>
      {onRetry && (
        <button type="button" className="button small" onClick={onRetry}>
          Try again
        </button>
      )}
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <p className="loading" role="status">
      {label}
    </p>
  );
}

export function Time({ iso, relative = true }: { iso: string | null | undefined; relative?: boolean }) {
  if (!iso) return <span className="muted">—</span>;
  return (
    <time dateTime={iso} title={formatDateTime(iso)}>
      {relative ? relativeTime(iso) : formatDateTime(iso)}
    </time>
  );
}

export function StatusBadge({ webhook }: { webhook: Pick<Webhook, 'status' | 'disabled_reason'> }) {
  if (webhook.status === 'enabled') return <span className="badge ok">Enabled</span>;
  if (webhook.disabled_reason) {
    return (
      <span className="badge bad" title={webhook.disabled_reason}>
        Auto-disabled
      </span>
    );
  }
  return <span className="badge off">Disabled</span>;
}

export function DeliveryBadge({ status }: { status: string }) {
  const cls = status === 'succeeded' ? 'ok' : status === 'failed' ? 'bad' : 'pending';
  const label = status.charAt(0).toUpperCase() + status.slice(1);
  return <span className={`badge ${cls}`}>{label}</span>;
}

/** Copies text; says so, or says why it could not so nothing fails silently. */
export function CopyButton({ text, label = 'Copy', className = 'button small' }: { text: string; label?: string; className?: string }) {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  useEffect(() => {
    if (state === 'idle') return;
    const t = window.setTimeout(() => setState('idle'), 2500);
    return () => window.clearTimeout(t);
  }, [state]);

  async function copy() {
    try {
      if (navigator.clipboard && window.isSecureContext) {
        await navigator.clipboard.writeText(text);
      } else {
        legacyCopy(text);
      }
      setState('copied');
    } catch {
      try {
        legacyCopy(text);
        setState('copied');
      } catch {
        setState('failed');
      }
    }
  }

  return (
    <span className="copy">
      <button type="button" className={className} onClick={copy}>
        {label}
      </button>
      <span className="copy-status" role="status">
        {state === 'copied' ? 'Copied' : state === 'failed' ? 'Could not copy: select the text and copy it by hand.' : ''}
      </span>
    </span>
  );
}

function legacyCopy(text: string) {
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.className = 'offscreen';
  document.body.appendChild(area);
  area.select();
  const ok = document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('copy refused');
}

export function CodeBlock({ children, label, className = '' }: { children: string; label?: string; className?: string }) {
  return (
    <pre className={`code ${className}`} tabIndex={0} aria-label={label}>
      <code>{children}</code>
    </pre>
  );
}

/** A modal confirmation built on <dialog>: focus is trapped and Escape cancels. */
export function ConfirmDialog({
  open,
  title,
  children,
  confirmLabel,
  danger = false,
  busy = false,
  error,
  onConfirm,
  onCancel,
}: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  error?: string | null;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        if (!busy) onCancel();
      }}
    >
      <h2 id={titleId}>{title}</h2>
      <div className="dialog-body">{children}</div>
      <ErrorMessage>{error}</ErrorMessage>
      <div className="actions">
        <button type="button" className="button" onClick={onCancel} disabled={busy}>
          Cancel
        </button>
        <button type="button" className={`button ${danger ? 'danger' : 'primary'}`} onClick={onConfirm} disabled={busy}>
          {busy ? 'Working…' : confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

export function KeyValues({ entries, emptyText = 'None' }: { entries: Record<string, string> | null | undefined; emptyText?: string }) {
  const list = Object.entries(entries ?? {});
  if (list.length === 0) return <p className="muted">{emptyText}</p>;
  return (
    <dl className="headers">
      {list.map(([k, v]) => (
        <div key={k} className="header-row">
          <dt>{k}</dt>
          <dd>{v}</dd>
        </div>
      ))}
    </dl>
  );
}
