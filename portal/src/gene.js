// The gene page: search with suggestions, expression per tissue (violin or box), the
// median heatmap with its dendrograms, the eQTL table and, on click, expression by genotype.
import {
  api, current, escapeHtml, formatP, loading, params, plot, plotDiv, ready, renderHeader,
  setParams, showError, showNote,
} from "./common.js";
import { dendrogramLines, leaves, parseNewick } from "./newick.js";

renderHeader("gene.html");
const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;

// Suggestions: the release's genes (ID and description) from the catalog, read once per
// session, matched by ID prefix first, then by any part of the ID or description.
let genes = null;
async function geneList() {
  if (genes) return genes;
  const cached = sessionStorage.getItem("omicsgate.genes");
  if (cached) return (genes = JSON.parse(cached));
  const found = [];
  for (let skip = 0; skip < 20000; skip += 5000) {
    const { data } = await api(`/v2/genes/search?include=id,description&limit=5000&skip=${skip}`);
    const results = data.responses[0].results;
    found.push(...results.map((g) => [g.id, g.description || ""]));
    if (results.length < 5000) break;
  }
  try {
    sessionStorage.setItem("omicsgate.genes", JSON.stringify(found));
  } catch {
    /* too big for the session: kept in memory only */
  }
  return (genes = found);
}

async function suggest() {
  const query = $("gene").value.trim().toLowerCase();
  if (!query) return;
  let list;
  try {
    list = await geneList();
  } catch {
    return; // suggestions are a convenience: the search itself reports errors
  }
  const prefix = list.filter(([id]) => id.toLowerCase().startsWith(query));
  const part = list.filter(
    ([id, text]) =>
      !id.toLowerCase().startsWith(query) &&
      (id.toLowerCase().includes(query) || text.toLowerCase().includes(query)),
  );
  $("gene-suggestions").innerHTML = [...prefix, ...part]
    .slice(0, 12)
    .map(([id, text]) => `<option value="${escapeHtml(id)}">${escapeHtml(text)}</option>`)
    .join("");
}

let suggestTimer;
$("gene").addEventListener("input", () => {
  clearTimeout(suggestTimer);
  suggestTimer = setTimeout(suggest, 200);
});

$("search").addEventListener("submit", (event) => {
  event.preventDefault();
  const gene = $("gene").value.trim();
  if (!gene) return;
  setParams({ gene, hm: null, eqtl: null });
  show();
});

$("plot-kind").addEventListener("change", () => {
  setParams({ plot: $("plot-kind").value }, false);
  if (lastExpression) drawExpression(lastExpression);
});

$("heatmap-form").addEventListener("submit", (event) => {
  event.preventDefault();
  setParams({ hm: $("heatmap-genes").value.replace(/\s+/g, "") });
  heatmap(params().get("gene"));
});

window.addEventListener("popstate", show);

let lastExpression = null;

async function show() {
  const gene = params().get("gene");
  $("gene").value = gene || "";
  $("plot-kind").value = params().get("plot") === "box" ? "box" : "violin";
  const sections = ["expression", "heatmap", "eqtl"].map($);
  $("dyneqtl").hidden = true;
  if (!gene) {
    $("gene-info").textContent = "Search for a gene by its symbol or ID.";
    for (const section of sections) showNote(section, "No gene chosen yet.");
    return;
  }
  const ticket = loading($("gene-info"), `Looking up ${gene}`);
  let record;
  try {
    const { data } = await api(`/api/v4/gene?geneId=${enc(gene)}`);
    record = data.gene[0];
  } catch (error) {
    if (!current($("gene-info"), ticket)) return;
    showError($("gene-info"), error);
    for (const section of sections) showNote(section, "Nothing to show without a gene.");
    return;
  }
  if (!current($("gene-info"), ticket)) return;
  if (!record) {
    $("gene-info").dataset.state = "error";
    $("gene-info").innerHTML = `<p class="error" role="alert">No gene called “${escapeHtml(
      gene,
    )}” in this release. Check the spelling, or pick one of the suggestions.</p>`;
    for (const section of sections) showNote(section, "Nothing to show without a gene.");
    return;
  }
  const id = record.geneSymbol || record.gencodeId || gene;
  $("gene-info").dataset.state = "ready";
  $("gene-info").innerHTML = `<strong>${escapeHtml(id)}</strong> · ${escapeHtml(
    record.chromosome,
  )}:${Number(record.start).toLocaleString()}-${Number(record.end).toLocaleString()} (${escapeHtml(
    record.strand,
  )}) · ${escapeHtml(record.description || "")}`;
  await Promise.all([expression(id), heatmap(id), eqtls(id)]);
}

async function expression(gene) {
  const section = $("expression");
  const ticket = loading(section, "Loading expression");
  try {
    const { data } = await api(`/api/v4/geneExpression?geneId=${enc(gene)}`);
    if (!current(section, ticket)) return;
    lastExpression = data.geneExpression;
    if (!lastExpression.length) return showNote(section, "No expression data for this gene.");
    await drawExpression(lastExpression);
  } catch (error) {
    if (current(section, ticket)) showError(section, error);
  }
}

async function drawExpression(rows) {
  const section = $("expression");
  const kind = $("plot-kind").value;
  const traces = rows.map((row) => ({
    type: kind,
    y: row.data,
    name: row.tissueSiteDetailId,
    ...(kind === "violin"
      ? { box: { visible: true }, meanline: { visible: false }, points: false, spanmode: "hard" }
      : { boxpoints: false }),
    hoverinfo: "y+name",
  }));
  const unit = rows[0].unit || "TPM";
  await plot(plotDiv(section), traces, {
    showlegend: false,
    yaxis: { title: { text: unit }, zeroline: false },
    xaxis: { automargin: true },
  });
  ready(section);
}

async function heatmap(gene) {
  const section = $("heatmap");
  const ticket = loading(section, "Clustering medians");
  try {
    let wanted = params().get("hm");
    if (!wanted) {
      // The gene beside the most expressed genes of a tissue where it is expressed.
      const { data } = await api(`/api/v4/medianGeneExpression?geneId=${enc(gene)}`);
      const top = [...data.medianGeneExpression].sort((a, b) => b.median - a.median)[0];
      const others = top
        ? (await api(`/api/v4/topExpressedGene?tissueSiteDetailId=${enc(top.tissueSiteDetailId)}&filterMtGene=true`))
            .data.topExpressedGene.map((g) => g.geneId)
        : [];
      wanted = [gene, ...others.filter((g) => g.toLowerCase() !== gene.toLowerCase())]
        .slice(0, 8)
        .join(",");
    }
    $("heatmap-genes").value = wanted;
    const { data } = await api(`/api/v4/medianGeneExpression?geneId=${enc(wanted)}`);
    if (!current(section, ticket)) return;
    if (!data.medianGeneExpression.length) return showNote(section, "No medians for these genes.");
    await drawHeatmap(section, data);
  } catch (error) {
    if (current(section, ticket)) showError(section, error);
  }
}

function tree(newick) {
  if (!newick || !newick.includes("(")) return null; // "Not enough data"
  try {
    return parseNewick(newick);
  } catch {
    return null;
  }
}

async function drawHeatmap(section, data) {
  const rows = data.medianGeneExpression;
  const geneTree = tree(data.clusters?.gene);
  const tissueTree = tree(data.clusters?.tissue);
  const unique = (values) => [...new Set(values)];
  const geneOrder = geneTree ? leaves(geneTree) : unique(rows.map((r) => r.geneId));
  const tissueOrder = tissueTree ? leaves(tissueTree) : unique(rows.map((r) => r.tissueSiteDetailId));
  const z = geneOrder.map(() => tissueOrder.map(() => null));
  const text = geneOrder.map(() => tissueOrder.map(() => ""));
  for (const row of rows) {
    const g = geneOrder.indexOf(row.geneId);
    const t = tissueOrder.indexOf(row.tissueSiteDetailId);
    if (g < 0 || t < 0) continue;
    z[g][t] = Math.log10(row.median + 1);
    text[g][t] = `${row.geneId} in ${row.tissueSiteDetailId}: ${row.median} TPM`;
  }
  const index = (list) => list.map((_, i) => i);
  const traces = [
    {
      type: "heatmap",
      x: index(tissueOrder),
      y: index(geneOrder),
      z,
      text,
      hoverinfo: "text",
      colorscale: "Viridis",
      colorbar: {
        title: { text: "log10(TPM+1)", side: "top" }, orientation: "h", thickness: 10,
        lenmode: "pixels", len: 160, x: 1, xanchor: "right", y: 1.01, yanchor: "bottom",
      },
    },
  ];
  if (tissueTree) {
    const lines = dendrogramLines(tissueTree);
    traces.push({
      type: "scatter", mode: "lines", x: lines.along, y: lines.height, yaxis: "y2",
      line: { color: "#555", width: 1 }, hoverinfo: "skip", name: "tissues",
    });
  }
  if (geneTree) {
    const lines = dendrogramLines(geneTree);
    traces.push({
      type: "scatter", mode: "lines", x: lines.height, y: lines.along, xaxis: "x2",
      line: { color: "#555", width: 1 }, hoverinfo: "skip", name: "genes",
    });
  }
  const narrow = section.clientWidth < 600;
  const left = geneTree ? (narrow ? 0.12 : 0.1) : 0;
  const top = tissueTree ? 0.78 : 1;
  const hidden = { showgrid: false, zeroline: false, showticklabels: false, ticks: "" };
  await plot(plotDiv(section), traces, {
    showlegend: false,
    height: Math.max(380, 200 + 26 * geneOrder.length),
    margin: { t: 50, r: 70, b: 90, l: 10 },
    xaxis: {
      domain: [left + 0.01, 1], tickvals: index(tissueOrder), ticktext: tissueOrder,
      tickangle: -45, showgrid: false, zeroline: false, range: [-0.5, tissueOrder.length - 0.5],
    },
    yaxis: {
      domain: [0, top - 0.01], tickvals: index(geneOrder), ticktext: geneOrder, side: "right",
      showgrid: false, zeroline: false, range: [-0.5, geneOrder.length - 0.5],
    },
    xaxis2: { ...hidden, domain: [0, left], autorange: "reversed" },
    yaxis2: { ...hidden, domain: [top, 1], anchor: "x" },
  });
  section.dataset.genes = geneOrder.join(",");
  section.dataset.tissues = tissueOrder.join(",");
  ready(section);
}

async function eqtls(gene) {
  const section = $("eqtl");
  const ticket = loading(section, "Loading eQTLs");
  try {
    const { data } = await api(`/api/v4/eqtl?geneId=${enc(gene)}`);
    if (!current(section, ticket)) return;
    const rows = data.eqtl;
    if (!rows.length) return showNote(section, "No independent eQTL for this gene.");
    section.innerHTML = `<div class="table-wrap"><table><thead><tr><th>Tissue</th><th>Variant</th>
      <th>REF&gt;ALT</th><th>p (beta)</th><th>log2 aFC</th></tr></thead><tbody>${rows
        .map(
          (r) => `<tr class="clickable" tabindex="0" data-tissue="${escapeHtml(
            r.tissueSiteDetailId,
          )}" data-variant="${escapeHtml(r.variantId)}"><td>${escapeHtml(
            r.tissueSiteDetailId,
          )}</td><td>${escapeHtml(r.variantId)}</td><td>${escapeHtml(r.ref)}&gt;${escapeHtml(
            r.alt,
          )}</td><td>${formatP(r.pValueBeta)}</td><td>${
            r.log2aFC === null ? "" : Number(r.log2aFC).toFixed(2)
          }</td></tr>`,
        )
        .join("")}</tbody></table></div>`;
    for (const tr of section.querySelectorAll("tr.clickable")) {
      const open = () => {
        setParams({ eqtl: `${tr.dataset.tissue}|${tr.dataset.variant}` });
        dyneqtl(gene);
      };
      tr.addEventListener("click", open);
      tr.addEventListener("keydown", (event) => event.key === "Enter" && open());
    }
    ready(section);
    if (params().get("eqtl")) await dyneqtl(gene);
  } catch (error) {
    if (current(section, ticket)) showError(section, error);
  }
}

async function dyneqtl(gene) {
  const section = $("dyneqtl");
  const [tissue, variant] = (params().get("eqtl") || "").split("|");
  if (!tissue || !variant) return;
  for (const tr of $("eqtl").querySelectorAll("tr.clickable")) {
    tr.classList.toggle("selected", tr.dataset.tissue === tissue && tr.dataset.variant === variant);
  }
  section.hidden = false;
  const ticket = loading(section, `Regressing ${gene} on ${variant} in ${tissue}`);
  try {
    const { data } = await api(
      `/api/v4/dyneqtl?geneId=${enc(gene)}&variantId=${enc(variant)}&tissueSiteDetailId=${enc(tissue)}`,
    );
    if (!current(section, ticket)) return;
    const labels = [data.ref + data.ref, data.ref + data.alt, data.alt + data.alt];
    const byDose = [[], [], []];
    const xs = [];
    const ys = [];
    data.genotypes.forEach((dose, i) => {
      if (dose === null || dose === undefined) return;
      byDose[dose].push(data.data[i]);
      xs.push(dose);
      ys.push(data.data[i]);
    });
    const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
    const intercept = mean(ys) - data.slope * mean(xs);
    const traces = byDose.map((values, dose) => ({
      type: "box", x: values.map(() => dose), y: values, name: `${labels[dose]} (${values.length})`,
      boxpoints: "all", jitter: 0.5, pointpos: 0, marker: { size: 4, opacity: 0.6 },
    }));
    traces.push({
      type: "scatter", mode: "lines", x: [0, 2], y: [intercept, intercept + 2 * data.slope],
      name: `slope ${data.slope.toFixed(3)}`, line: { color: "#a4161a", width: 2 },
    });
    section.innerHTML = `<h2>${escapeHtml(gene)} by ${escapeHtml(variant)} genotype in ${escapeHtml(
      tissue,
    )}</h2><p class="hint">p = ${formatP(data.pValue)} (threshold ${formatP(
      data.pValueThreshold,
    )}), NES ${Number(data.nes).toFixed(3)}, MAF ${Number(data.maf).toFixed(3)}</p>`;
    const div = document.createElement("div");
    div.className = "plot";
    section.append(div);
    await plot(div, traces, {
      showlegend: true,
      legend: { orientation: "h", y: -0.15 },
      xaxis: { tickvals: [0, 1, 2], ticktext: labels, range: [-0.6, 2.6] },
      yaxis: { title: { text: "TPM" }, zeroline: false },
    });
    ready(section);
  } catch (error) {
    if (current(section, ticket)) showError(section, error);
  }
}

show();
