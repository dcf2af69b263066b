"""RNAget expressions through the real Lambda handler, on a local directory and on S3
(moto): the compliance suite's matrix (hosted by ``omicsgate ingest rnaget-compliance``,
read in place from ../shared) checked against numpy on the shipped loom, in every format
(loom opened by loompy in the compliance suite's own venv, h5ad by anndata, TSV parsed
here); the demo release's expression against the portal API's ``/geneExpression`` and
the demo's own sample files; tickets, bounds, units, sample filters, restricted releases
and mistakes."""

from __future__ import annotations

import io
import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import h5py
import numpy as np
import pytest

from omicsgate.ingest.cli import main as cli_main
from omicsgate.ingest.demo import DEMO_RELEASE, DemoFiles
from omicsgate.ingest.rnaget import COMPLIANCE_EXPRESSION, COMPLIANCE_STUDY
from omicsgate.localapi.events import LocalContext, http_api_event, response_body
from omicsgate.rnaget.tickets import PART_BYTES
from tests.conftest import ROOT, SHARED, Caller, use_store
from tests.tokens import user_token

pytestmark = pytest.mark.integration
COMPLIANCE_DIR = SHARED / "data" / "rnaget-compliance"
LOOMPY = ROOT / ".venv-rnaget-compliance" / "bin" / "python"
MISSING = "nonexistentid9999999999999999999"
LIVER = f"{DEMO_RELEASE}:Liver"
GENES = ("Eno1", "Actb")


@pytest.fixture
def rnaget(backend: str, call: Caller) -> Caller:
    """The backend's store with the compliance objects hosted, once per store, through
    the CLI as a user would."""
    from omicsgate.ingest.rnaget import has_compliance
    from omicsgate.rnaget import expression
    from omicsgate.rnaget.catalog import forget_hosted
    from omicsgate.storage import get_store

    if not (COMPLIANCE_DIR / "expression.loom").is_file():
        pytest.fail(f"{COMPLIANCE_DIR} is missing: these tests read the suite's matrix")
    if not has_compliance(get_store()):
        command = ["--data-uri", backend, "ingest", "rnaget-compliance", str(COMPLIANCE_DIR)]
        assert cli_main(command) == 0
        forget_hosted()
        expression.forget()
    return call


@pytest.fixture(scope="module")
def shipped() -> dict[str, Any]:
    """The suite's expression.loom read with h5py and numpy alone: the reference."""
    with h5py.File(COMPLIANCE_DIR / "expression.loom", "r") as loom:

        def texts(group: str, name: str) -> list[str]:
            return [v.decode() for v in loom[group][name][:]]

        return {
            "values": np.asarray(loom["matrix"][:], dtype=np.float32),
            "GeneID": texts("row_attrs", "GeneID"),
            "GeneName": texts("row_attrs", "GeneName"),
            "Sample": texts("col_attrs", "Sample"),
            "Condition": texts("col_attrs", "Condition"),
            "Tissue": texts("col_attrs", "Tissue"),
        }


def fetch(
    call: Caller, path: str, query: str = "", token: str | None = None
) -> tuple[int, dict[str, str], bytes]:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    event = http_api_event("GET", path, query, headers=headers)
    found = call.template.route_for("GET", path)
    assert found, path
    response = call.handler_for(found[0].function)(event, LocalContext())
    return response["statusCode"], response.get("headers") or {}, response_body(response)


def get_json(call: Caller, path: str, query: str = "", token: str | None = None) -> Any:
    status, headers, body = fetch(call, path, query, token)
    assert headers["content-type"] == "application/json", (status, body[:200])
    return status, json.loads(body)


def download(call: Caller, url: str) -> tuple[int, dict[str, str], bytes]:
    """What a client does with a ticket URL: a plain GET, no token."""
    parts = urlsplit(url)
    if parts.path.startswith("/rnaget/files/"):  # the local API's own download route
        return fetch(call, parts.path, parts.query)
    import requests  # a presigned S3 URL (moto)

    answer = requests.get(url, timeout=30)
    return answer.status_code, dict(answer.headers), answer.content


def ticket_file(call: Caller, path: str, query: str) -> tuple[dict[str, Any], bytes]:
    status, ticket = get_json(call, path, query)
    assert status == 200, ticket
    status, headers, body = download(call, ticket["url"])
    assert status == 200, body[:200]
    media = {"tsv": "text/tab-separated-values", "loom": "application/vnd.loom"}
    expected = media.get(ticket["fileType"], "application/octet-stream")
    assert headers["content-type"].split(";")[0] == expected
    return ticket, body


def parse_tsv(body: bytes) -> dict[str, Any]:
    lines = [line for line in body.decode().splitlines() if not line.startswith("#")]
    header = lines[0].split("\t")
    rows = [line.split("\t") for line in lines[1:]]
    values = np.asarray([[float(v) for v in r[2:]] for r in rows], dtype=np.float32)
    return {
        "header": header,
        "GeneID": [r[0] for r in rows],
        "GeneName": [r[1] for r in rows],
        "labels": header[2:],
        "values": values.reshape(len(rows), len(header) - 2),
    }


def read_loom_with_loompy(body: bytes, tmp_path: Path) -> dict[str, Any]:
    """loompy.connect on the file, in the compliance suite's venv (loompy is too heavy
    for the main one)."""
    path = tmp_path / "answer.loom"
    path.write_bytes(body)
    script = (
        "import json, sys, loompy, numpy as np\n"
        "with loompy.connect(sys.argv[1], 'r') as ds:\n"
        "    v = ds[:, :].astype(float)\n"
        "    print(json.dumps({'shape': list(ds.shape),\n"
        "        'ra': {k: [str(x) for x in ds.ra[k]] for k in ds.ra.keys()},\n"
        "        'ca': {k: [str(x) for x in ds.ca[k]] for k in ds.ca.keys()},\n"
        "        'dtype': str(ds[:, :].dtype),\n"
        "        'values': [[None if x != x else x for x in r] for r in v.tolist()]}))\n"
    )
    done = subprocess.run(
        [str(LOOMPY), "-c", script, str(path)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout)
    found["values"] = np.asarray(
        [[np.nan if x is None else x for x in r] for r in found["values"]], dtype=np.float32
    ).reshape(found["shape"])
    return found


# The compliance matrix, whole and sliced, in every format ------------------------------


def test_compliance_matrix_in_every_format_equals_the_shipped_file(
    rnaget: Caller, shipped: dict[str, Any], tmp_path: Path
) -> None:
    import anndata

    path = f"/rnaget/expressions/{COMPLIANCE_EXPRESSION}"
    ticket, loom = ticket_file(rnaget, f"{path}/ticket", "")
    assert ticket["fileType"] == "loom"  # the default without format
    assert ticket["units"] == "TPM" and ticket["studyID"] == COMPLIANCE_STUDY
    opened = read_loom_with_loompy(loom, tmp_path)
    assert opened["dtype"] == "float32"
    assert np.array_equal(opened["values"], shipped["values"], equal_nan=True)
    assert opened["ra"] == {k: shipped[k] for k in ("GeneID", "GeneName")}
    assert opened["ca"] == {k: shipped[k] for k in ("Sample", "Condition", "Tissue")}

    _, tsv = ticket_file(rnaget, f"{path}/ticket", "format=tsv")
    table = parse_tsv(tsv)
    assert np.array_equal(table["values"], shipped["values"], equal_nan=True)
    assert table["GeneID"] == shipped["GeneID"] and table["GeneName"] == shipped["GeneName"]
    labels = zip(shipped["Sample"], shipped["Condition"], shipped["Tissue"], strict=True)
    assert table["labels"] == [", ".join(parts) for parts in labels]

    status, headers, h5ad = fetch(rnaget, f"{path}/bytes", "format=h5ad")
    assert status == 200 and headers["content-type"] == "application/octet-stream"
    adata = anndata.read_h5ad(io.BytesIO(h5ad))
    assert adata.X.dtype == np.float32
    assert np.array_equal(adata.X, shipped["values"], equal_nan=True)
    assert list(adata.obs["GeneID"]) == shipped["GeneID"]
    assert list(adata.obs_names) == shipped["GeneID"]
    assert list(adata.var["Tissue"]) == shipped["Tissue"]


def test_bytes_and_ticket_give_the_same_file(rnaget: Caller) -> None:
    path = f"/rnaget/expressions/{COMPLIANCE_EXPRESSION}"
    query = "format=tsv&featureIDList=ENSG00000037965,ENSG00000243503"
    _, from_ticket = ticket_file(rnaget, f"{path}/ticket", query)
    status, headers, direct = fetch(rnaget, f"{path}/bytes", query)
    assert status == 200 and headers["content-type"].startswith("text/tab-separated-values")
    assert direct == from_ticket


@pytest.mark.parametrize(
    "query",
    [
        "featureIDList=ENSG00000106278,ENSG00000142025,ENSG00000239589"
        "&sampleIDList=DO52655 - primary tumour,DO25887 - primary tumour",
        "featureNameList=SH3BP1,APOL5,RN7SL592P&sampleIDList=DO1249 - primary tumour",
        "featureNameList=PGLYRP3,PRSS50,CLIC1,RF00092",
        "sampleIDList=DO472 - primary tumour,DO20604 - primary tumour",
    ],
)
def test_slices_hold_exactly_the_rows_and_columns_asked_for(
    rnaget: Caller, shipped: dict[str, Any], query: str
) -> None:
    asked = {k: v.split(",") for k, v in parse_qsl(query)}
    rows = [
        i
        for i, (gene, name) in enumerate(zip(shipped["GeneID"], shipped["GeneName"], strict=True))
        if gene in asked.get("featureIDList", [gene])
        and name in asked.get("featureNameList", [name])
    ]
    columns = [i for i, s in enumerate(shipped["Sample"]) if s in asked.get("sampleIDList", [s])]
    _, body = ticket_file(
        rnaget, f"/rnaget/expressions/{COMPLIANCE_EXPRESSION}/ticket", f"format=tsv&{query}"
    )
    table = parse_tsv(body)
    assert table["GeneID"] == [shipped["GeneID"][i] for i in rows]
    assert [label.split(", ")[0] for label in table["labels"]] == [
        shipped["Sample"][i] for i in columns
    ]
    assert np.array_equal(table["values"], shipped["values"][np.ix_(rows, columns)])


@pytest.mark.parametrize("ranges_per_query", [1, 3])
def test_a_slice_read_by_several_queries_holds_the_same_values(
    rnaget: Caller, shipped: dict[str, Any], monkeypatch: pytest.MonkeyPatch, ranges_per_query: int
) -> None:
    """Scattered rows and columns, read a few runs per TileDB query (as a large slice is,
    to bound TileDB's memory), give the file's values in the asked order."""
    from omicsgate.rnaget import expression

    monkeypatch.setattr(expression, "RANGES_PER_QUERY", ranges_per_query)
    rows, columns = [3, 4, 10, 11, 12, 40, 77, 99], [0, 1, 5, 50, 51, 98]
    ids = ",".join(shipped["GeneID"][i] for i in rows)
    samples = ",".join(shipped["Sample"][i] for i in columns)
    query = f"format=tsv&featureIDList={ids}&sampleIDList={samples}"
    status, _, body = fetch(rnaget, f"/rnaget/expressions/{COMPLIANCE_EXPRESSION}/bytes", query)
    assert status == 200
    table = parse_tsv(body)
    assert table["GeneID"] == [shipped["GeneID"][i] for i in rows]
    assert np.array_equal(table["values"], shipped["values"][np.ix_(rows, columns)])


@pytest.mark.parametrize(
    ("low", "high"), [(1.0, None), (None, 0.0), (0.5, 20.0), (3.0, 3.0), (1e9, None)]
)
def test_feature_bounds_drop_every_feature_with_a_value_outside(
    rnaget: Caller, shipped: dict[str, Any], low: float | None, high: float | None
) -> None:
    query = "format=tsv"
    query += f"&feature_min_value={low}" if low is not None else ""
    query += f"&feature_max_value={high}" if high is not None else ""
    values = shipped["values"]
    inside = np.ones(values.shape[0], dtype=bool)
    if low is not None:
        inside &= (values >= low).all(axis=1)
    if high is not None:
        inside &= (values <= high).all(axis=1)
    _, body = ticket_file(rnaget, f"/rnaget/expressions/{COMPLIANCE_EXPRESSION}/ticket", query)
    table = parse_tsv(body)
    assert table["GeneID"] == [g for g, keep in zip(shipped["GeneID"], inside, strict=True) if keep]
    assert np.array_equal(table["values"], values[inside].reshape(-1, values.shape[1]))


def test_the_search_finds_the_compliance_matrix_by_its_study(
    rnaget: Caller, shipped: dict[str, Any]
) -> None:
    query = f"format=tsv&studyID={COMPLIANCE_STUDY}&version=1.0&tags=RNAgetCompliance"
    ticket, body = ticket_file(rnaget, "/rnaget/expressions/ticket", query)
    assert ticket["fileType"] == "tsv" and ticket["studyID"] == COMPLIANCE_STUDY
    assert np.array_equal(parse_tsv(body)["values"], shipped["values"])
    status, found = get_json(rnaget, "/rnaget/expressions/ticket", f"format=tsv&studyID={MISSING}")
    assert status == 404 and found["message"] == "no expression matches the search"


def test_units_choose_among_matrices_of_a_study_and_are_never_converted(
    store: Any, call: Caller, shipped: dict[str, Any]
) -> None:
    """A fresh store: the compliance objects plus a second matrix of the same study in
    FPKM, ingested from the suite's TSV (so the TSV reader is checked too)."""
    from omicsgate.ingest import rnaget_expression
    from omicsgate.rnaget import expression

    command = ["--data-uri", store.root, "ingest", "rnaget-compliance", str(COMPLIANCE_DIR)]
    assert cli_main(command) == 0
    tsv = rnaget_expression.tsv_matrix(str(COMPLIANCE_DIR / "expression.tsv"))
    meta = rnaget_expression.Meta("fpkm-copy", COMPLIANCE_STUDY, "FPKM")
    rnaget_expression.write_expression(store, meta, tsv)
    expression.forget()
    status, units = get_json(call, "/rnaget/expressions/units")
    assert status == 200 and units == ["FPKM", "TPM"]
    search = "/rnaget/expressions/ticket"
    status, error = get_json(call, search, f"format=tsv&studyID={COMPLIANCE_STUDY}")
    assert status == 400 and error["message"].startswith("units: the expressions are in FPKM, TPM")
    for unit in ("FPKM", "TPM"):
        ticket, body = ticket_file(
            call, search, f"format=tsv&studyID={COMPLIANCE_STUDY}&units={unit}"
        )
        assert ticket["units"] == unit
        assert np.array_equal(parse_tsv(body)["values"], shipped["values"])  # never converted
    status, error = get_json(call, "/rnaget/expressions/fpkm-copy/ticket", "units=TPM")
    assert status == 400 and error["message"] == "units: the expression is in FPKM, not TPM"
    status, error = get_json(call, search, "format=tsv&units=RPKM")
    assert status == 400 and error["message"].startswith("units: unknown units 'RPKM'")


# The demo release ---------------------------------------------------------------------


def test_a_release_slice_equals_the_portal_gene_expression(rnaget: Caller) -> None:
    query = f"format=tsv&featureIDList={','.join(GENES)}"
    _, body = ticket_file(rnaget, f"/rnaget/expressions/{LIVER}/ticket", query)
    table = parse_tsv(body)
    assert table["GeneID"] == list(GENES)
    for row, gene in enumerate(GENES):
        status, portal = rnaget.get("/api/v4/geneExpression", f"geneId={gene}")
        assert status == 200
        (liver,) = [i for i in portal["geneExpression"] if i["tissueSiteDetailId"] == "Liver"]
        expected = np.asarray([np.nan if v is None else v for v in liver["data"]], np.float32)
        assert len(expected) > 10
        assert np.array_equal(table["values"][row], expected, equal_nan=True), gene


def test_a_release_loom_carries_the_sample_metadata(rnaget: Caller, tmp_path: Path) -> None:
    query = "featureIDList=Eno1,Actb&sex=male"
    _, tsv = ticket_file(rnaget, f"/rnaget/expressions/{LIVER}/ticket", f"format=tsv&{query}")
    _, loom = ticket_file(rnaget, f"/rnaget/expressions/{LIVER}/ticket", f"format=loom&{query}")
    table, opened = parse_tsv(tsv), read_loom_with_loompy(loom, tmp_path)
    assert set(opened["ca"]) == {"Sample", "Tissue", "Subject", "Sex", "AgeBracket"}
    assert set(opened["ca"]["Sex"]) == {"male"} and set(opened["ca"]["Tissue"]) == {"Liver"}
    assert [f"{s}, Liver" for s in opened["ca"]["Sample"]] == table["labels"]
    assert opened["ra"]["GeneID"] == table["GeneID"] == list(GENES)
    assert np.array_equal(opened["values"], table["values"], equal_nan=True)


def test_sample_filters_keep_the_samples_the_demo_files_describe(
    rnaget: Caller, demo_files: DemoFiles
) -> None:
    """Independent truth: the demo's sample attributes and subject phenotypes files."""
    assert demo_files.sample_attributes and demo_files.subject_phenotypes
    female = {
        line.split("\t")[0]
        for line in Path(demo_files.subject_phenotypes).read_text().splitlines()[1:]
        if line.split("\t")[1] == "2"
    }
    expected = [
        parts[0]
        for parts in (
            line.split("\t")
            for line in Path(demo_files.sample_attributes).read_text().splitlines()[1:]
        )
        if parts[2] == "Liver" and parts[3] in female
    ]
    query = f"format=tsv&projectID={DEMO_RELEASE}&tissue=Liver&sex=female&featureIDList=Eno1"
    _, body = ticket_file(rnaget, "/rnaget/expressions/ticket", query)
    samples = [label.split(", ")[0] for label in parse_tsv(body)["labels"]]
    assert expected and sorted(samples) == sorted(expected)
    assert all(label.endswith(", Liver") for label in parse_tsv(body)["labels"])
    status, filters = get_json(rnaget, "/rnaget/expressions/filters", "type=sample")
    assert status == 200
    by_name = {f["filter"]: f for f in filters}
    assert by_name["sex"]["values"] == ["female", "male"]
    assert "Liver" in by_name["tissue"]["values"] and "blood" in by_name["tissue"]["values"]
    for item in filters:
        assert set(item) == {"filter", "fieldType", "description", "values"}


def test_a_project_search_combines_its_tissues_and_reads_only_what_is_asked(
    rnaget: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    from omicsgate.rnaget import expression

    reads: list[tuple[list[int], list[int]]] = []
    original = expression._multi_range

    def spy(array: Any, attr: str, rows: list[int], columns: list[int]) -> np.ndarray:
        reads.append((list(rows), list(columns)))
        return original(array, attr, rows, columns)

    monkeypatch.setattr(expression, "_multi_range", spy)
    query = f"format=tsv&projectID={DEMO_RELEASE}&featureIDList=Eno1&tissue=Liver"
    status, _, body = fetch(rnaget, "/rnaget/expressions/bytes", query)  # bytes: always read
    assert status == 200
    status, tissues = rnaget.get("/api/v4/tissueInfo")
    liver = next(t for t in tissues["tissueInfo"] if t["tissueSiteDetailId"] == "Liver")
    assert len(parse_tsv(body)["labels"]) == liver["rnaSeqSampleCount"]
    (rows, columns), *others = reads
    assert not others  # one query for the release's array
    assert len(rows) == 1 and len(columns) == liver["rnaSeqSampleCount"]


def test_list_parameters_take_commas_and_repeated_keys(rnaget: Caller) -> None:
    path = f"/rnaget/expressions/{LIVER}/bytes"
    whole = parse_tsv(fetch(rnaget, path, "format=tsv&featureIDList=Eno1")[2])
    first, second = (label.split(", ")[0] for label in whole["labels"][3:5])
    commas = fetch(
        rnaget, path, f"format=tsv&featureIDList=Eno1,Actb&sampleIDList={first},{second}"
    )
    repeated = fetch(
        rnaget,
        "/rnaget/expressions/bytes",
        f"format=tsv&studyID={LIVER}&featureIDList=Eno1&featureIDList=Actb"
        f"&sampleIDList={first}&sampleIDList={second}",
    )
    assert commas[0] == repeated[0] == 200, repeated[2][:300]
    by_commas, by_keys = parse_tsv(commas[2]), parse_tsv(repeated[2])
    assert by_commas["GeneID"] == by_keys["GeneID"] == list(GENES)
    assert by_commas["labels"] == by_keys["labels"] == whole["labels"][3:5]
    assert np.array_equal(by_commas["values"][0], whole["values"][0, 3:5], equal_nan=True)


def test_units_are_listed_and_checked(rnaget: Caller) -> None:
    status, units = get_json(rnaget, "/rnaget/expressions/units")
    assert status == 200 and units == ["TPM"]
    path = f"/rnaget/expressions/{LIVER}/bytes"
    status, _, with_units = fetch(rnaget, path, "format=tsv&featureIDList=Eno1&units=TPM")
    assert status == 200
    assert with_units == fetch(rnaget, path, "format=tsv&featureIDList=Eno1")[2]
    status, error = get_json(rnaget, path, "format=tsv&units=FPKM")
    assert status == 400 and error["message"].startswith("units: unknown units 'FPKM'")


def test_an_answer_too_large_for_lambda_redirects_to_its_ticket_url(rnaget: Caller) -> None:
    status, headers, body = fetch(
        rnaget, "/rnaget/expressions/bytes", f"format=tsv&projectID={DEMO_RELEASE}"
    )
    assert status == 303 and not body
    status, file_headers, file = download(rnaget, headers["location"])
    assert status == 200 and file_headers["content-type"].startswith("text/tab-separated-values")
    assert len(file) > PART_BYTES  # on S3, written as a multipart upload (ETag "...-N")
    if not urlsplit(headers["location"]).path.startswith("/rnaget/files/"):
        assert re.search(r'-[0-9]+"?$', file_headers["ETag"]), file_headers
    table = parse_tsv(file)
    status, tissues = rnaget.get("/api/v4/tissueInfo")
    samples = sum(t["rnaSeqSampleCount"] for t in tissues["tissueInfo"])
    assert table["values"].shape[1] == samples
    assert "Eno1" in table["GeneID"]


# Tickets -------------------------------------------------------------------------------


def test_ticket_urls_need_no_token_and_refuse_a_tampered_signature(rnaget: Caller) -> None:
    from omicsgate.settings import get_settings
    from omicsgate.web import signing

    status, ticket = get_json(
        rnaget, f"/rnaget/expressions/{LIVER}/ticket", "format=loom&featureIDList=Eno1"
    )
    assert status == 200 and "headers" not in ticket  # nothing to send: the URL suffices
    status, _, body = download(rnaget, ticket["url"])
    assert status == 200 and body[:8] == b"\x89HDF\r\n\x1a\n"
    # The local route's URLs, whatever the store: a changed signature, file or expiry is 403.
    name = "a" * 64 + ".loom"
    path = f"/rnaget/files/{name}"
    signed = signing.signed_query(get_settings(), [path], 60)
    query = dict(parse_qsl(signed))
    assert fetch(rnaget, path, signed)[0] == 404  # genuine, but no such file
    for changed in (
        {**query, "signature": "0" * 64},
        {**query, "expires": str(int(query["expires"]) + 1)},
    ):
        status, error = get_json(
            rnaget, f"/rnaget/files/{name}", "&".join(f"{k}={v}" for k, v in changed.items())
        )
        assert status == 403 and error["message"].startswith("signature:"), error
    status, error = get_json(rnaget, f"/rnaget/files/{'b' * 64}.loom", signed)
    assert status == 403


# Mistakes ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "query", "status", "parameter"),
    [
        ("/rnaget/expressions/ticket", "", 400, "format"),
        ("/rnaget/expressions/bytes", "studyID=x", 400, "format"),
        ("/rnaget/expressions/ticket", "format=xml", 400, "format"),
        (f"/rnaget/expressions/{LIVER}/bytes", "format=csv", 400, "format"),
        (f"/rnaget/expressions/{LIVER}/ticket", "feature_min_value=abc", 400, "feature_min_value"),
        (f"/rnaget/expressions/{LIVER}/ticket", "feature_max_value=nan", 400, "feature_max_value"),
        (
            f"/rnaget/expressions/{LIVER}/ticket",
            "feature_min_value=5&feature_max_value=1",
            400,
            "feature_min_value",
        ),
        (
            f"/rnaget/expressions/{LIVER}/ticket",
            "featureIDList=" + ",".join(map(str, range(1001))),
            400,
            "featureIDList",
        ),
        (f"/rnaget/expressions/{LIVER}/ticket", "sampleIDList=,", 400, "sampleIDList"),
        (f"/rnaget/expressions/{LIVER}/ticket", "colour=red", 400, "colour"),
        (f"/rnaget/expressions/{LIVER}/ticket", "studyID=x", 400, "studyID"),  # search only
        ("/rnaget/expressions/ticket", "format=tsv&sex=female&sex=male", 400, "sex"),
        ("/rnaget/expressions/filters", "type=gene", 400, "type"),
        (f"/rnaget/expressions/{MISSING}/ticket", "", 404, "expressionId"),
        (f"/rnaget/expressions/{DEMO_RELEASE}/bytes", "", 404, "expressionId"),
        (f"/rnaget/expressions/{DEMO_RELEASE}:NoSuchTissue/ticket", "", 404, "expressionId"),
    ],
)
def test_mistakes_are_answered_with_a_message_naming_the_parameter(
    rnaget: Caller, path: str, query: str, status: int, parameter: str
) -> None:
    got, body = get_json(rnaget, path, query)
    assert got == status, body
    assert set(body) <= {"message", "requestId"}
    assert body["message"].startswith(f"{parameter}: "), body


# Restricted releases --------------------------------------------------------------------

PRIVATE = "rnaget_private"


@pytest.fixture(scope="module")
def private_release(local_data: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A release only cohort-e may see, beside the public demo release (local store)."""
    from omicsgate.ingest.cli import build_demo_release
    from omicsgate.ingest.demo import write_demo
    from omicsgate.storage import get_store

    use_store(local_data)
    files = write_demo(str(tmp_path_factory.mktemp("private")), genes=40, seed=5)
    build_demo_release(get_store(), PRIVATE, files, progress=False, groups=frozenset({"cohort-e"}))
    yield PRIVATE


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/rnaget/expressions/{id}:Liver/ticket", "format=tsv"),
        ("/rnaget/expressions/{id}:Liver/bytes", "format=loom"),
        ("/rnaget/expressions/ticket", "format=tsv&projectID={id}"),
        ("/rnaget/expressions/bytes", "format=tsv&studyID={id}:Liver"),
    ],
)
def test_a_restricted_release_is_seen_by_its_group_only(
    private_release: str, local_data: str, call: Caller, path: str, query: str
) -> None:
    use_store(local_data)
    member = user_token("erin", {"cohort-e"})
    status, _, body = fetch(call, path.format(id=PRIVATE), query.format(id=PRIVATE), member)
    assert status in (200, 303), body[:300]
    for token in (None, user_token("olga", {"cohort-b"})):
        secret = fetch(call, path.format(id=PRIVATE), query.format(id=PRIVATE), token)
        absent = fetch(
            call, path.format(id="no_such_release"), query.format(id="no_such_release"), token
        )
        assert secret[0] == absent[0] == 404
        strip = [
            json.loads(b.replace(i.encode(), b"<id>"))
            for b, i in ((secret[2], PRIVATE), (absent[2], "no_such_release"))
        ]
        for answer in strip:
            answer.pop("requestId", None)
        assert strip[0] == strip[1]
