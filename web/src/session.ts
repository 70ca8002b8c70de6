// The API key lives in sessionStorage only: it is gone when the tab closes and never goes in a URL.
const STORAGE_KEY = 'socialflow.apiKey';

export function loadKey(): string | null {
  try {
    return sessionStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function saveKey(key: string): void {
  try {
    sessionStorage.setItem(STORAGE_KEY, key);
  } catch {
    // Storage can be unavailable (private modes); the key then lasts until reload.
  }
}

export function clearKey(): void {
  try {
    sessionStorage.removeItem(STORAGE_KEY);
  } catch {
    // nothing stored
  }
}
