// The GWAS page: study search, a study's Manhattan plot, its clumped top hits, a PheWAS of
// a variant and the LD between the study's variants around it. OpenGWAS routes only.
import {
  api, current, escapeHtml, formatP, loading, params, plot, plotDiv, ready, renderHeader,
  setParams, showError, showNote,
} from "./common.js";

renderHeader("gwas.html");
const $ = (id) => document.getElementById(id);
let studies = null; // {id: gwasinfo}
let records = []; // the chosen study's associations, for the Manhattan plot and LD

const minusLog10 = (p) => -Math.log10(Math.max(p, 1e-300));

async function loadStudies() {
  const section = $("studies");
  const ticket = loading(section, "Loading studies");
  try {
    const { data } = await api("/gwas/gwasinfo");
    if (!current(section, ticket)) return;
    studies = data;
    renderStudies();
  } catch (error) {
    if (current(section, ticket)) showError(section, error);
  }
}

function renderStudies() {
  const section = $("studies");
  const query = $("study-filter").value.trim().toLowerCase();
  const chosen = params().get("study");
  const rows = Object.values(studies).filter(
    (s) => !query || `${s.id} ${s.trait} ${s.author || ""}`.toLowerCase().includes(query),
  );
  if (!rows.length) return showNote(section, `No study matches “${query}”.`);
  section.innerHTML = `<div class="table-wrap"><table><thead><tr><th>ID</th><th>Trait</th>
    <th>Population</th><th>N</th><th>Year</th></tr></thead><tbody>${rows
      .map(
        (s) => `<tr class="clickable${s.id === chosen ? " selected" : ""}" tabindex="0"
          data-id="${escapeHtml(s.id)}"><td>${escapeHtml(s.id)}</td><td>${escapeHtml(
          s.trait,
        )}</td><td>${escapeHtml(s.population || "")}</td><td>${
          s.sample_size ? Number(s.sample_size).toLocaleString() : ""
        }</td><td>${escapeHtml(s.year || "")}</td></tr>`,
      )
      .join("")}</tbody></table></div>`;
  for (const tr of section.querySelectorAll("tr.clickable")) {
    const open = () => {
      setParams({ study: tr.dataset.id, variant: null });
      renderStudies();
      showStudy();
    };
    tr.addEventListener("click", open);
    tr.addEventListener("keydown", (event) => event.key === "Enter" && open());
  }
  ready(section);
}

$("study-filter").addEventListener("input", () => {
  setParams({ q: $("study-filter").value.trim() }, false);
  if (studies) renderStudies();
});
$("tophits-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setParams({ p: $("tophits-p").value.trim() });
  tophits(params().get("study"));
});
$("phewas-form").addEventListener("submit", (event) => {
  event.preventDefault();
  chooseVariant($("variant").value.trim());
});
window.addEventListener("popstate", () => {
  $("study-filter").value = params().get("q") || "";
  if (studies) renderStudies();
  showStudy();
});

function chooseVariant(variant) {
  if (!variant) return;
  setParams({ variant });
  $("variant").value = variant;
  showVariant();
}

async function showStudy() {
  const study = params().get("study");
  $("tophits-p").value = params().get("p") || "5e-8";
  if (!study) {
    $("study-title").textContent = "Manhattan plot";
    for (const id of ["manhattan", "tophits"]) showNote($(id), "Choose a study above.");
    records = [];
    showVariant();
    return;
  }
  $("study-title").textContent = `Manhattan plot: ${study}`;
  await Promise.all([manhattan(study), tophits(study)]);
  showVariant();
}

/** Every association of the study: /tophits with p <= 1, unclumped, page after page. */
async function allAssociations(study) {
  const found = [];
  let cursor = null;
  for (let page = 0; page < 20; page += 1) {
    const body = { id: [study], pval: 1, clump: 0, ...(cursor ? { cursor } : {}) };
    const { data, headers } = await api("/gwas/tophits", { method: "POST", json: body });
    found.push(...data);
    cursor = headers.get("x-next-cursor");
    if (!cursor) break;
  }
  return found;
}

function chromosomeKey(chr) {
  const n = Number(chr);
  return Number.isFinite(n) ? n : { X: 23, Y: 24, MT: 25 }[chr] || 26;
}

async function manhattan(study) {
  const section = $("manhattan");
  const ticket = loading(section, "Reading the study's associations");
  try {
    const rows = await allAssociations(study);
    if (!current(section, ticket)) return;
    records = rows;
    if (!rows.length) return showNote(section, "This study has no associations.");
    const chromosomes = [...new Set(rows.map((r) => String(r.chr)))].sort(
      (a, b) => chromosomeKey(a) - chromosomeKey(b),
    );
    const offsets = {};
    let offset = 0;
    const ticks = [];
    for (const chr of chromosomes) {
      const positions = rows.filter((r) => String(r.chr) === chr).map((r) => r.position);
      const [low, high] = [Math.min(...positions), Math.max(...positions)];
      offsets[chr] = offset;
      ticks.push({ at: offset + (low + high) / 2, label: chr });
      offset += high + 1;
    }
    const traces = chromosomes.map((chr, i) => {
      const mine = rows.filter((r) => String(r.chr) === chr);
      return {
        type: rows.length > 20000 ? "scattergl" : "scatter", // WebGL only where SVG is slow
        mode: "markers",
        name: `chr${chr}`,
        x: mine.map((r) => offsets[chr] + r.position),
        y: mine.map((r) => minusLog10(r.p)),
        customdata: mine.map((r) => r.rsid || `${r.chr}:${r.position}`),
        text: mine.map((r) => `${r.rsid || ""} ${r.chr}:${r.position} p=${formatP(r.p)}`),
        hoverinfo: "text",
        marker: { size: 6, color: i % 2 ? "#7a9cc6" : "#1b5e8a" },
      };
    });
    const div = plotDiv(section);
    const single = chromosomes.length === 1;
    await plot(div, traces, {
      showlegend: false,
      xaxis: single
        ? { title: { text: `chromosome ${chromosomes[0]} position` }, zeroline: false }
        : { tickvals: ticks.map((t) => t.at), ticktext: ticks.map((t) => t.label), title: { text: "chromosome" } },
      yaxis: { title: { text: "-log10 p" }, rangemode: "tozero" },
      shapes: [{
        type: "line", xref: "paper", x0: 0, x1: 1, y0: minusLog10(5e-8), y1: minusLog10(5e-8),
        line: { dash: "dot", color: "#a4161a", width: 1 },
      }],
    });
    div.on("plotly_click", (event) => chooseVariant(event.points[0].customdata));
    section.insertAdjacentHTML(
      "beforeend",
      `<p class="hint">${rows.length.toLocaleString()} associations; click a point for its PheWAS and LD. Dotted: p = 5e-8.</p>`,
    );
    ready(section);
  } catch (error) {
    if (current(section, ticket)) showError(section, error);
  }
}

async function tophits(study) {
  const section = $("tophits");
  if (!study) return;
  const ticket = loading(section, "Clumping top hits");
  const pval = Number(params().get("p") || "5e-8");
  if (!(pval > 0 && pval <= 1)) return showError(section, new Error("p must be in (0, 1]"));
  try {
    const { data } = await api("/gwas/tophits", { method: "POST", json: { id: [study], pval } });
    if (!current(section, ticket)) return;
    if (!data.length) {
      return showNote(section, `No independent hit at p < ${pval} in ${study}. Try a larger threshold.`);
    }
    section.innerHTML = `<div class="table-wrap"><table><thead><tr><th>rsid</th><th>Position</th>
      <th>EA/NEA</th><th>beta</th><th>se</th><th>p</th></tr></thead><tbody>${data
        .map(
          (r) => `<tr class="clickable" tabindex="0" data-variant="${escapeHtml(r.rsid)}"><td>${escapeHtml(
            r.rsid,
          )}</td><td>${escapeHtml(r.chr)}:${r.position}</td><td>${escapeHtml(r.ea)}/${escapeHtml(
            r.nea,
          )}</td><td>${r.beta}</td><td>${r.se}</td><td>${formatP(r.p)}</td></tr>`,
        )
        .join("")}</tbody></table></div>`;
    for (const tr of section.querySelectorAll("tr.clickable")) {
      tr.addEventListener("click", () => chooseVariant(tr.dataset.variant));
    }
    ready(section);
  } catch (error) {
    if (current(section, ticket)) showError(section, error);
  }
}

/** Points the Manhattan plot at the chosen variant (an annotation: no extra point). */
function markVariant(variant) {
  const div = document.querySelector("#manhattan .plot");
  if (!div || !div.data) return;
  const annotations = [];
  for (const trace of div.data) {
    const i = trace.customdata.indexOf(variant);
    if (i >= 0) {
      annotations.push({
        x: trace.x[i], y: trace.y[i], text: variant, showarrow: true, arrowhead: 2, ax: 0, ay: -35,
        bgcolor: "#fff", bordercolor: "#a4161a", font: { color: "#a4161a" },
      });
    }
  }
  window.Plotly.relayout(div, { annotations });
}

async function showVariant() {
  const variant = params().get("variant");
  $("variant").value = variant || "";
  markVariant(variant);
  if (!variant) {
    showNote($("phewas"), "Choose a variant: click a point or a top hit, or type an rsid.");
    showNote($("ld"), "Choose a variant first.");
    return;
  }
  const rows = await phewas(variant);
  await ld(variant, rows || []);
}

async function phewas(variant) {
  const section = $("phewas");
  const ticket = loading(section, `Looking ${variant} up in every study`);
  try {
    const { data } = await api("/gwas/phewas", { method: "POST", form: { variant, pval: 1 } });
    if (!current(section, ticket)) return data;
    if (!data.length) {
      showNote(section, `No study reports ${variant}.`);
      return data;
    }
    const div = plotDiv(section);
    await plot(div, [{
      type: "scatter",
      mode: "markers",
      x: data.map((r) => r.id),
      y: data.map((r) => minusLog10(r.p)),
      text: data.map((r) => `${r.trait}<br>beta ${r.beta} p=${formatP(r.p)}`),
      hoverinfo: "text",
      marker: {
        size: 11,
        symbol: data.map((r) => (r.beta >= 0 ? "triangle-up" : "triangle-down")),
        color: data.map((r) => (r.beta >= 0 ? "#1b5e8a" : "#c75b12")),
      },
    }], {
      xaxis: { type: "category", automargin: true, tickangle: -30 },
      yaxis: { title: { text: "-log10 p" }, rangemode: "tozero" },
      shapes: [{
        type: "line", xref: "paper", x0: 0, x1: 1, y0: minusLog10(0.05), y1: minusLog10(0.05),
        line: { dash: "dot", color: "#888", width: 1 },
      }],
    });
    section.insertAdjacentHTML(
      "beforeend",
      `<p class="hint">${data.length} studies report ${escapeHtml(variant)}; ▲ positive, ▼ negative effect; dotted: p = 0.05.</p>`,
    );
    ready(section);
    return data;
  } catch (error) {
    if (current(section, ticket)) showError(section, error);
    return null;
  }
}

async function ld(variant, phewasRows) {
  const section = $("ld");
  const ticket = loading(section, "Computing LD");
  const here = records.find((r) => r.rsid === variant) || phewasRows[0];
  const pool = records.filter((r) => r.rsid && String(r.chr) === String(here?.chr));
  if (!here || !pool.length) {
    showNote(section, "Choose a study with associations near this variant to see LD.");
    return;
  }
  const nearest = [...new Map(pool.map((r) => [r.rsid, r])).values()]
    .sort((a, b) => Math.abs(a.position - here.position) - Math.abs(b.position - here.position))
    .slice(0, 25)
    .sort((a, b) => a.position - b.position);
  try {
    const { data, headers } = await api("/gwas/ld/matrix", {
      method: "POST",
      form: { rsid: nearest.map((r) => r.rsid) },
    });
    if (!current(section, ticket)) return;
    const names = data.snplist.map((s) => s.split("_")[0]);
    if (names.length < 2) return showNote(section, "The LD panel holds fewer than two of these variants.");
    const z = data.matrix.map((row) => row.map(Number));
    const labels = names.map((n) => (n === variant ? `<b>▶ ${n}</b>` : n)); // the chosen one
    await plot(plotDiv(section), [{
      type: "heatmap", x: names, y: names, z, zmin: -1, zmax: 1, colorscale: "RdBu",
      colorbar: { title: { text: "r" }, thickness: 12 },
      hovertemplate: "%{x} / %{y}: r = %{z:.3f}<extra></extra>",
    }], {
      height: 520,
      margin: { t: 10, r: 10, b: 110, l: section.clientWidth < 600 ? 90 : 110 },
      xaxis: { tickangle: -60, type: "category", tickvals: names, ticktext: labels },
      yaxis: { autorange: "reversed", type: "category", tickvals: names, ticktext: labels },
    });
    const dropped = Number(headers.get("x-dropped-count") || 0);
    if (dropped) {
      section.insertAdjacentHTML("beforeend", `<p class="hint">${dropped} variants are not in the LD panel and are left out.</p>`);
    }
    ready(section);
  } catch (error) {
    if (current(section, ticket)) showError(section, error);
  }
}

$("study-filter").value = params().get("q") || "";
loadStudies();
showStudy();
