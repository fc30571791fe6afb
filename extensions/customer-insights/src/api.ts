// Calls to shopml's backend from the admin blocks. `fetch` with a path relative to the app: the
// Shopify admin resolves it against the app's application_url and adds the Authorization header
// (an OpenID Connect ID token, verified by the backend like an App Bridge session token) by itself
// — the documented way for admin UI extensions; no token handling here.
import { useEffect, useState } from 'preact/hooks';

export type Loaded<T> =
  | { state: 'loading' }
  | { state: 'error'; status: number | null }
  | { state: 'done'; data: T };

/** Shopify's numeric id from a GID (gid://shopify/Customer/123 → 123); null for anything else. */
export function numericId(gid: string | undefined, type: 'Customer' | 'Product'): string | null {
  const m = /^gid:\/\/shopify\/([A-Za-z]+)\/(\d+)$/.exec(gid ?? '');
  return m && m[1] === type ? m[2]! : null;
}

export async function getJson<T>(path: string): Promise<{ ok: true; data: T } | { ok: false; status: number | null }> {
  let res: Response;
  try {
    res = await fetch(path);
  } catch {
    return { ok: false, status: null };
  }
  if (!res.ok) return { ok: false, status: res.status };
  try {
    return { ok: true, data: (await res.json()) as T };
  } catch {
    return { ok: false, status: res.status };
  }
}

/** Loads `path` once per value of `path` (null: nothing to load — an error state). */
export function useInsights<T>(path: string | null): Loaded<T> {
  const [s, setS] = useState<Loaded<T>>({ state: 'loading' });
  useEffect(() => {
    if (path === null) {
      setS({ state: 'error', status: 400 });
      return;
    }
    let live = true;
    setS({ state: 'loading' });
    void getJson<T>(path).then((r) => {
      if (live) setS(r.ok ? { state: 'done', data: r.data } : { state: 'error', status: r.status });
    });
    return () => { live = false; };
  }, [path]);
  return s;
}
