// The portal's only way to the platform: the public GraphQL API at /graphql (and the CSV
// exports at /exports/), authenticated exactly like a partner integration with a bearer token.

const KEY = 'ecl.session';

export const session = {
  get() {
    try {
      return JSON.parse(sessionStorage.getItem(KEY) || 'null');
    } catch {
      return null;
    }
  },
  set(payload) {
    sessionStorage.setItem(
      KEY,
      JSON.stringify({
        accessToken: payload.accessToken,
        refreshToken: payload.refreshToken,
        expiresAt: Date.now() + payload.expiresIn * 1000,
      })
    );
  },
  clear() {
    sessionStorage.removeItem(KEY);
  },
};

/** A GraphQL error reply: `errors[0]`'s code and field, and every error for the form. */
export class ApiError extends Error {
  constructor(errors, status) {
    super(errors.map((e) => e.message).join('; '));
    this.errors = errors;
    this.status = status;
    this.code = errors[0]?.extensions?.code || 'INTERNAL';
    this.field = errors[0]?.extensions?.field || null;
  }
}

let refreshing = null;

async function refresh() {
  const s = session.get();
  if (!s?.refreshToken) return;
  refreshing ??= post(
    'mutation($t:String!){ refreshSession(refreshToken:$t){ accessToken refreshToken expiresIn } }',
    { t: s.refreshToken },
    null
  )
    .then((d) => session.set(d.refreshSession))
    .catch(() => session.clear())
    .finally(() => {
      refreshing = null;
    });
  await refreshing;
}

async function post(query, variables, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let r;
  try {
    r = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
  } catch (e) {
    throw new ApiError([{ message: String(e.message || e), extensions: { code: 'UNAVAILABLE' } }], 0);
  }
  let body;
  try {
    body = await r.json();
  } catch {
    throw new ApiError([{ message: `HTTP ${r.status}`, extensions: { code: 'UNAVAILABLE' } }], r.status);
  }
  if (body.errors?.length) throw new ApiError(body.errors, r.status);
  return body.data;
}

/** Runs one GraphQL operation as the signed-in user (refreshing the token shortly before it expires). */
export async function gql(query, variables = {}) {
  let s = session.get();
  if (s && s.expiresAt - Date.now() < 30_000) {
    await refresh();
    s = session.get();
  }
  try {
    return await post(query, variables, s?.accessToken);
  } catch (e) {
    if (e instanceof ApiError && e.code === 'UNAUTHENTICATED' && s) {
      session.clear();
      window.dispatchEvent(new Event('ecl:signed-out'));
    }
    throw e;
  }
}

/** Downloads a bill's CSV (`summary`, `detail` or `legacy`) through the authenticated export route. */
export async function downloadCsv(contractId, month, format) {
  const s = session.get();
  const url = `/exports/bills/${encodeURIComponent(contractId)}/${encodeURIComponent(month)}.csv?format=${format}`;
  const r = await fetch(url, { headers: s ? { authorization: `Bearer ${s.accessToken}` } : {} });
  if (!r.ok) {
    let err = { message: `HTTP ${r.status}`, extensions: { code: 'UNAVAILABLE' } };
    try {
      const b = await r.json();
      err = { message: b.error.message, extensions: { code: b.error.code } };
    } catch {
      /* not JSON: keep the status */
    }
    throw new ApiError([err], r.status);
  }
  const blob = await r.blob();
  const name = /filename="([^"]+)"/.exec(r.headers.get('content-disposition') || '')?.[1] || `${month}-${format}.csv`;
  return { blob, name };
}

/** Fetches a bill's CSV as text (the summary per workspace is shown from it). */
export async function csvText(contractId, month, format) {
  const { blob } = await downloadCsv(contractId, month, format);
  return blob.text();
}

/** A minimal RFC 4180 parser: quoted fields, doubled quotes, CRLF or LF. */
export function parseCsv(text) {
  const rows = [];
  let row = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}
