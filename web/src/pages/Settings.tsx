import { useState } from 'react';
import { messageOf } from '../api';
import { useSession } from '../context';
import { navigate } from '../router';
import type { Webhook } from '../types';
import { EndpointForm } from '../components/EndpointForm';
import { ConfirmDialog, ErrorMessage } from '../components/ui';

export function Settings({ webhook, onChange }: { webhook: Webhook; onChange: (w: Webhook) => void }) {
  const { api } = useSession();
  const [saved, setSaved] = useState(false);
  const [statusBusy, setStatusBusy] = useState(false);
  const [statusError, setStatusError] = useState<string | null>(null);
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const [deleteError, setDeleteError] = useState<string | null>(null);
  const enabled = webhook.status === 'enabled';

  async function toggleStatus() {
    setStatusBusy(true);
    setStatusError(null);
    try {
      onChange(await api.updateWebhook(webhook.id, { status: enabled ? 'disabled' : 'enabled' }));
    } catch (err) {
      setStatusError(`Could not ${enabled ? 'disable' : 'enable'} the endpoint: ${messageOf(err)}`);
    } finally {
      setStatusBusy(false);
    }
  }

  async function remove() {
    setDeleting(true);
    setDeleteError(null);
    try {
      await api.deleteWebhook(webhook.id);
      setConfirmDelete(false);
      navigate('#/webhooks');
    } catch (err) {
      setDeleteError(`Could not delete the endpoint: ${messageOf(err)}`);
      setDeleting(false);
    }
  }

  return (
    <div className="stack">
      <section className="card" aria-labelledby="edit-title">
        <h2 id="edit-title">Edit endpoint</h2>
        <EndpointForm
          initial={{ url: webhook.url, events: webhook.events, description: webhook.description ?? '' }}
          submitLabel="Save changes"
          busyLabel="Saving…"
          onSubmit={async (v) => {
            setSaved(false);
            onChange(await api.updateWebhook(webhook.id, { url: v.url, events: v.events, description: v.description }));
            setSaved(true);
          }}
        />
        {saved && (
          <p className="success-text" role="status">
            Changes saved.
          </p>
        )}
      </section>

      <section className="card" aria-labelledby="status-title">
        <h2 id="status-title">Delivery</h2>
        {enabled ? (
          <p>This endpoint is enabled and receives the events it subscribes to. Disable it to pause deliveries without losing its settings.</p>
        ) : webhook.disabled_reason ? (
          <p>
            Delivery was turned off automatically: <strong>{webhook.disabled_reason}</strong> Fix the receiver, then enable the
            endpoint again.
          </p>
        ) : (
          <p>This endpoint is disabled: no new events are sent to it.</p>
        )}
        <ErrorMessage>{statusError}</ErrorMessage>
        <div className="actions">
          <button type="button" className={`button ${enabled ? '' : 'primary'}`} onClick={toggleStatus} disabled={statusBusy}>
            {statusBusy ? 'Saving…' : enabled ? 'Disable endpoint' : 'Enable endpoint'}
          </button>
        </div>
      </section>

      <section className="card danger-zone" aria-labelledby="delete-title">
        <h2 id="delete-title">Delete endpoint</h2>
        <p>Deleting stops all deliveries to this URL and removes its delivery log. This cannot be undone.</p>
        <div className="actions">
          <button type="button" className="button danger" onClick={() => { setDeleteError(null); setConfirmDelete(true); }}>
            Delete endpoint…
          </button>
        </div>
      </section>

      <ConfirmDialog
        open={confirmDelete}
        title="Delete this endpoint?"
        confirmLabel="Delete endpoint"
        danger
        busy={deleting}
        error={deleteError}
        onCancel={() => setConfirmDelete(false)}
        onConfirm={remove}
      >
        <p>
          <strong className="url">{webhook.url}</strong> will stop receiving events and its delivery log is removed. This cannot be undone.
        </p>
      </ConfirmDialog>
    </div>
  );
}
