"""The OpenGWAS API end to end: studies ingested with the CLI (the real IEU-a-2 GWAS-VCF
read in place, a GWAS-VCF and a GWAS-SSF TSV written here, one study restricted to a
group), served through the real Lambda handler fed API Gateway events, on a local
directory and on moto S3. Values are checked against the files, parsed here."""

from __future__ import annotations

import functools
import gzip
import json
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from omicsgate.localapi.devtools import reset_settings, use_store
from omicsgate.localapi.events import LocalContext, http_api_event, response_body
from tests.conftest import BUCKET, Caller, built_store
from tests.integration.test_gwas_ingest import SHARED_VCF, vcf_rows, write_meta, write_vcf
from tests.tokens import user_token

pytestmark = pytest.mark.integration
REAL = "ieu-a-2"
SMALL = "test-b-1"  # GWAS-VCF written here
SSF = "ssf-b-1"  # GWAS-SSF TSV written here
SECRET = "test-b-2"  # restricted to cohort-x
SECRET_TRAIT = "Secret cohort trait"
SMALL_ROWS = [  # pos, rsid, ref, alt, ES, SE, LP
    (721290, "rs12565286", "G", "C", 0.25, 0.01, 12.5),
    (723819, "rs11804171", "T", "A", -0.1, 0.02, 5.0),
    (800000, "rs900001", "A", "G", 0.01, 0.05, 0.1),
    (900000, "rs900002", "C", "T", 0.3, 0.05, 9.0),
]
SECRET_ONLY_ROW = (950000, "rs900777", "G", "T", 0.2, 0.02, 20.0)  # no other study has it
SSF_ROWS = [(5000 + 11 * i, 0.01 * i, 10.0 ** -(i % 9)) for i in range(1, 30)]


def ingest(uri: str, *args: str) -> None:
    from omicsgate.ingest.cli import main

    assert main(["--quiet", "--data-uri", uri, "ingest", "gwas", *args]) == 0


def build(uri: str, directory: Path) -> None:
    real_meta = write_meta(directory / "real.json", trait="Body mass index", sample_size=339224)
    ingest(uri, "--study", REAL, "--metadata", real_meta, str(SHARED_VCF))
    small = write_vcf(directory / "small.vcf.gz", SMALL, SMALL_ROWS)
    meta = write_meta(directory / "small.json", trait="Small trait", sample_size=1000)
    ingest(uri, "--study", SMALL, "--metadata", meta, small)
    header = "chromosome\tbase_pair_location\teffect_allele\tother_allele\tbeta\t"
    header += "standard_error\teffect_allele_frequency\tp_value\trsid\n"
    lines = [f"2\t{pos}\tA\tG\t{beta!r}\t0.1\t0.3\t{p!r}\trs{pos}\n" for pos, beta, p in SSF_ROWS]
    (directory / "ssf.tsv").write_text(header + "".join(lines))
    meta = write_meta(directory / "ssf.json", trait="SSF trait", sample_size=500)
    ingest(uri, "--study", SSF, "--metadata", meta, str(directory / "ssf.tsv"))
    secret = write_vcf(directory / "secret.vcf.gz", SECRET, [*SMALL_ROWS[:2], SECRET_ONLY_ROW])
    meta = write_meta(directory / "secret.json", trait=SECRET_TRAIT, sample_size=50)
    ingest(uri, "--study", SECRET, "--metadata", meta, "--groups", "cohort-x", secret)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("gwas-files")


@pytest.fixture(scope="module")
def local_uri(files: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return built_store(str(tmp_path_factory.mktemp("gwas-data")), lambda uri: build(uri, files))


@pytest.fixture(scope="module")
def s3_uri(files: Path, moto_endpoint: str) -> str:
    uri = f"s3://{BUCKET}/gwas-{uuid.uuid4().hex[:8]}"
    return built_store(uri, lambda uri: build(uri, files), moto_endpoint)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "s3":
        use_store(request.getfixturevalue("s3_uri"), request.getfixturevalue("moto_endpoint"))
    else:
        use_store(request.getfixturevalue("local_uri"))
    yield request.param
    reset_settings()


@functools.cache
def signed_in() -> str:
    return user_token("gwas-api-tests")


def token(groups: set[str] | None = None) -> str:
    return user_token(f"u{uuid.uuid4().hex[:10]}", groups)


def request(
    call: Caller,
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    *,
    as_json: bool = False,
    auth: str | None = None,
    query: str = "",
) -> tuple[int, Any, dict[str, str]]:
    """A request as ieugwaspy sends it (form fields, repeated keys) or as JSON, signed in
    (as a user of no group: anonymous callers share one per-IP allowance in a session)."""
    headers = {"authorization": f"Bearer {auth or signed_in()}"}
    body = None
    if params is not None:
        if as_json:
            headers["content-type"] = "application/json"
            body = json.dumps(params).encode()
        else:
            headers["content-type"] = "application/x-www-form-urlencoded"
            body = urlencode(params, doseq=True).encode()
    return call.event(http_api_event(method, f"/gwas/{path}", query, headers=headers, body=body))


def post(call: Caller, path: str, params: dict[str, Any], **kw: Any) -> tuple[int, Any]:
    status, body, _ = request(call, "POST", path, params, **kw)
    return status, body


def remaining(headers: dict[str, str]) -> int:
    return int(headers["x-allowance-remaining"])


# Values ----------------------------------------------------------------------------------


def test_real_study_values_equal_the_gwas_vcf(backend: str, call: Caller) -> None:
    expected = vcf_rows(SHARED_VCF, 339224.0)
    status, rows = post(
        call, "associations", {"id": REAL, "variant": "1:1-249250621", "proxies": 0}
    )
    assert status == 200 and len(rows) == len(expected) == 92
    served = {(r["position"], r["ea"]): r for r in rows}
    for row in expected:
        got = served[(row["position"], row["ea"])]
        for key in ("chr", "rsid", "nea", "beta", "se", "eaf", "n"):
            assert got[key] == row[key], key
        assert got["p"] == pytest.approx(row["p"], rel=1e-12)
        assert got["id"] == REAL and got["trait"] == "Body mass index"
    # The same rows by rsid, by chr:pos, as JSON, in study-then-position order.
    some = expected[:5]
    variants = [some[0]["rsid"], f"1:{some[1]['position']}", some[2]["rsid"]]
    form = post(call, "associations", {"id": REAL, "variant": variants, "proxies": 0})
    body = post(call, "associations", {"id": [REAL], "variant": variants}, as_json=True)
    assert form == body and form[0] == 200
    assert [r["position"] for r in form[1]] == sorted(r["position"] for r in some[:3])


def test_tophits_and_phewas_follow_the_files(backend: str, call: Caller) -> None:
    expected = vcf_rows(SHARED_VCF, 339224.0)
    status, hits = post(call, "tophits", {"id": [SMALL, REAL], "pval": 0.01, "clump": 0})
    assert status == 200
    want = sorted(
        [(REAL, r["p"]) for r in expected if r["p"] <= 0.01]
        + [(SMALL, 10**-lp) for *_, lp in SMALL_ROWS if 10**-lp <= 0.01]
    )
    assert [(h["id"], h["p"]) for h in hits] == [(i, pytest.approx(p)) for i, p in want]
    # PheWAS at p <= 1: every visible study reporting the variant; by (id, p).
    status, rows = post(call, "phewas", {"variant": "rs12565286", "pval": 1})
    assert status == 200 and [r["id"] for r in rows] == [REAL, SMALL]
    assert rows[1]["beta"] == 0.25 and rows[1]["ea"] == "C"
    status, rows = post(call, "phewas", {"variant": "rs12565286,1:900000", "pval": 1e-8})
    assert [(r["id"], r["position"]) for r in rows] == [(SMALL, 721290), (SMALL, 900000)]
    status, rows = post(call, "phewas", {"variant": ["rs12565286"], "index_list": ["test-b"]})
    assert status == 200 and {r["id"] for r in rows} <= {SMALL}
    # A member of the group sees the restricted study too.
    member = token({"cohort-x"})
    status, rows = post(call, "phewas", {"variant": "rs12565286", "pval": 1}, auth=member)
    assert [r["id"] for r in rows] == [REAL, SMALL, SECRET]


def test_ssf_study(backend: str, call: Caller) -> None:
    status, rows = post(call, "associations", {"id": SSF, "variant": "2:5000-6000"})
    assert status == 200 and [r["position"] for r in rows] == [pos for pos, *_ in SSF_ROWS]
    assert all(r["chr"] == "2" and r["ea"] == "A" and r["nea"] == "G" for r in rows)
    assert [r["beta"] for r in rows] == [beta for _, beta, _ in SSF_ROWS]


# Catalogue -------------------------------------------------------------------------------


def test_status_batches_gwasinfo(backend: str, call: Caller) -> None:
    status, body, _ = request(call, "GET", "status")
    assert status == 200 and body["STATISTICS__N_DATASETS"] == 3
    status, body, _ = request(call, "GET", "batches")
    assert body == [
        {"id": "ieu-a", "count": 1},
        {"id": "ssf-b", "count": 1},
        {"id": "test-b", "count": 1},
    ]
    status, body, _ = request(call, "GET", "gwasinfo")
    assert status == 200 and sorted(body) == [REAL, SSF, SMALL]
    assert body[REAL]["trait"] == "Body mass index" and body[REAL]["sample_size"] == 339224
    status, body = post(call, "gwasinfo", {"id": [SMALL, "nope-a-1", SECRET, REAL]})
    assert [g["id"] for g in body] == [SMALL, REAL]  # unknown and restricted: dropped
    assert post(call, "gwasinfo", {"id": [SMALL, REAL]}, as_json=True)[1] == body
    member = token({"cohort-x"})
    status, body = post(call, "gwasinfo", {"id": SECRET}, auth=member)
    assert [g["trait"] for g in body] == [SECRET_TRAIT]
    status, body = post(call, "gwasinfo", {}, auth=member)
    assert {g["id"] for g in body} == {REAL, SMALL, SSF, SECRET}


def fetch_url(call: Caller, url: str) -> tuple[int, bytes]:
    parts = urlsplit(url)
    if parts.path.startswith("/gwas/files/"):
        event = http_api_event("GET", parts.path, parts.query)
        found = call.template.route_for("GET", parts.path)
        assert found
        response = call.handler_for(found[0].function)(event, LocalContext())
        return int(response["statusCode"]), response_body(response)
    with urllib.request.urlopen(url) as answer:  # a presigned moto URL
        return int(answer.status), bytes(answer.read())


def test_gwasinfo_files_are_signed_urls_of_the_vcf(backend: str, call: Caller) -> None:
    status, body = post(call, "gwasinfo/files", {"id": [REAL, SECRET]}, auth=token())
    assert status == 200 and list(body) == [REAL]
    url = body[REAL][0]
    if backend == "local":
        assert url.startswith("http://127.0.0.1") and "/gwas/files/ieu-a-2/ieu-a-2.vcf.gz?" in url
    status, data = fetch_url(call, url)
    assert status == 200 and data == SHARED_VCF.read_bytes()
    assert gzip.decompress(data).startswith(b"##fileformat=VCF")
    if backend == "local":
        forged = url.replace("ieu-a-2.vcf.gz?", "ieu-a-2.vcf.gz.tbi?")
        assert fetch_url(call, forged)[0] == 403
        assert fetch_url(call, url.split("?")[0])[0] == 403
        assert fetch_url(call, url[:-3] + "000")[0] == 403


# Variants --------------------------------------------------------------------------------


def test_variants(backend: str, call: Caller) -> None:
    status, body = post(call, "variants/rsid", {"rsid": ["rs12565286", "rs1"]})
    assert status == 200 and [(v["_id"], v["_source"]["POS"]) for v in body] == [
        ("rs12565286", 721290)
    ]
    status, body = post(call, "variants/chrpos", {"chrpos": ["1:723819", "1:899990"], "radius": 10})
    assert [(v["query"], v["ID"], v["POS"]) for v in body] == [
        ("1:723819", "rs11804171", 723819),
        ("1:899990", "rs900002", 900000),
    ]
    # A variant only the restricted study reported is not shown to others, on any route.
    for auth in (None, token({"cohort-x"})):
        visible = auth is not None
        status, body = post(call, "variants/rsid", {"rsid": "rs900777"}, auth=auth)
        assert status == 200 and bool(body) == visible
        status, body = post(call, "variants/chrpos", {"chrpos": "1:950000"}, auth=auth)
        assert status == 200 and [v["ID"] for v in body] == (["rs900777"] if visible else [])
        status, body, _ = request(call, "GET", "variants/chrpos/1:950000", auth=auth)
        assert status == 200 and bool(body[0]) == visible
    status, body, _ = request(call, "GET", "variants/gene/ISG15", query="radius=0")
    assert status == 400 and body["message"].startswith("gene: unknown gene")  # not in this store
    status, body, _ = request(call, "GET", "variants/gene/ISG15", query="radius=-1")
    assert status == 400 and body["message"].startswith("radius:")


# Errors, limits, paging, costs -----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("associations", {"id": "nope-a-1", "variant": "rs1"}, "id"),
        ("associations", {"id": SECRET, "variant": "rs1"}, "id"),
        ("associations", {"id": REAL, "variant": "chr1:abc"}, "variant"),
        ("associations", {"id": REAL}, "variant"),
        ("associations", {"id": REAL, "variant": "rs1", "proxies": 2}, "proxies"),
        ("associations", {"id": REAL, "variant": "rs1", "population": "XYZ"}, "population"),
        ("associations", {"id": REAL, "variant": [f"rs{i}" for i in range(1001)]}, "variant"),
        ("tophits", {"id": REAL}, "pop"),  # no panel in this store: clumping cannot be done
        ("tophits", {"id": REAL, "pop": "XYZ"}, "pop"),
        ("tophits", {"id": REAL, "clump": 0, "pval": 0}, "pval"),
        ("tophits", {"id": REAL, "clump": 0, "pval": 1.5}, "pval"),
        ("tophits", {"id": REAL, "clump": 0, "pval": "x"}, "pval"),
        ("tophits", {"id": SECRET, "clump": 0}, "id"),
        ("phewas", {"variant": "1:2:3"}, "variant"),
        ("phewas", {"variant": "rs1", "pval": 2}, "pval"),
        ("variants/rsid", {"rsid": "1:5"}, "rsid"),
        ("variants/chrpos", {"chrpos": "rs5"}, "chrpos"),
        ("gwasinfo/files", {}, "id"),
    ],
)
def test_bad_requests_are_400_naming_the_parameter_and_free(
    backend: str, call: Caller, path: str, params: dict[str, Any], parameter: str
) -> None:
    auth = token()
    _, _, before = request(call, "GET", "status", auth=auth)
    status, body, _ = request(call, "POST", path, params, auth=auth)
    assert status == 400 and body["message"].startswith(f"{parameter}: "), body
    status, body, after = request(call, "GET", "status", auth=auth)
    assert remaining(after) == remaining(before)


def test_100_studies_by_100_variants_fit(backend: str, call: Caller) -> None:
    variants = [f"1:{700000 + i}" for i in range(99)] + ["rs12565286"]
    status, rows = post(call, "associations", {"id": [REAL, SMALL], "variant": variants})
    assert status == 200 and {r["rsid"] for r in rows} == {"rs12565286"}
    cells = {"id": [REAL] * 1, "variant": [f"1:{i}" for i in range(1, 1001)]}
    assert post(call, "associations", cells)[0] == 200


def test_paging_with_a_cursor(backend: str, call: Caller, monkeypatch: pytest.MonkeyPatch) -> None:
    params = {"id": [REAL, SMALL], "pval": 1, "clump": 0}
    status, whole, headers = request(call, "POST", "tophits", params)
    assert status == 200 and "x-next-cursor" not in headers
    assert headers["x-total-count"] == str(len(whole)) == str(92 + len(SMALL_ROWS))
    monkeypatch.setattr(sys.modules["gwas_api.routes"], "PAGE_ROWS", 40)
    pages, cursor = [], None
    while True:
        status, rows, headers = request(
            call, "POST", "tophits", {**params, **({"cursor": cursor} if cursor else {})}
        )
        assert status == 200 and len(rows) <= 40
        pages += rows
        cursor = headers.get("x-next-cursor")
        if cursor is None:
            break
    assert pages == whole
    status, body = post(call, "tophits", {**params, "cursor": 10_000})
    assert status == 400 and body["message"].startswith("cursor: ")
    # The whole catalogue pages too (GET keyed by ID, POST without id).
    monkeypatch.setattr(sys.modules["gwas_api.routes"], "PAGE_ROWS", 2)
    status, first, headers = request(call, "GET", "gwasinfo")
    assert status == 200 and len(first) == 2 and headers["x-next-cursor"] == "2"
    status, rest, headers = request(call, "GET", "gwasinfo", query="cursor=2")
    assert status == 200 and "x-next-cursor" not in headers
    assert sorted([*first, *rest]) == sorted([REAL, SMALL, SSF])
    status, listed, headers = request(call, "POST", "gwasinfo", {"cursor": 2})
    assert [g["id"] for g in listed] == list(rest)


def test_costs_are_the_documented_ones(backend: str, call: Caller) -> None:
    auth = token()
    spent: list[int] = []

    def charge(method: str, path: str, params: dict[str, Any] | None = None) -> Any:
        _, _, before = request(call, "GET", "status", auth=auth)
        status, body, after = request(call, method, path, params, auth=auth)
        assert status == 200, body
        spent.append(remaining(before) - remaining(after))
        return body

    charge("GET", "gwasinfo")
    charge("POST", "gwasinfo", {"id": [REAL, SMALL]})
    charge("POST", "gwasinfo", {})
    charge("POST", "gwasinfo/files", {"id": [REAL, SMALL]})
    charge("POST", "associations", {"id": [REAL, SMALL], "variant": ["rs1", "rs2", "rs3"]})
    charge("POST", "tophits", {"id": [REAL, SMALL], "clump": 0})
    rows = charge("POST", "phewas", {"variant": ["rs12565286", "rs11804171"], "pval": 1})
    charge("POST", "variants/rsid", {"rsid": "rs12565286"})
    charge("GET", "batches")
    assert spent == [50, 1, 50, 2000, 3, 20, 2 * 20 + len(rows), 1, 0]
