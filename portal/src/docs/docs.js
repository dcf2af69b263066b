// The API reference: every group's OpenAPI document (a route of its own function) in
// Swagger UI, one group at a time (?group=), "try it" against this same deployment.
import { loading, params, ready, renderHeader, setParams, showError, token, ApiError } from "../portal/common.js";

// One entry per function of infra/template.yaml (tests/integration/test_portal.py checks).
export const GROUPS = [
  { id: "reference", title: "Portal API: reference", url: "/api/v4/reference/openapi.json" },
  { id: "expression", title: "Portal API: expression", url: "/api/v4/expression/openapi.json" },
  { id: "xqtl", title: "Portal API: xQTL", url: "/api/v4/xqtl/openapi.json" },
  { id: "gwas", title: "OpenGWAS", url: "/gwas/openapi.json" },
  { id: "rnaget", title: "GA4GH RNAget", url: "/rnaget/openapi.json" },
  { id: "trs", title: "GA4GH TRS", url: "/ga4gh/trs/v2/openapi.json" },
  { id: "catalog", title: "Catalog (OpenCGA)", url: "/v2/meta/openapi" },
];

renderHeader("../docs/");
const $ = (id) => document.getElementById(id);

function group() {
  return GROUPS.find((g) => g.id === params().get("group")) || GROUPS[0];
}

function render() {
  const chosen = group();
  $("groups").innerHTML = GROUPS.map(
    (g) => `<a href="?group=${g.id}" data-group="${g.id}"${g === chosen ? ' aria-current="page"' : ""}>${g.title}</a>`,
  ).join("");
  for (const link of $("groups").querySelectorAll("a")) {
    link.addEventListener("click", (event) => {
      event.preventDefault();
      setParams({ group: link.dataset.group });
      render();
    });
  }
  $("document-link").innerHTML = `Document: <a href="${chosen.url}">${chosen.url}</a>`;
  show(chosen);
}

async function show(chosen) {
  const section = $("swagger");
  const ticket = loading(section, `Loading the ${chosen.title} document`);
  let spec;
  try {
    const response = await fetch(chosen.url, { headers: { accept: "application/json" } });
    if (!response.ok) throw new ApiError(response.status, `The document could not be read (${response.status}).`);
    spec = await response.json();
  } catch (error) {
    if (section.dataset.ticket === ticket) showError(section, error instanceof ApiError ? error : new ApiError(0, "The API could not be reached."));
    return;
  }
  if (section.dataset.ticket !== ticket) return;
  section.innerHTML = '<div id="swagger-ui"></div>';
  window.SwaggerUIBundle({
    spec,
    dom_id: "#swagger-ui",
    deepLinking: false,
    docExpansion: "list",
    defaultModelsExpandDepth: -1,
    tryItOutEnabled: false,
    requestInterceptor: (request) => {
      const bearer = token();
      if (bearer) request.headers.Authorization = `Bearer ${bearer}`;
      return request;
    },
    onComplete: () => {
      section.dataset.group = chosen.id;
      ready(section);
    },
  });
}

window.addEventListener("popstate", render);
render();
