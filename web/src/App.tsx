import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Api, ApiError, messageOf } from './api';
import { SessionContext, type Session } from './context';
import { clearKey, loadKey, saveKey } from './session';
import type { EventType, Workspace } from './types';
import { Layout } from './pages/Layout';
import { SignIn } from './pages/SignIn';
import { Loading, ErrorMessage } from './components/ui';

type State =
  | { kind: 'checking'; key: string }
  | { kind: 'signed-out'; notice?: string }
  | { kind: 'signed-in'; key: string; workspace: Workspace }
  | { kind: 'unreachable'; key: string; error: string };

export function App() {
  const [state, setState] = useState<State>(() => {
    const key = loadKey();
    return key ? { kind: 'checking', key } : { kind: 'signed-out' };
  });

  const signOut = useCallback((notice?: string) => {
    clearKey();
    setState({ kind: 'signed-out', notice });
  }, []);

  // A stored key is checked again on load; a server that is down keeps the key and offers a retry.
  const check = useCallback((key: string) => {
    setState({ kind: 'checking', key });
    new Api(key)
      .workspace()
      .then((workspace) => setState({ kind: 'signed-in', key, workspace }))
      .catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 401) {
          signOut('Your API key is no longer accepted. Sign in again.');
        } else {
          setState({ kind: 'unreachable', key, error: messageOf(err) });
        }
      });
  }, [signOut]);

  const initial = useRef(state);
  useEffect(() => {
    if (initial.current.kind === 'checking') check(initial.current.key);
  }, [check]);

  const session = useMemo<Session | null>(() => {
    if (state.kind !== 'signed-in') return null;
    const api = new Api(state.key, () => signOut('The server no longer accepts this API key. Sign in again.'));
    let catalog: Promise<EventType[]> | null = null;
    return {
      api,
      workspace: state.workspace,
      signOut,
      eventTypes: () => {
        if (!catalog) {
          catalog = api.eventTypes();
          catalog.catch(() => {
            catalog = null;
          });
        }
        return catalog;
      },
    };
  }, [state, signOut]);

  if (state.kind === 'signed-out') {
    return (
      <SignIn
        notice={state.notice}
        onSignedIn={(key, workspace) => {
          saveKey(key);
          setState({ kind: 'signed-in', key, workspace });
        }}
      />
    );
  }
  if (state.kind === 'checking') {
    return (
      <main className="centered">
        <Loading label="Checking your session…" />
      </main>
    );
  }
  if (state.kind === 'unreachable') {
    return (
      <main className="centered">
        <div className="card narrow">
          <h1>Can’t reach the service</h1>
          <ErrorMessage onRetry={() => check(state.key)}>{state.error}</ErrorMessage>
          <button type="button" className="button link" onClick={() => signOut()}>
            Sign in with another key
          </button>
        </div>
      </main>
    );
  }
  return (
    <SessionContext.Provider value={session}>
      <Layout />
    </SessionContext.Provider>
  );
}
