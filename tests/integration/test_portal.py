"""The portal (/portal/) and API reference (/docs/) in headless Chromium, against the local
API on the demo release: every page loads without console errors, each plot holds as many
points as the API's own answer, a bad gene name is said in words, and the docs list every
group's routes. A screenshot of each page goes to test-artifacts/portal/ (git-ignored).

Needs Debian's chromium at /usr/bin/chromium (``make test`` installs it as root with apt;
playwright's own browser download does not work here): skipped, saying so, without it."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from omicsgate.localapi.devtools import reset_settings, use_store
from omicsgate.localapi.template import load_template
from tests.conftest import ROOT, TEMPLATE, built_portal
from tests.integration.test_local_api import start_server, stop
from tests.tokens import user_token

pytestmark = pytest.mark.integration
# Debian's chromium here; another Chromium-based browser where there is none (GitHub's
# runners have Google Chrome: .github/workflows/ci.yml sets OMICSGATE_CHROMIUM).
CHROMIUM = Path(os.environ.get("OMICSGATE_CHROMIUM") or "/usr/bin/chromium")
ARTIFACTS = ROOT / "test-artifacts" / "portal"
# Chromium as root, headless, without the background connections a closed network refuses.
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Every visible section has answered (ready, error or a note): no spinner left.
SETTLED = """() => [...document.querySelectorAll('main > section')].filter(s => !s.hidden)
  .every(s => s.dataset.state && s.dataset.state !== 'loading')"""


@pytest.fixture(scope="module")
def browser(portal: str) -> Iterator[Any]:
    # After the portal's server: seeding runs handlers (Mangum's event loop), which cannot
    # run in a thread where playwright's sync API already runs one.
    if not CHROMIUM.exists():
        pytest.skip(
            f"no Chromium at {CHROMIUM}: install Debian's chromium (make test does, as root "
            "with apt) or set OMICSGATE_CHROMIUM to a Chromium-based browser"
        )
    sync_api = pytest.importorskip("playwright.sync_api", reason="pip package playwright")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def portal(local_data: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The local API on a copy of the demo data with the demo TRS registry, serving the
    built portal (built here when missing)."""
    dist = built_portal()
    data = tmp_path_factory.mktemp("portal") / "data"
    shutil.copytree(local_data, data)
    from omicsgate.ingest.demo_trs import seed_registry

    use_store(str(data))
    try:
        seed_registry(str(TEMPLATE))
    finally:
        reset_settings()
    process, url = start_server(TEMPLATE, str(data), "--portal", str(dist))
    try:
        yield url
    finally:
        stop(process)


class Page:
    """A browser page that records console errors and uncaught exceptions."""

    def __init__(self, browser: Any, base: str, width: int = 1280) -> None:
        self.base = base
        self.errors: list[str] = []
        self.page = browser.new_page(viewport={"width": width, "height": 900})
        self.page.on(
            "console",
            lambda m: self.errors.append(m.text) if m.type == "error" else None,
        )
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))

    def open(self, path: str) -> Any:
        self.page.goto(self.base + path)
        self.settle()
        return self.page

    def settle(self) -> None:
        self.page.wait_for_function(SETTLED, timeout=30_000)

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)

    def plot(self, selector: str) -> list[dict[str, Any]]:
        """The traces Plotly drew in the plot under ``selector``."""
        found = self.page.evaluate(
            """s => (document.querySelector(s + ' .plot') || {}).data || null""", selector
        )
        assert found is not None, f"no plot in {selector}"
        return list(found)


@pytest.fixture
def page(browser: Any, portal: str) -> Iterator[Page]:
    opened = Page(browser, portal)
    yield opened
    opened.page.close()
    assert opened.errors == [], opened.errors


def api(base: str, path: str, **kwargs: Any) -> httpx.Response:
    method = "POST" if ("data" in kwargs or "json" in kwargs) else "GET"
    response = httpx.request(method, base + path, timeout=30, **kwargs)
    assert response.status_code == 200, response.text
    return response


def newick_leaves(newick: str) -> list[str]:
    return re.findall(r"[(,]([^:(),;]+):", newick)


def test_home_links_every_page(page: Page) -> None:
    home = page.open("/portal/")
    links = home.eval_on_selector_all("header nav a", "as => as.map(a => a.pathname)")
    assert links == [
        "/portal/gene.html",
        "/portal/gwas.html",
        "/portal/tools.html",
        "/portal/signin.html",
        "/docs/",
    ]
    page.shot("home")


def test_gene_page_plots_the_apis_answers(page: Page, portal: str) -> None:
    gene = page.open("/portal/gene.html?gene=Cd300lf")
    assert "CD300 molecule" in gene.inner_text("#gene-info")
    # Violins: one per tissue, each with every sample's TPM.
    expression = api(portal, "/api/v4/geneExpression?geneId=Cd300lf").json()["geneExpression"]
    traces = page.plot("#expression")
    assert [t["type"] for t in traces] == ["violin"] * len(expression)
    assert {t["name"]: len(t["y"]) for t in traces} == {
        r["tissueSiteDetailId"]: len(r["data"]) for r in expression
    }
    # Heatmap: one cell per median, genes and tissues in the order of the dendrograms.
    genes = gene.input_value("#heatmap-genes")
    assert genes.split(",")[0] == "Cd300lf" and len(genes.split(",")) > 2
    medians = api(portal, f"/api/v4/medianGeneExpression?geneId={genes}").json()
    heatmap, *dendrograms = page.plot("#heatmap")
    cells = [z for row in heatmap["z"] for z in row if z is not None]
    assert len(cells) == len(medians["medianGeneExpression"])
    assert len(dendrograms) == 2
    section = gene.locator("#heatmap")
    assert section.get_attribute("data-genes") == ",".join(
        newick_leaves(medians["clusters"]["gene"])
    )
    assert section.get_attribute("data-tissues") == ",".join(
        newick_leaves(medians["clusters"]["tissue"])
    )
    # eQTL table: a row per independent eQTL; a click plots expression by genotype.
    eqtls = api(portal, "/api/v4/eqtl?geneId=Cd300lf").json()["eqtl"]
    rows = gene.locator("#eqtl tbody tr")
    assert rows.count() == len(eqtls)
    rows.nth(1).click()
    page.settle()
    tissue, variant = eqtls[1]["tissueSiteDetailId"], eqtls[1]["variantId"]
    assert parse_qs(urlsplit(gene.url).query)["eqtl"] == [f"{tissue}|{variant}"]
    dyn = api(
        portal,
        f"/api/v4/dyneqtl?geneId=Cd300lf&variantId={variant}&tissueSiteDetailId={tissue}",
    ).json()
    *boxes, line = page.plot("#dyneqtl")
    assert sum(len(b["y"]) for b in boxes) == sum(g is not None for g in dyn["genotypes"])
    assert [len(b["y"]) for b in boxes] == [
        dyn["homoRefCount"],
        dyn["hetCount"],
        dyn["homoAltCount"],
    ]
    slope = (line["y"][1] - line["y"][0]) / (line["x"][1] - line["x"][0])
    assert slope == pytest.approx(dyn["slope"])
    page.shot("gene")
    # Box plots instead of violins, kept in the URL.
    gene.select_option("#plot-kind", "box")
    gene.wait_for_function(
        "() => document.querySelector('#expression .plot').data[0].type === 'box'"
    )
    assert "plot=box" in gene.url


def test_gene_search_suggests_and_a_bad_name_is_said_in_words(page: Page) -> None:
    gene = page.open("/portal/gene.html")
    gene.fill("#gene", "cd30")
    gene.wait_for_function(
        "() => [...document.querySelectorAll('#gene-suggestions option')]"
        ".some(o => o.value === 'Cd300lf')"
    )
    gene.fill("#gene", "NoSuchGene1")
    gene.press("#gene", "Enter")
    page.settle()
    message = gene.inner_text("#gene-info .error")
    assert "No gene called “NoSuchGene1”" in message
    assert "gene=NoSuchGene1" in gene.url
    page.shot("gene-unknown")


@pytest.mark.parametrize(
    "name, path",
    [
        ("gene", "/portal/gene.html?gene=Cd300lf"),
        ("gwas", "/portal/gwas.html?study=ieu-a-2&variant=rs12565286"),
        ("tools", "/portal/tools.html?tool=cwl-utils-md5sum"),
        ("signin", "/portal/signin.html"),
    ],
)
def test_pages_fit_a_phone(browser: Any, portal: str, name: str, path: str) -> None:
    phone = Page(browser, portal, width=390)
    try:
        opened = phone.open(path)
        assert opened.evaluate("document.documentElement.scrollWidth") <= 390
        phone.shot(f"{name}-phone")
        assert phone.errors == []
    finally:
        phone.page.close()


def test_gwas_page_plots_a_study_its_phewas_and_ld(page: Page, portal: str) -> None:
    gwas = page.open("/portal/gwas.html?study=ieu-a-2&variant=rs12565286")
    studies = api(portal, "/gwas/gwasinfo").json()
    assert gwas.locator("#studies tbody tr").count() == len(studies)
    every = api(portal, "/gwas/tophits", json={"id": ["ieu-a-2"], "pval": 1, "clump": 0})
    manhattan = page.plot("#manhattan")
    assert sum(len(t["x"]) for t in manhattan) == int(every.headers["x-total-count"]) > 0
    # Top hits: none at 5e-8 in this excerpt, said so; at 0.05 a table.
    assert "No independent hit" in gwas.inner_text("#tophits")
    gwas.fill("#tophits-p", "0.05")
    gwas.click("#tophits-form button")
    page.settle()
    hits = api(portal, "/gwas/tophits", json={"id": ["ieu-a-2"], "pval": 0.05}).json()
    assert gwas.locator("#tophits tbody tr").count() == len(hits) > 0
    phewas = api(portal, "/gwas/phewas", data={"variant": "rs12565286", "pval": 1}).json()
    (points,) = page.plot("#phewas")
    assert len(points["y"]) == len(phewas) > 0
    (ld,) = page.plot("#ld")
    matrix = api(portal, "/gwas/ld/matrix", data={"rsid": ld["x"]}).json()
    assert [s.split("_")[0] for s in matrix["snplist"]] == ld["x"] == ld["y"]
    assert ld["z"] == [[float(v) for v in row] for row in matrix["matrix"]]
    assert "rs12565286" in ld["x"]
    page.shot("gwas")
    # A study chosen from the list replaces the state in the URL.
    gwas.fill("#study-filter", "height")
    assert gwas.locator("#studies tbody tr").count() == 1
    gwas.click("#studies tbody tr")
    page.settle()
    assert "study=demo-a-1" in gwas.url and "variant=" not in gwas.url


def test_tools_page_reads_descriptors(page: Page, portal: str) -> None:
    tools = page.open("/portal/tools.html")
    registry = api(portal, "/ga4gh/trs/v2/tools").json()
    assert tools.locator("#tools tbody tr").count() == len(registry) > 0
    tools.click("#tools tbody tr[data-id='cwl-utils-md5sum']")
    page.settle()
    assert "tool=cwl-utils-md5sum" in tools.url
    path = "/ga4gh/trs/v2/tools/cwl-utils-md5sum/versions/1/CWL/descriptor"
    assert tools.inner_text("#descriptor-text") == api(portal, path).json()["content"]
    # Another descriptor type of a tool with several, from a shared link.
    (version,) = next(t for t in registry if t["id"] == "omicsgate-ingest-gwas")["versions"]
    link = f"/portal/tools.html?tool=omicsgate-ingest-gwas&version={version['id']}&type=WDL"
    tools = page.open(link)
    path = f"/ga4gh/trs/v2/tools/omicsgate-ingest-gwas/versions/{version['id']}/WDL/descriptor"
    assert tools.inner_text("#descriptor-text") == api(portal, path).json()["content"]
    page.shot("tools")


def test_sign_in_keeps_the_token_in_the_session_and_shows_the_allowance(page: Page) -> None:
    signin = page.open("/portal/signin.html")
    assert "Not signed in" in signin.inner_text("#user")
    signin.fill("#token", user_token("alice"))
    signin.click("#signin button[type=submit]")
    page.settle()
    assert "alice" in signin.inner_text("#user")
    left = int(signin.inner_text("#allowance-left").split(" of ")[0].replace(",", ""))
    assert left > 0
    assert signin.get_attribute("#allowance", "data-left") == str(left)
    assert signin.evaluate("sessionStorage.getItem('omicsgate.token')")
    assert signin.evaluate("localStorage.length") == 0
    page.shot("signin")
    signin.click("#signout")
    page.settle()
    assert signin.evaluate("sessionStorage.getItem('omicsgate.token')") is None
    assert "Not signed in" in signin.inner_text("#user")


def test_links_restore_the_state_and_back_goes_back(page: Page) -> None:
    gwas = page.open("/portal/gwas.html?study=ieu-a-2&p=0.05")
    assert gwas.inner_text("#study-title") == "Manhattan plot: ieu-a-2"
    assert gwas.input_value("#tophits-p") == "0.05"
    gwas.click("#studies tbody tr[data-id='demo-a-2']")
    page.settle()
    assert gwas.inner_text("#study-title") == "Manhattan plot: demo-a-2"
    gwas.go_back()
    gwas.wait_for_function(
        "() => document.querySelector('#study-title').textContent.endsWith('ieu-a-2')"
    )
    page.settle()
    assert "study=ieu-a-2" in gwas.url


def test_docs_list_every_groups_routes(page: Page, portal: str) -> None:
    """One group per function of the template, each showing every operation its own
    OpenAPI document (a route of that function) holds."""
    docs_js = (ROOT / "portal" / "src" / "docs" / "docs.js").read_text()
    groups = dict(re.findall(r'id: "(\w+)".*url: "([^"]+)"', docs_js))
    template = load_template(str(TEMPLATE))
    owners = {template.route_for("GET", url)[0].function for url in groups.values()}  # type: ignore[index]
    # Every API group; PortalFunction serves these pages, it is no API.
    assert owners == set(template.functions) - {"PortalFunction"}
    docs = page.open("/docs/")
    for group, url in groups.items():
        docs.click(f"#groups a[data-group='{group}']")
        docs.wait_for_selector(f"#swagger[data-group='{group}'][data-state='ready']")
        docs.wait_for_selector(".opblock")
        shown = set(
            docs.eval_on_selector_all(
                ".opblock",
                """os => os.map(o => o.querySelector('.opblock-summary-method').textContent
                  + ' ' + o.querySelector('[data-path]').dataset.path)""",
            )
        )
        document = api(portal, url).json()
        listed = {f"{m.upper()} {p}" for p, item in document["paths"].items() for m in item}
        assert shown == listed, group
        assert parse_qs(urlsplit(docs.url).query)["group"] == [group]
        page.shot(f"docs-{group}")


def test_docs_try_it_calls_this_deployment_with_the_signed_in_token(page: Page) -> None:
    docs = page.open("/docs/?group=gwas")
    docs.evaluate("t => sessionStorage.setItem('omicsgate.token', t)", user_token("alice"))
    docs.reload()
    page.settle()
    operation = docs.locator("#operations-user-user_gwas_user_get")
    operation.locator(".opblock-summary-control").click()
    operation.locator("button.try-out__btn").click()
    operation.locator("button.execute").click()
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    assert page.base + "/gwas/user" in operation.locator(".request-url pre").inner_text()
    assert (
        '"alice"' in operation.locator(".live-responses-table tbody .microlight").first.inner_text()
    )
    page.shot("docs-try-it")
