"""A shared leak check: restricted datasets must be invisible outside their groups.

Every endpoint group registers probes here. A probe is a request template in which
``{dataset}`` stands for a dataset ID. For each probe the check asks, as an anonymous
caller and as a signed-in user of another group:

- with the restricted dataset's ID: the answer must equal the answer for an ID that
  does not exist (status and body, the echoed ID aside);
- and no answer may contain any marker of the restricted dataset (ID, name, values)
  beyond the ID the caller typed.

Later groups add ``Probe`` entries to ``PROBES`` (and markers to their fixtures).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from omicsgate.localapi.events import http_api_event
from tests.conftest import Caller


@dataclass(frozen=True)
class Probe:
    method: str
    path: str
    query: str = ""
    body: str | None = None  # JSON, sent as is (a POST's)

    def event(self, dataset: str, token: str | None) -> dict[str, Any]:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        if self.body is not None:
            headers["content-type"] = "application/json"
        return http_api_event(
            self.method,
            self.path.format(dataset=dataset),
            self.query.format(dataset=dataset),
            headers=headers,
            body=None if self.body is None else self.body.replace("{dataset}", dataset).encode(),
        )


PROBES: list[Probe] = [
    Probe("GET", "/api/v4/dataset"),
    Probe("GET", "/api/v4/tissueInfo", "datasetId={dataset}"),
    Probe("GET", "/api/v4/gene", "geneId=Eno1,Actb&datasetId={dataset}"),
    Probe("GET", "/api/v4/exon", "geneId=Eno1&datasetId={dataset}"),
    Probe("GET", "/api/v4/variant", "variantId=chr1:1583934&datasetId={dataset}"),
    Probe("GET", "/gwas/user"),
    Probe("GET", "/api/v4/geneExpression", "geneId=Eno1&datasetId={dataset}"),
    Probe("GET", "/api/v4/medianGeneExpression", "geneId=Eno1,Actb&datasetId={dataset}"),
    Probe("GET", "/api/v4/topExpressedGene", "tissueSiteDetailId=IL&datasetId={dataset}"),
    Probe("GET", "/api/v4/eqtl", "geneId=Eno1&datasetId={dataset}"),
    Probe("GET", "/api/v4/singleTissueEqtl", "geneId=Eno1&datasetId={dataset}"),
    Probe("GET", "/api/v4/xqtl", "geneId=Eno1&datasetId={dataset}"),
    Probe(
        "GET",
        "/api/v4/dyneqtl",
        "geneId=Eno1&variantId=chr1:1583934&tissueSiteDetailId=IL&datasetId={dataset}",
    ),
    Probe(
        "POST",
        "/api/v4/dyneqtl",
        "datasetId={dataset}",
        '[{"geneId": "Eno1", "variantId": "chr1:1583934", "tissueSiteDetailId": "IL"}]',
    ),
    # RNAget: a release with expression is a project, each tissue a study.
    Probe("GET", "/rnaget/projects"),
    Probe("GET", "/rnaget/projects/{dataset}"),
    Probe("GET", "/rnaget/projects", "name={dataset}"),
    Probe("GET", "/rnaget/projects/filters"),
    Probe("GET", "/rnaget/studies"),
    Probe("GET", "/rnaget/studies", "parentProjectID={dataset}"),
    Probe("GET", "/rnaget/studies/{dataset}:IL"),
    Probe("GET", "/rnaget/studies/filters"),
    # RNAget continuous: every demo release has ``<release>-signal`` on its first study.
    Probe("GET", "/rnaget/continuous/formats"),
    Probe("GET", "/rnaget/continuous/filters"),
    Probe("GET", "/rnaget/continuous/{dataset}-signal/ticket"),
    Probe("GET", "/rnaget/continuous/{dataset}-signal/bytes", "chr=chr1&start=0&end=10"),
    Probe("GET", "/rnaget/continuous/ticket", "format=tsv&projectID={dataset}"),
    Probe("GET", "/rnaget/continuous/bytes", "format=loom&projectID={dataset}&chr=chr1"),
    Probe("GET", "/rnaget/continuous/ticket", "format=tsv&studyID={dataset}:Adipose"),
    # a track named in a search: found only if its matrix is visible
    Probe(
        "GET", "/rnaget/continuous/ticket", "format=tsv&sampleIDList={dataset}-signal/pyranges_bw"
    ),
    Probe("GET", "/rnaget/continuous/ticket", "format=tsv&chr=chrUn"),
    # RNAget expressions: a release tissue's expression ID is its study ID.
    Probe("GET", "/rnaget/expressions/formats"),
    Probe("GET", "/rnaget/expressions/units"),
    Probe("GET", "/rnaget/expressions/filters"),
    Probe("GET", "/rnaget/expressions/filters", "type=sample"),
    Probe("GET", "/rnaget/expressions/{dataset}:IL/ticket"),
    Probe("GET", "/rnaget/expressions/{dataset}:IL/bytes", "format=tsv&featureIDList=Eno1"),
    Probe("GET", "/rnaget/expressions/ticket", "format=tsv&projectID={dataset}"),
    Probe("GET", "/rnaget/expressions/bytes", "format=loom&studyID={dataset}:IL&sex=female"),
    Probe("GET", "/rnaget/expressions/ticket", "format=h5ad&studyID={dataset}:IL&units=TPM"),
    Probe("GET", "/rnaget/files/{dataset}.tsv", "expires=1&signature=00"),
    # Catalog (OpenCGA conventions): a release is a project, each tissue an expression study;
    # release-scoped resources take it as ``project``.
    Probe("GET", "/v2/projects/search", "limit=5000&count=true"),
    Probe("GET", "/v2/projects/search", "name={dataset}&count=true"),
    Probe("GET", "/v2/projects/{dataset}/info"),
    Probe("GET", "/v2/projects/{dataset},ratgtex_v4_demo/info", "silent=true"),
    Probe("GET", "/v2/projects/{dataset}/studies"),
    Probe("GET", "/v2/studies/search", "limit=5000&count=true"),
    Probe("GET", "/v2/studies/search", "project={dataset}&count=true"),
    Probe("GET", "/v2/studies/{dataset}:IL/info"),
    Probe("GET", "/v2/studies/{dataset}:IL,ratgtex_v4_demo:IL/info", "silent=true&include=id"),
    Probe("GET", "/v2/studies/{dataset}:IL/samples", "silent=true"),
    Probe("GET", "/v2/samples/search", "project={dataset}"),
    Probe("GET", "/v2/tissues/IL/info", "project={dataset}"),
    Probe("GET", "/v2/tissues/search", "project={dataset}"),
    Probe("GET", "/v2/genes/Eno1/info", "project={dataset}"),
    Probe("GET", "/v2/genes/search", "project={dataset}&region=chr1:1-5000000"),
    Probe("GET", "/v2/genes/Eno1/eqtls", "project={dataset}"),
    Probe("GET", "/v2/variants/search", "project={dataset}&region=chr1:1-5000000"),
    Probe("GET", "/v2/variants/chr1:1583934/info", "project={dataset}"),
    Probe("GET", "/v2/meta/status"),
]


# The GWAS group: ``{dataset}`` is a study ID (the demo's restricted study against one that
# does not exist). Study-less routes must not count, list or answer with it either.
_EVERYWHERE = "1:10177-1208195"  # the demo studies' whole region
GWAS_PROBES: list[Probe] = [
    Probe("GET", "/gwas/status"),
    Probe("GET", "/gwas/batches"),
    Probe("GET", "/gwas/gwasinfo"),
    Probe("POST", "/gwas/gwasinfo", body='{"id": ["{dataset}", "ieu-a-2"]}'),
    Probe("POST", "/gwas/gwasinfo", body="{}"),
    Probe("POST", "/gwas/gwasinfo/files", body='{"id": ["{dataset}", "ieu-a-2"]}'),
    Probe("GET", "/gwas/files/{dataset}/{dataset}.vcf.gz", "expires=1&signature=00"),
    Probe("POST", "/gwas/associations", body='{"id": ["{dataset}"], "variant": ["rs12565286"]}'),
    Probe(
        "POST", "/gwas/associations", body='{"id": ["ieu-a-2", "{dataset}"], "variant": ["1:1-2"]}'
    ),
    Probe("POST", "/gwas/tophits", body='{"id": ["{dataset}"], "pval": 1, "clump": 0}'),
    Probe("POST", "/gwas/tophits", body='{"id": ["{dataset}"]}'),
    # PheWAS at one variant every demo study reports, at any p: cheap (anonymous callers
    # share a per-IP allowance over the session) and the restricted study has a row there.
    Probe("POST", "/gwas/phewas", body='{"variant": ["rs12565286"], "pval": 1}'),
    Probe(
        "POST",
        "/gwas/phewas",
        body='{"variant": ["rs12565286"], "pval": 1, "index_list": ["demo-a"]}',
    ),
    Probe("POST", "/gwas/variants/rsid", body='{"rsid": ["rs12565286"]}'),
    Probe("POST", "/gwas/variants/chrpos", body=f'{{"chrpos": ["{_EVERYWHERE}"]}}'),
    Probe("GET", "/gwas/variants/gene/SAMD11", "radius=100000"),
    Probe("GET", "/gwas/variants/chrpos/1:10177-1208195"),
    Probe("POST", "/gwas/tophits", body='{"id": ["{dataset}"], "pval": 0.001, "r2": 0.01}'),
    Probe(
        "POST",
        "/gwas/associations",
        body='{"id": ["{dataset}", "ieu-a-2"], "variant": ["rs3131971", "rs12565286"]}',
    ),
    Probe(
        "POST", "/gwas/ld/clump", body='{"rsid": ["rs12565286", "rs3131971"], "pval": [1e-9, 1e-3]}'
    ),
    Probe("POST", "/gwas/ld/matrix", body='{"rsid": ["rs12565286", "rs11804171"]}'),
    Probe("POST", "/gwas/ld/reflookup", body='{"rsid": ["rs12565286"]}'),
    Probe("POST", "/gwas/variants/afl2", body=f'{{"chrpos": ["{_EVERYWHERE}"]}}'),
    Probe("GET", "/gwas/variants/afl2/snplist"),
    # Catalog: a GWAS study is a study of its batch's project; its rows are associations.
    Probe("GET", "/v2/studies/{dataset}/info"),
    Probe("GET", "/v2/studies/{dataset},ieu-a-2/info", "silent=true"),
    Probe("GET", "/v2/studies/{dataset}/samples", "silent=true"),
    Probe("GET", "/v2/studies/search", "type=gwas&limit=5000&count=true"),
    Probe("GET", "/v2/studies/search", "trait=synthetic&count=true"),
    Probe("GET", "/v2/projects/search", "type=gwas&count=true"),
    Probe("GET", "/v2/projects/demo-a/studies", "count=true&limit=5000"),
    Probe("GET", "/v2/variants/rs12565286/associations", "limit=5000&count=true"),
    Probe("GET", "/v2/variants/rs12565286/info"),
    Probe("GET", "/v2/variants/search", f"region={_EVERYWHERE}&source=gwas&count=true"),
]


def _normalised(body: Any, dataset: str) -> str:
    text = json.dumps(body, sort_keys=True)
    body_without_request_id = json.loads(text)
    if isinstance(body_without_request_id, dict):
        body_without_request_id.pop("requestId", None)
        if "responses" in body_without_request_id:  # a catalog envelope times each answer
            body_without_request_id = _untimed(body_without_request_id)
    return json.dumps(body_without_request_id, sort_keys=True).replace(dataset, "<dataset>")


def _untimed(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _untimed(v) for k, v in value.items() if k != "time"}
    if isinstance(value, list):
        return [_untimed(v) for v in value]
    return value


def assert_invisible(
    call: Caller, probe: Probe, token: str | None, restricted: str, missing: str, markers: list[str]
) -> None:
    if probe.path == "/gwas/user" and token is None:
        return  # needs a token: nothing to see anonymously
    secret = call.event(probe.event(restricted, token))
    absent = call.event(probe.event(missing, token))
    assert secret[0] == absent[0], (probe, secret[1])
    assert _normalised(secret[1], restricted) == _normalised(absent[1], missing), probe
    typed = "{dataset}" in probe.query + probe.path + (probe.body or "")
    shown = json.dumps(secret[1]).replace(restricted, "") if typed else json.dumps(secret[1])
    for marker in markers:
        assert marker not in shown, (probe, marker)


# The TRS group: ``{dataset}`` is a tool ID (a tool restricted to a group, against one that
# does not exist). Listings and searches must not show or count it.
_TRS_VERSION = "/ga4gh/trs/v2/tools/{dataset}/versions/1.0"
TRS_PROBES: list[Probe] = [
    Probe("GET", "/ga4gh/trs/v2/tools"),
    Probe("GET", "/ga4gh/trs/v2/tools", "id={dataset}"),
    Probe("GET", "/ga4gh/trs/v2/tools", "organization=Cohort"),
    Probe("GET", "/ga4gh/trs/v2/tools", "descriptorType=CWL&limit=1&offset=1"),
    Probe("GET", "/ga4gh/trs/v2/toolClasses"),
    Probe("GET", "/ga4gh/trs/v2/tools/{dataset}"),
    Probe("GET", "/ga4gh/trs/v2/tools/{dataset}/versions"),
    Probe("GET", _TRS_VERSION),
    Probe("GET", _TRS_VERSION + "/CWL/descriptor"),
    Probe("GET", _TRS_VERSION + "/PLAIN_CWL/descriptor/tools/echo.cwl"),
    Probe("GET", _TRS_VERSION + "/CWL/tests"),
    Probe("GET", _TRS_VERSION + "/CWL/files"),
    Probe("GET", _TRS_VERSION + "/CWL/files", "format=zip"),
    Probe("GET", _TRS_VERSION + "/containerfile"),
    # Catalog: tools are the registry's.
    Probe("GET", "/v2/tools/{dataset}/info"),
    Probe("GET", "/v2/tools/{dataset},omicsgate-echo/info", "silent=true"),
    Probe("GET", "/v2/tools/search", "limit=5000&count=true"),
    Probe("GET", "/v2/tools/search", "organization=Cohort&count=true"),
    Probe("GET", "/v2/tools/search", "toolClass=Workflow&count=true"),
]
