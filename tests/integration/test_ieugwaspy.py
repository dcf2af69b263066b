"""The real OpenGWAS Python client, ieugwaspy 1.0.6 from PyPI, unmodified, against the
local API serving the demo catalogue (``make serve``'s server on the test release).

ieugwaspy pins nothing that clashes with ours, but it drags in ``retry`` and the retired
``py`` package, so it lives in its own virtual environment, ``.venv-ieugwaspy``
(``make ieugwaspy`` creates it; ``make test`` depends on it). The client runs there in a
subprocess; its answers come back as JSON and are compared with the same requests made
through the Lambda handler."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from omicsgate.ingest.plink import read_plink
from tests.conftest import ROOT, Caller
from tests.integration.test_gwas_ingest import SHARED_VCF, vcf_rows
from tests.ld_reference import brute_haplotype_r
from tests.tokens import user_token

pytestmark = pytest.mark.integration
CLIENT_PYTHON = ROOT / ".venv-ieugwaspy" / "bin" / "python"

CLIENT = """
import json, sys
import ieugwaspy
from ieugwaspy import config, query, variants

config.env["base_url"] = sys.argv[1]
config.env["jwt"] = sys.argv[2]
out = {
    "version": config.__version__,
    "status": query.status(),
    "user": query.user(),
    "gwasinfo_all": query.gwasinfo(),
    "gwasinfo": query.gwasinfo(["ieu-a-2", "demo-a-1", "demo-a-5"]),
    "files": query.gwasinfo_files(["ieu-a-2"]),
    "associations": query.associations(["rs12565286", "1:723819", "1:750000-800000"],
                                       ["ieu-a-2", "demo-a-1"], proxies=0),
    "tophits": query.tophits(["ieu-a-2"], pval=0.05, clump=0),
    "tophits_clumped": query.tophits(["ieu-a-2", "demo-a-1"]),
    "tophits_all": query.tophits(["demo-a-1"], clump=0),
    "tophits_reclumped": query.tophits(["demo-a-1"], r2=0.01, kb=500),
    "associations_defaults": query.associations(["rs12565286", "rs3131971"],
                                                ["ieu-a-2", "demo-a-1"]),
    "phewas": query.phewas(["rs12565286"], pval=1),
    "phewas_chrpos": query.phewas(["1:721290"], pval=1, batch=["ieu-a"]),
    "variants_chrpos": variants.variants_chrpos("1:721290"),
    "variants_to_rsid": variants.variants_to_rsid(["1:723819", "rs123"]),
}
print(json.dumps(out))
"""


def run_client(base_url: str, token: str) -> dict[str, Any]:
    if not CLIENT_PYTHON.exists():
        pytest.fail("no .venv-ieugwaspy: run `make ieugwaspy` (make test does)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    done = subprocess.run(
        [str(CLIENT_PYTHON), "-c", CLIENT, base_url, token],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=Path(ROOT / ".venv-ieugwaspy"),  # its .ieugwaspy.json lookup finds nothing
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_ieugwaspy_works_unmodified(server: str, local_data: str, call: Caller) -> None:
    token = user_token("ieu-client", {"cohort-b"})
    out = run_client(f"{server}/gwas/", token)
    assert out["version"] == "1.0.6"
    assert out["status"]["STATISTICS__N_DATASETS"] == 5
    assert out["user"]["user"]["uid"] == "ieu-client"

    assert sorted(out["gwasinfo_all"]) == [
        "demo-a-1",
        "demo-a-2",
        "demo-a-3",
        "demo-a-4",
        "ieu-a-2",
    ]
    assert [g["id"] for g in out["gwasinfo"]] == ["ieu-a-2", "demo-a-1"]  # demo-a-5: restricted
    assert out["gwasinfo"][0]["trait"] == "Body mass index"
    assert list(out["files"]) == ["ieu-a-2"] and out["files"]["ieu-a-2"][0].startswith(server)

    # Associations: the real study's values are the GWAS-VCF's.
    expected = {r["rsid"]: r for r in vcf_rows(SHARED_VCF, 339224.0)}
    real = [r for r in out["associations"] if r["id"] == "ieu-a-2"]
    assert {r["rsid"] for r in real} >= {"rs12565286", "rs11804171"}
    for row in real:
        want = expected[row["rsid"]]
        assert (row["beta"], row["se"], row["ea"], row["nea"]) == (
            want["beta"],
            want["se"],
            want["ea"],
            want["nea"],
        )
        assert row["p"] == pytest.approx(want["p"], rel=1e-12)
    assert {r["id"] for r in out["associations"]} == {"ieu-a-2", "demo-a-1"}

    hits = out["tophits"]
    assert [h["p"] for h in hits] == sorted(h["p"] for h in hits)
    assert len(hits) == sum(1 for r in expected.values() if r["p"] <= 0.05)
    # Clumping with ieugwaspy's own defaults (preclumped) and re-clumped on the server:
    # index SNPs are never in LD above r2 with each other, and every other top hit is in
    # LD above r2 with a more significant index SNP within kb (brute force on the panel).
    everything = {h["rsid"]: h for h in out["tophits_all"]}
    preclumped = [h for h in out["tophits_clumped"] if h["id"] == "demo-a-1"]
    for index, r2, kb in ((preclumped, 0.001, 10_000), (out["tophits_reclumped"], 0.01, 500)):
        assert index and {h["rsid"] for h in index} <= set(everything)
        check_clumps([h["rsid"] for h in index], everything, r2, kb)

    # Associations with ieugwaspy's defaults ask for proxies: direct rows say so.
    rows = out["associations_defaults"]
    assert rows and all("proxy" in r for r in rows)
    direct = {(r["id"], r["rsid"]) for r in rows if not r["proxy"]}
    assert ("ieu-a-2", "rs12565286") in direct and ("demo-a-1", "rs3131971") in direct

    phewas = out["phewas"]
    assert [r["id"] for r in phewas] == sorted(r["id"] for r in phewas)
    assert "ieu-a-2" in {r["id"] for r in phewas} and "demo-a-5" not in {r["id"] for r in phewas}
    assert [r["id"] for r in out["phewas_chrpos"]] == ["ieu-a-2"]
    assert out["phewas_chrpos"][0]["rsid"] == "rs12565286"
    assert out["variants_chrpos"] == "rs12565286"
    assert out["variants_to_rsid"] == ["rs11804171", "rs123"]


def check_clumps(index: list[str], hits: dict[str, dict], r2: float, kb: float) -> None:  # type: ignore[type-arg]
    panel = read_plink(str(SHARED_VCF.parent / "eur"))
    row = {rsid: i for i, rsid in enumerate(panel.rsid)}

    def ld(a: str, b: str) -> float:
        return brute_haplotype_r(panel.dosage[row[a]], panel.dosage[row[b]]) ** 2

    def near(a: str, b: str) -> bool:
        return abs(hits[a]["position"] - hits[b]["position"]) <= kb * 1000 - 1

    for i, a in enumerate(index):
        assert all(not (near(a, b) and ld(a, b) > r2) for b in index[i + 1 :]), a
    for rsid, hit in hits.items():
        if rsid in index or rsid not in row or hit["p"] > 5e-8:
            continue
        assert any(
            near(rsid, a) and hits[a]["p"] <= hit["p"] and ld(rsid, a) > r2 for a in index
        ), rsid
