import { createContext, useContext } from 'react';
import type { Api } from './api';
import type { EventType, Workspace } from './types';

export interface Session {
  api: Api;
  workspace: Workspace;
  signOut: (reason?: string) => void;
  /** The event catalog, loaded once per session. */
  eventTypes: () => Promise<EventType[]>;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a signed-in session');
  return s;
}
