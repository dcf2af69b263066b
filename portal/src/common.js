// Shared by every page: the API client (same origin only; the token from sessionStorage),
// the allowance read off response headers, state kept in the URL, errors in plain words.

export const TOKEN_KEY = "omicsgate.token";
const PAGES = [
  ["gene.html", "Genes"],
  ["gwas.html", "GWAS"],
  ["tools.html", "Tools"],
  ["signin.html", "Sign in"],
  ["../docs/", "API reference"],
];

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The message an API put in its error body, whichever standard's shape it has. */
function bodyMessage(body) {
  if (!body) return "";
  if (typeof body === "string") return body.slice(0, 300);
  if (typeof body.detail === "string") return body.detail;
  if (typeof body.message === "string" && body.message) return body.message;
  if (Array.isArray(body.detail) && body.detail[0]) return body.detail[0].msg || "";
  const events = body.events || [];
  if (events[0] && events[0].message) return events[0].message;
  return "";
}

export function plainError(status, body) {
  const said = bodyMessage(body);
  if (status === 401) return `Your token was refused (${said || "not valid"}). Sign in again.`;
  if (status === 403) return `Your account may not see this: ${said}`;
  if (status === 429) return `You have used up your allowance for now: ${said}`;
  if (status >= 500) return `The service could not answer (${status}); try again in a moment.`;
  if (status === 404 && !said) return "Nothing found there.";
  return said ? `The API refused the request: ${said}` : `The API answered ${status}.`;
}

/** Calls a public API route of this origin; throws ApiError with a plain message. */
export async function api(path, { method = "GET", form, json } = {}) {
  const headers = { accept: "application/json" };
  const bearer = token();
  if (bearer) headers.authorization = `Bearer ${bearer}`;
  let body;
  if (form) {
    body = new URLSearchParams();
    for (const [key, value] of Object.entries(form)) {
      for (const item of [].concat(value)) body.append(key, String(item));
    }
  } else if (json) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body });
  } catch {
    throw new ApiError(0, "The API could not be reached. Check your connection and try again.");
  }
  showAllowance(response.headers);
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = text;
  }
  if (!response.ok) throw new ApiError(response.status, plainError(response.status, data));
  return { data, headers: response.headers };
}

export function showAllowance(headers) {
  const limit = headers.get("x-allowance-limit");
  const left = headers.get("x-allowance-remaining");
  if (limit === null || left === null) return;
  const reset = Number(headers.get("x-allowance-reset"));
  const state = { limit: Number(limit), left: Number(left), reset };
  sessionStorage.setItem("omicsgate.allowance", JSON.stringify(state));
  renderAllowance(state);
}

function renderAllowance(state) {
  const element = document.getElementById("allowance");
  if (!element || !state) return;
  const when = state.reset ? new Date(state.reset * 1000).toLocaleTimeString() : "";
  element.textContent = `Allowance: ${state.left.toLocaleString()} of ${state.limit.toLocaleString()} left${when ? ` (refills ${when})` : ""}`;
  element.dataset.left = String(state.left);
}

/** The page's header: links to every page, who is signed in, the allowance left. */
export function renderHeader(active) {
  const header = document.getElementById("top");
  const base = new URL("./", import.meta.url); // the portal's own directory, from any page
  const links = PAGES.map(
    ([href, label]) =>
      `<a href="${new URL(href, base).pathname}"${
        href === active ? ' aria-current="page"' : ""
      }>${label}</a>`,
  ).join("");
  header.innerHTML = `<a class="brand" href="${base.pathname}">OmicsGate</a><nav>${links}</nav>
    <span class="status"><span id="who">${token() ? "signed in" : "anonymous"}</span>
    <span id="allowance"></span></span>`;
  const saved = sessionStorage.getItem("omicsgate.allowance");
  if (saved) renderAllowance(JSON.parse(saved));
}

export function params() {
  return new URLSearchParams(location.search);
}

/** Puts the page's state in the URL (a link that can be shared), without reloading. */
export function setParams(values, push = true) {
  const next = params();
  for (const [key, value] of Object.entries(values)) {
    if (value === null || value === undefined || value === "") next.delete(key);
    else next.set(key, value);
  }
  const url = `${location.pathname}?${next}`;
  if (url === `${location.pathname}${location.search}`) return;
  history[push ? "pushState" : "replaceState"](null, "", url);
}

export function escapeHtml(value) {
  return String(value ?? "").replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c],
  );
}

/** Marks a section as loading; returns a token that later calls compare to drop stale answers. */
export function loading(element, what = "Loading") {
  element.dataset.state = "loading";
  element.innerHTML = `<p class="loading" role="status">${escapeHtml(what)}…</p>`;
  const ticket = String(Number(element.dataset.ticket || 0) + 1);
  element.dataset.ticket = ticket;
  return ticket;
}

export function current(element, ticket) {
  return element.dataset.ticket === ticket;
}

export function ready(element) {
  element.dataset.state = "ready";
}

export function showError(element, error) {
  const message = error instanceof ApiError ? error.message : `Something went wrong: ${error}`;
  element.dataset.state = "error";
  element.innerHTML = `<p class="error" role="alert">${escapeHtml(message)}</p>`;
}

export function showNote(element, message) {
  element.dataset.state = "ready";
  element.innerHTML = `<p class="note">${escapeHtml(message)}</p>`;
}

export function plotDiv(element) {
  element.innerHTML = "";
  const div = document.createElement("div");
  div.className = "plot";
  element.append(div);
  return div;
}

/** Plotly (a global from vendor/plotly.js-dist-min) with the portal's settings. */
export function plot(div, data, layout, config = {}) {
  const base = {
    margin: { t: 30, r: 10, b: 60, l: 60 },
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
    font: { family: "system-ui, sans-serif", size: 12 },
  };
  return window.Plotly.newPlot(div, data, { ...base, ...layout }, {
    responsive: true,
    displaylogo: false,
    ...config,
  });
}

export function formatP(p) {
  if (p === null || p === undefined) return "";
  return Number(p) < 1e-3 ? Number(p).toExponential(2) : Number(p).toPrecision(3);
}
