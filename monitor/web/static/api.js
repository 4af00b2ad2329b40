// The console's calls to its own JSON API (same origin; the CSRF header on every state change).

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

export function csrfToken() {
  const found = document.cookie.match(/(?:^|;\s*)newsmon_csrf=([^;]+)/);
  return found ? decodeURIComponent(found[1]) : "";
}

async function answer(response) {
  let doc = null;
  try {
    doc = await response.json();
  } catch {
    doc = null;
  }
  if (!response.ok) {
    throw new ApiError(response.status, (doc && doc.error) || response.statusText);
  }
  return doc;
}

export async function getJSON(path) {
  const response = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
  return answer(response);
}

export async function postJSON(path, body) {
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
    body: JSON.stringify(body),
  });
  return answer(response);
}
