// The tools page: the GA4GH TRS registry, a tool's versions and their descriptors.
import {
  api, current, escapeHtml, loading, params, ready, renderHeader, setParams, showError, showNote,
} from "./common.js";

renderHeader("tools.html");
const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;
const TRS = "/ga4gh/trs/v2";
let tools = null;

async function loadTools() {
  const section = $("tools");
  const ticket = loading(section, "Loading the registry");
  try {
    const found = [];
    let offset = 0;
    for (let page = 0; page < 20; page += 1) {
      const { data, headers } = await api(`${TRS}/tools?limit=1000&offset=${offset}`);
      found.push(...data);
      if (!headers.get("next_page") || !data.length) break;
      offset += data.length;
    }
    if (!current(section, ticket)) return;
    tools = found;
    renderTools();
  } catch (error) {
    if (current(section, ticket)) showError(section, error);
  }
}

function renderTools() {
  const section = $("tools");
  const query = $("tool-filter").value.trim().toLowerCase();
  const rows = tools.filter(
    (t) =>
      !query ||
      `${t.id} ${t.name} ${t.description} ${t.organization}`.toLowerCase().includes(query),
  );
  if (!tools.length) return showNote(section, "The registry holds no tool.");
  if (!rows.length) return showNote(section, `No tool matches “${query}”.`);
  const chosen = params().get("tool");
  section.innerHTML = `<div class="table-wrap"><table><thead><tr><th>Tool</th><th>Class</th>
    <th>Descriptors</th><th>Versions</th><th>Organisation</th></tr></thead><tbody>${rows
      .map((t) => {
        const types = [...new Set(t.versions.flatMap((v) => v.descriptor_type || []))];
        return `<tr class="clickable${t.id === chosen ? " selected" : ""}" tabindex="0"
          data-id="${escapeHtml(t.id)}"><td><strong>${escapeHtml(t.name || t.id)}</strong><br>
          <span class="hint">${escapeHtml(t.id)}</span></td><td>${escapeHtml(
          t.toolclass?.name,
        )}</td><td>${escapeHtml(types.join(", "))}</td><td>${t.versions.length}</td><td>${escapeHtml(
          t.organization,
        )}</td></tr>`;
      })
      .join("")}</tbody></table></div>`;
  for (const tr of section.querySelectorAll("tr.clickable")) {
    const open = () => {
      setParams({ tool: tr.dataset.id, version: null, type: null });
      renderTools();
      showTool();
    };
    tr.addEventListener("click", open);
    tr.addEventListener("keydown", (event) => event.key === "Enter" && open());
  }
  ready(section);
}

async function showTool() {
  const section = $("tool");
  const id = params().get("tool");
  if (!id) {
    section.hidden = true;
    return;
  }
  section.hidden = false;
  const ticket = loading(section, `Loading ${id}`);
  try {
    const { data: tool } = await api(`${TRS}/tools/${enc(id)}`);
    if (!current(section, ticket)) return;
    const version = tool.versions.find((v) => v.id === params().get("version")) || tool.versions[0];
    if (!version) return showNote(section, `${tool.name || id} has no version.`);
    const types = version.descriptor_type || [];
    const type = types.includes(params().get("type")) ? params().get("type") : types[0];
    section.innerHTML = `<h2>${escapeHtml(tool.name || id)}</h2>
      <p>${escapeHtml(tool.description || "")}</p>
      <form class="inline" onsubmit="return false">
        <label for="version">Version</label>
        <select id="version">${tool.versions
          .map((v) => `<option value="${escapeHtml(v.id)}"${v.id === version.id ? " selected" : ""}>${escapeHtml(v.name || v.id)}</option>`)
          .join("")}</select>
        <label for="type">Descriptor</label>
        <select id="type">${types
          .map((t) => `<option${t === type ? " selected" : ""}>${escapeHtml(t)}</option>`)
          .join("")}</select>
      </form>
      <p class="hint">Images: ${escapeHtml((version.images || []).map((i) => i.image_name).join(", ") || "none")}</p>
      <div id="descriptor"></div>`;
    $("version").addEventListener("change", () => {
      setParams({ version: $("version").value, type: null });
      showTool();
    });
    $("type").addEventListener("change", () => {
      setParams({ type: $("type").value });
      showTool();
    });
    ready(section);
    if (type) await descriptor(id, version.id, type);
  } catch (error) {
    if (current(section, ticket)) showError(section, error);
  }
}

async function descriptor(id, version, type) {
  const box = $("descriptor");
  const ticket = loading(box, "Reading the descriptor");
  try {
    const base = `${TRS}/tools/${enc(id)}/versions/${enc(version)}/${enc(type)}`;
    const { data } = await api(`${base}/descriptor`);
    const { data: files } = await api(`${base}/files`);
    if (!current(box, ticket)) return;
    const others = (files || []).filter((f) => f.file_type !== "PRIMARY_DESCRIPTOR");
    box.innerHTML = `<p class="hint">sha-256 ${escapeHtml(
      data.checksum?.[0]?.checksum?.slice(0, 16) || "",
    )}…</p><pre id="descriptor-text"></pre>${
      others.length
        ? `<p class="hint">Other files: ${others.map((f) => `${escapeHtml(f.path)} (${escapeHtml(f.file_type)})`).join(", ")}</p>`
        : ""
    }`;
    $("descriptor-text").textContent = data.content;
    ready(box);
  } catch (error) {
    if (current(box, ticket)) showError(box, error);
  }
}

$("tool-filter").addEventListener("input", () => {
  setParams({ q: $("tool-filter").value.trim() }, false);
  if (tools) renderTools();
});
window.addEventListener("popstate", () => {
  if (tools) renderTools();
  showTool();
});
$("tool-filter").value = params().get("q") || "";
loadTools();
showTool();
