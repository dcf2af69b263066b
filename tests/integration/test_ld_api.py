"""The LD routes end to end on the real 1000 Genomes EUR panel (ingested with the CLI from
``../shared``, read in place): /ld/matrix, /ld/clump, /ld/reflookup, tophits with clumping,
associations with proxies and /variants/afl2, through the real Lambda handler on a local
directory and on moto S3. Every expected value is computed here by brute force from the
panel files (tests/ld_reference.py), never by the project's LD code."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from omicsgate.ingest.plink import PlinkSet, read_plink
from omicsgate.localapi.devtools import reset_settings, use_store
from tests.conftest import BUCKET, Caller, built_store
from tests.integration.test_gwas_api import post, remaining, request, token
from tests.integration.test_gwas_ingest import SHARED_VCF, vcf_rows, write_meta
from tests.ld_reference import (
    align_to_target,
    brute_clump,
    brute_corr,
    brute_haplotype_r,
)

pytestmark = pytest.mark.integration
PANEL = SHARED_VCF.parent / "eur"
REAL = "ieu-a-2"
PROXIED = "prox-b-1"  # every panel SNP but the targets, some alleles strand-flipped
# Targets removed from PROXIED on purpose (see the test for what each one exercises).
FLIP_TARGET, FLIPPED_PROXY = "rs3131971", "rs3094315"
PAL_LOW_TARGET, REMOVED_PROXY = "rs9697642", "rs28765502"  # next proxy: A/T-like, MAF 0.296
PAL_HIGH_TARGET = "rs13303019"  # best proxy palindromic with MAF 0.388
TARGETS = (FLIP_TARGET, PAL_LOW_TARGET, PAL_HIGH_TARGET)
COMPLEMENT = str.maketrans("ACGT", "TGCA")


@functools.cache
def panel() -> PlinkSet:
    return read_plink(str(PANEL))


def snp(rsid: str) -> int:
    return panel().rsid.index(rsid)


def is_snv(i: int) -> bool:
    return len(panel().a1[i]) == 1 and len(panel().a2[i]) == 1


def proxied_rows() -> list[tuple[int, str, str, str, float, float, float]]:
    """(pos, rsid, ref, alt, beta, se, lp): ALT = the panel's A1; FLIPPED_PROXY reported on
    the other strand."""
    rng = np.random.default_rng(5)
    rows = []
    for i, rsid in enumerate(panel().rsid):
        if rsid in (*TARGETS, REMOVED_PROXY) or not is_snv(i):
            continue
        ref, alt = panel().a2[i], panel().a1[i]
        if rsid == FLIPPED_PROXY:
            ref, alt = ref.translate(COMPLEMENT), alt.translate(COMPLEMENT)
        beta = round(float(rng.normal(0, 0.05)), 6)
        rows.append((int(panel().position[i]), rsid, ref, alt, beta, 0.01, 1.0))
    return rows


def build(uri: str, directory: Path) -> None:
    from omicsgate.ingest.cli import main

    base = ["--quiet", "--data-uri", uri, "ingest"]
    assert main([*base, "ld-panel", "--population", "EUR", "--bfile", str(PANEL)]) == 0
    meta = write_meta(directory / "real.json", trait="Body mass index", sample_size=339224)
    assert main([*base, "gwas", "--study", REAL, "--metadata", meta, str(SHARED_VCF)]) == 0
    vcf = directory / "proxied.vcf"
    lines = [
        "##fileformat=VCFv4.2",
        f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{PROXIED}",
    ]
    for pos, rsid, ref, alt, beta, se, lp in proxied_rows():
        lines.append(f"1\t{pos}\t{rsid}\t{ref}\t{alt}\t.\tPASS\t.\tES:SE:LP\t{beta}:{se}:{lp}")
    vcf.write_text("\n".join(lines) + "\n")
    meta = write_meta(directory / "proxied.json", trait="Proxied trait", sample_size=1000)
    assert main([*base, "gwas", "--study", PROXIED, "--metadata", meta, str(vcf)]) == 0


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ld-files")


@pytest.fixture(scope="module")
def local_uri(files: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return built_store(str(tmp_path_factory.mktemp("ld-data")), lambda uri: build(uri, files))


@pytest.fixture(scope="module")
def s3_uri(files: Path, moto_endpoint: str) -> str:
    uri = f"s3://{BUCKET}/ld-{uuid.uuid4().hex[:8]}"
    return built_store(uri, lambda uri: build(uri, files), moto_endpoint)


@pytest.fixture(params=["local", "s3"])
def backend(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.param == "s3":
        use_store(request.getfixturevalue("s3_uri"), request.getfixturevalue("moto_endpoint"))
    else:
        use_store(request.getfixturevalue("local_uri"))
    yield request.param
    reset_settings()


# LD matrix ----------------------------------------------------------------------------------


def test_ld_matrix_of_50_snps_is_pairwise_pearson_r_of_minor_allele_counts(
    backend: str, call: Caller
) -> None:
    rng = np.random.default_rng(1)
    chosen = sorted(rng.choice(len(panel().rsid), 50, replace=False).tolist())
    rsids = [panel().rsid[i] for i in chosen]
    status, body = post(call, "ld/matrix", {"rsid": rsids[::-1], "pop": "EUR"})
    assert status == 200
    assert len(body["snplist"]) == 50 and len(body["matrix"]) == 50
    dosage = panel().dosage
    for row, i in enumerate(chosen):  # panel order, whatever the request order
        a1, a2 = panel().a1[i], panel().a2[i]
        minor_is_a1 = np.nanmean(dosage[i]) / 2 <= 0.5
        assert (
            body["snplist"][row]
            == f"{panel().rsid[i]}_{a1 if minor_is_a1 else a2}_{a2 if minor_is_a1 else a1}"
        )
        for col, j in enumerate(chosen):
            expected = brute_corr(dosage[i], dosage[j])
            if (np.nanmean(dosage[i]) / 2 > 0.5) != (np.nanmean(dosage[j]) / 2 > 0.5):
                expected = -expected
            served = body["matrix"][row][col]
            assert isinstance(served, str)  # OpenGWAS sends numbers as strings
            if np.isnan(expected):
                assert served == "nan"
            else:
                assert float(served) == pytest.approx(expected, abs=5e-6)


# Clumping -----------------------------------------------------------------------------------


@functools.cache
def real_hits() -> list[dict[str, Any]]:
    return vcf_rows(SHARED_VCF, 339224.0)


@functools.cache
def expected_clumps(p1: float, r2: float, kb: float) -> list[str]:
    """PLINK --clump of the real study's rows the panel has, by brute force."""
    rows = [r for r in real_hits() if r["rsid"] in panel().rsid]
    index = [snp(str(r["rsid"])) for r in rows]
    dosage = panel().dosage[index]
    r2_matrix = np.array([[brute_haplotype_r(a, b) ** 2 for b in dosage] for a in dosage])
    chrom = [1] * len(rows)
    pos = [int(r["position"]) for r in rows]
    chosen = brute_clump(chrom, pos, [float(r["p"]) for r in rows], r2_matrix, p1, r2, kb)
    return [str(rows[i]["rsid"]) for i in chosen]


SETTINGS = [(5e-8, 0.001, 10_000), (0.05, 0.001, 5000), (0.5, 0.1, 250), (1.0, 0.5, 50)]


@pytest.mark.parametrize(("p1", "r2", "kb"), SETTINGS)
def test_clumping_the_real_study_equals_brute_force_plink(
    backend: str, call: Caller, p1: float, r2: float, kb: float
) -> None:
    expected = expected_clumps(p1, r2, kb)
    rows = real_hits()
    params = {
        "rsid": [r["rsid"] for r in rows], "pval": [r["p"] for r in rows],
        "pthresh": p1, "r2": r2, "kb": kb, "pop": "EUR",
    }  # fmt: skip
    status, body, headers = request(call, "POST", "ld/clump", params)
    assert status == 200 and body == expected
    absent = sorted(
        {str(r["rsid"]) for r in rows if r["rsid"] not in panel().rsid and r["p"] <= p1}
    )
    assert int(headers["x-dropped-count"]) == len(absent)
    assert headers.get("x-dropped-variants", "").split(",") == (absent or [""])
    # The same clumps from /tophits (re-clumped now), sorted by p as tophits are.
    status, hits = post(
        call, "tophits", {"id": REAL, "pval": p1, "r2": r2, "kb": kb, "preclumped": 0}
    )
    assert status == 200 and sorted(h["rsid"] for h in hits) == sorted(expected)


def test_preclumped_tophits_are_the_clumps_computed_at_ingestion(
    backend: str, call: Caller
) -> None:
    status, hits = post(call, "tophits", {"id": [REAL, PROXIED]})  # ieugwaspy's defaults
    assert status == 200
    assert sorted(h["rsid"] for h in hits if h["id"] == REAL) == sorted(
        expected_clumps(5e-8, 0.001, 10_000)
    )


def test_tophits_clumped_at_a_wide_threshold_keeps_one_snp_per_ld_block(
    backend: str, call: Caller
) -> None:
    status, hits = post(
        call, "tophits", {"id": REAL, "pval": 1, "r2": 0.001, "kb": 10_000, "preclumped": 0}
    )
    assert status == 200 and hits == sorted(hits, key=lambda h: h["p"])
    assert [h["rsid"] for h in hits] == expected_clumps(1.0, 0.001, 10_000)


# Proxies ------------------------------------------------------------------------------------


@functools.cache
def study_alleles() -> dict[str, tuple[str, str, float]]:
    return {rsid: (alt, ref, beta) for _, rsid, ref, alt, beta, _, _ in proxied_rows()}


@functools.cache
def expected_proxy(target: str, r2: float, maf_threshold: float) -> dict[str, Any] | None:
    """The best aligned proxy by brute force: haplotype r2 >= r2 within 500 kb, reported
    by the study, alleles alignable; best r2 first (ties within 1e-9: nearest)."""
    t = snp(target)
    dosage = panel().dosage
    candidates = []
    for j in range(len(panel().rsid)):
        distance = abs(int(panel().position[j]) - int(panel().position[t]))
        if j == t or distance > 500_000:
            continue
        r = brute_haplotype_r(dosage[t], dosage[j])
        if r == r and r * r >= r2:
            candidates.append((r * r, distance, j, r))
    candidates.sort(key=lambda c: (-round(c[0], 9), c[1]))
    for _, _, j, r in candidates:
        rsid = panel().rsid[j]
        if rsid not in study_alleles():
            continue
        ea, nea, beta = study_alleles()[rsid]
        maf = min(np.nanmean(dosage[j]) / 2, 1 - np.nanmean(dosage[j]) / 2)
        aligned = align_to_target(
            (panel().a1[t], panel().a2[t]), (panel().a1[j], panel().a2[j]), r, (ea, nea),
            maf, maf_threshold,
        )  # fmt: skip
        if aligned is not None:
            return {
                "proxy_snp": rsid,
                "ea": aligned[0],
                "nea": aligned[1],
                "beta": beta,
                "r2": r * r,
            }
    return None


@pytest.mark.parametrize("maf_threshold", [0.3, 0.2, 0.45])
def test_proxies_for_removed_targets_are_the_best_aligned_ones(
    backend: str, call: Caller, maf_threshold: float
) -> None:
    present = "rs3115850"  # reported directly: no proxy
    params = {
        "id": PROXIED, "variant": [*TARGETS, present], "proxies": 1, "r2": 0.8,
        "maf_threshold": maf_threshold,
    }  # fmt: skip
    status, rows = post(call, "associations", params)
    assert status == 200
    by_target = {r["target_snp"]: r for r in rows}
    direct = by_target.pop(present)
    assert direct["proxy"] is False and direct["proxy_snp"] == present
    for target in TARGETS:
        expected = expected_proxy(target, 0.8, maf_threshold)
        assert expected is not None
        got = by_target[target]
        assert got["proxy"] is True and got["rsid"] == target
        assert got["proxy_snp"] == expected["proxy_snp"], (target, maf_threshold)
        assert (got["ea"], got["nea"], got["beta"]) == (
            expected["ea"],
            expected["nea"],
            expected["beta"],
        )
        assert {got["target_a1"], got["target_a2"]} == {
            panel().a1[snp(target)],
            panel().a2[snp(target)],
        }
    # What the three targets exercise, stated so a change of panel cannot hollow it out.
    assert by_target[FLIP_TARGET]["proxy_snp"] == FLIPPED_PROXY  # reported on the other strand
    palindromic = by_target[PAL_LOW_TARGET]["proxy_snp"] == "rs9697380"  # G/C, MAF 0.296
    assert palindromic == (maf_threshold > 0.296)
    assert (by_target[PAL_HIGH_TARGET]["proxy_snp"] == "rs6673914") == (maf_threshold > 0.388)


def test_without_proxies_the_removed_targets_are_absent(backend: str, call: Caller) -> None:
    status, rows = post(
        call, "associations", {"id": PROXIED, "variant": list(TARGETS), "proxies": 0}
    )
    assert status == 200 and rows == []
    status, rows = post(call, "associations", {"id": PROXIED, "variant": list(TARGETS), "r2": 1.0})
    assert status == 200
    assert all(
        expected_proxy(r["target_snp"], 1.0, 0.3)["proxy_snp"] == r["proxy_snp"] for r in rows
    )


# Allele frequencies, reflookup, errors ----------------------------------------------------------


def test_afl2_and_reflookup_answer_from_the_panel(backend: str, call: Caller) -> None:
    wanted = ["rs12565286", "rs3131971", "rs999999999"]
    status, rows = post(call, "variants/afl2", {"rsid": wanted, "chrpos": "1:752566"})
    assert status == 200 and [r["rsid"] for r in rows] == ["rs12565286", "rs3094315", "rs3131971"]
    for row in rows:
        i = snp(row["rsid"])
        assert (row["alt"], row["ref"], row["pos"]) == (
            panel().a1[i],
            panel().a2[i],
            panel().position[i],
        )
        assert row["AF.EUR"] == pytest.approx(np.nanmean(panel().dosage[i]) / 2, abs=1e-12)
        assert row["L2.EUR"] > 1  # itself, and its LD partners
    status, found = post(call, "ld/reflookup", {"rsid": wanted, "pop": "EUR"})
    assert status == 200 and found == wanted[:2]
    status, common = request(call, "GET", "variants/afl2/snplist")[:2]
    assert status == 200 and common and all(0.05 <= r["AF.EUR"] <= 0.95 for r in common)


@pytest.mark.parametrize(
    ("path", "params", "parameter"),
    [
        ("ld/matrix", {"rsid": ["rs12565286"], "pop": "XYZ"}, "pop"),
        ("ld/matrix", {"rsid": ["rs12565286"], "pop": "AFR"}, "pop"),  # known, not loaded
        ("ld/matrix", {"rsid": [f"rs{i}" for i in range(1, 502)]}, "rsid"),
        ("ld/matrix", {"rsid": ["1:5"]}, "rsid"),
        ("ld/clump", {"rsid": ["rs1", "rs2"], "pval": [0.1]}, "pval"),
        ("ld/clump", {"rsid": ["rs1"], "pval": [0]}, "pval"),
        ("ld/clump", {"rsid": ["rs1"], "pval": [1.5]}, "pval"),
        ("ld/clump", {"rsid": ["rs1"], "pval": [0.1], "pthresh": 2}, "pthresh"),
        ("ld/clump", {"rsid": ["rs1"], "pval": [0.1], "r2": -1}, "r2"),
        (  # comma-separated, as a form may send a long list
            "ld/clump",
            {
                "rsid": ",".join(f"rs{i}" for i in range(1, 50_002)),
                "pval": ",".join(["0.1"] * 50_001),
            },
            "rsid",
        ),
        ("ld/reflookup", {"rsid": ["rs1"], "pop": "eur"}, "pop"),
        ("tophits", {"id": REAL, "pop": "XYZ"}, "pop"),
        ("tophits", {"id": REAL, "kb": -5}, "kb"),
        ("associations", {"id": REAL, "variant": "rs1", "population": "XYZ"}, "population"),
        ("associations", {"id": REAL, "variant": "rs1", "maf_threshold": 0.7}, "maf_threshold"),
        ("variants/afl2", {"rsid": "1:5"}, "rsid"),
        ("variants/afl2", {}, "rsid"),
    ],
)
def test_bad_ld_requests_are_400_naming_the_parameter_and_free(
    backend: str, call: Caller, path: str, params: dict[str, Any], parameter: str
) -> None:
    auth = token()
    _, _, before = request(call, "GET", "status", auth=auth)
    status, body, _ = request(call, "POST", path, params, auth=auth)
    assert status == 400 and body["message"].startswith(f"{parameter}: "), body
    _, _, after = request(call, "GET", "status", auth=auth)  # status itself is free
    assert remaining(after) == remaining(before)


def test_ld_costs_are_opengwas_ones(backend: str, call: Caller) -> None:
    auth = token()
    spent = []
    for path, params in [
        ("ld/clump", {"rsid": ["rs3131971"], "pval": [1e-9]}),
        ("ld/matrix", {"rsid": ["rs3131971", "rs3094315"]}),
        ("ld/reflookup", {"rsid": ["rs3131971"]}),
        ("associations", {"id": PROXIED, "variant": ["rs3131971"]}),
        ("tophits", {"id": [REAL]}),
        ("tophits", {"id": [REAL], "pval": 1e-3}),
    ]:
        _, _, before = request(call, "GET", "status", auth=auth)
        status, body, after = request(call, "POST", path, params, auth=auth)
        assert status == 200, body
        spent.append(remaining(before) - remaining(after))
    assert spent == [12, 18, 2, 5, 1, 30]
