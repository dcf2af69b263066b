"""GWAS studies come and go one at a time: ingestion, replacement, removal, kills.

Values are checked against the input files read independently here (gzip + text).
"""

from __future__ import annotations

import gzip
import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from omicsgate.auth import Caller
from omicsgate.gwas import get_gwas, parse_chrpos
from omicsgate.ingest.cli import main
from omicsgate.storage import DataStore

pytestmark = pytest.mark.integration
SHARED_VCF = Path(__file__).resolve().parents[3] / "shared" / "data" / "gwasvcf" / "data.vcf.gz"
ANYONE = Caller()


def vcf_rows(path: Path, sample_size: float) -> list[dict[str, object]]:
    """The GWAS-VCF's rows as the file states them, parsed here without the project (a
    missing SS is the study's sample size)."""
    rows = []
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            f = line.rstrip("\n").split("\t")
            sample = dict(zip(f[8].split(":"), f[9].split(":"), strict=True))
            rows.append(
                {
                    "chr": f[0],
                    "position": int(f[1]),
                    "rsid": f[2],
                    "nea": f[3],
                    "ea": f[4],
                    "beta": float(sample["ES"]),
                    "se": float(sample["SE"]),
                    "p": 10 ** -float(sample["LP"]),
                    "eaf": float(sample["AF"]) if "AF" in sample else None,
                    "n": float(sample["SS"]) if "SS" in sample else sample_size,
                }
            )
    return rows


def write_meta(path: Path, **fields: object) -> str:
    path.write_text(json.dumps({"trait": "Test trait", "sample_size": 1000, **fields}))
    return str(path)


def write_vcf(
    path: Path, study: str, rows: list[tuple[int, str, str, str, float, float, float]]
) -> str:
    with gzip.open(path, "wt") as out:
        out.write("##fileformat=VCFv4.2\n")
        out.write(f"#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\t{study}\n")
        for pos, rsid, ref, alt, es, se, lp in rows:
            out.write(
                f"1\t{pos}\t{rsid}\t{ref}\t{alt}\t.\tPASS\t.\tES:SE:LP:AF\t{es}:{se}:{lp}:0.25\n"
            )
    return str(path)


def ingest(store: DataStore, *args: str) -> int:
    return main(["--quiet", "--data-uri", store.root, "ingest", "gwas", *args])


def test_real_study_equals_its_gwas_vcf(store: DataStore, tmp_path: Path) -> None:
    meta = write_meta(tmp_path / "m.json", trait="Body mass index", sample_size=339224)
    assert ingest(store, "--study", "ieu-a-2", "--metadata", meta, str(SHARED_VCF)) == 0
    gwas = get_gwas(store)
    study = gwas.study(ANYONE, "ieu-a-2")
    expected = vcf_rows(SHARED_VCF, 339224.0)
    assert any(r["eaf"] is None for r in expected)  # rows without AF: eaf is null
    assert study.info["nsnp"] == len(expected)
    served = gwas.associations([study], [parse_chrpos("1:1-250000000")])
    assert len(served) == len(expected)
    by_place = {(r["position"], r["ea"]): r for r in served}
    for row in expected:
        got = by_place[(row["position"], row["ea"])]
        for key in ("rsid", "nea", "beta", "se", "eaf", "n"):
            assert got[key] == row[key], key
        assert math.isclose(got["p"], row["p"], rel_tol=1e-12)
        assert got["chr"] == row["chr"] and got["trait"] == "Body mass index"
    hits = gwas.tophits(study, 0.05)
    assert [h["p"] for h in hits] == sorted(r["p"] for r in expected if r["p"] <= 0.05)
    assert study.files["vcf"].endswith("data.vcf.gz")


def test_ssf_tsv_and_from_dir_with_metadata_tsv(store: DataStore, tmp_path: Path) -> None:
    studies = tmp_path / "studies"
    studies.mkdir()
    columns = "chromosome base_pair_location effect_allele other_allele beta standard_error"
    header = "\t".join([*columns.split(), "effect_allele_frequency", "p_value", "rsid"]) + "\n"
    rng = np.random.default_rng(3)
    expected: dict[str, list[tuple[int, float, float]]] = {}
    for study in ("ssf-a-1", "ssf-a-2"):
        rows = [
            (1000 + 17 * i, float(rng.normal()), float(rng.uniform(1e-9, 1))) for i in range(50)
        ]
        expected[study] = rows
        lines = [f"X\t{pos}\tA\tG\t{beta!r}\t0.1\t0.3\t{p!r}\trs{pos}\n" for pos, beta, p in rows]
        (studies / f"{study}.tsv").write_text(header + "".join(lines))
    meta = tmp_path / "meta.tsv"
    meta.write_text("id\ttrait\tsample_size\nssf-a-1\tTrait one\t500\nssf-a-2\tTrait two\t700\n")
    assert ingest(store, "--from-dir", str(studies), "--metadata", str(meta)) == 0
    gwas = get_gwas(store)
    visible = gwas.visible(ANYONE)
    assert visible["ssf-a-2"].info["sample_size"] == 700
    got = gwas.associations([visible["ssf-a-1"]], [parse_chrpos("X:1000")])
    assert got[0]["beta"] == expected["ssf-a-1"][0][1]
    assert math.isclose(got[0]["p"], expected["ssf-a-1"][0][2], rel_tol=1e-12)
    assert got[0]["n"] == 500  # no n column: the study's sample size
    located = gwas.locate_rsids(["rs1017"])["rs1017"]
    assert [(x.chrom, x.start) for x in located] == [(23, 1017)]


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("1\t100\trs1\tA\tG\t.\tPASS\t.\tES:SE:LP\t0.1:0.1:-2\n", "LP"),
        ("1\t100\trs1\tA\tG\t.\tPASS\t.\tES:SE:LP\tx:0.1:2\n", "ES"),
        ("99\t100\trs1\tA\tG\t.\tPASS\t.\tES:SE:LP\t0.1:0.1:2\n", "CHROM"),
        ("1\tabc\trs1\tA\tG\t.\tPASS\t.\tES:SE:LP\t0.1:0.1:2\n", "POS"),
        ("1\t100\trs1\tA\t1\t.\tPASS\t.\tES:SE:LP\t0.1:0.1:2\n", "ALT"),
        ("1\t100\trs1\tA\tG\t.\tPASS\t.\tES:SE:LP:AF\t0.1:0.1:2:1.5\n", "AF"),
    ],
)
def test_malformed_vcf_names_line_and_field_and_keeps_the_old_study(
    local_store: DataStore,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    line: str,
    field: str,
) -> None:
    meta = write_meta(tmp_path / "m.json")
    good = write_vcf(tmp_path / "good.vcf.gz", "t-a-1", [(50, "rs50", "A", "C", 0.5, 0.1, 3.0)])
    assert ingest(local_store, "--study", "t-a-1", "--metadata", meta, good) == 0
    bad = tmp_path / "bad.vcf"
    bad.write_text(
        "##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS\n"
        "1\t90\trs9\tA\tG\t.\tPASS\t.\tES:SE:LP\t0.1:0.1:1\n" + line
    )
    capsys.readouterr()
    assert ingest(local_store, "--study", "t-a-1", "--metadata", meta, str(bad)) == 2
    message = capsys.readouterr().err
    assert f"{bad}:4: field {field}:" in message
    gwas = get_gwas(local_store)
    study = gwas.study(ANYONE, "t-a-1")
    assert [r["position"] for r in gwas.associations([study], [parse_chrpos("1:1-1000")])] == [50]
    assert len(os.listdir(Path(local_store.root) / "gwas" / "attempts")) == 1


def test_malformed_ssf_and_metadata(
    local_store: DataStore, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    meta = write_meta(tmp_path / "m.json")
    tsv = tmp_path / "s.tsv"
    tsv.write_text("chromosome\tbase_pair_location\teffect_allele\tother_allele\tbeta\tp_value\n")
    assert ingest(local_store, "--study", "t-a-2", "--metadata", meta, str(tsv)) == 2
    assert "field header: missing column(s): standard_error" in capsys.readouterr().err
    tsv.write_text(
        "chromosome\tbase_pair_location\teffect_allele\tother_allele\tbeta\tstandard_error\tp_value\n"
        "1\t5\tA\tG\t0.1\t0.1\t0\n"
    )
    assert ingest(local_store, "--study", "t-a-2", "--metadata", meta, str(tsv)) == 2
    assert f"{tsv}:2: field p_value: '0' is not in (0, 1]" in capsys.readouterr().err
    no_trait = tmp_path / "n.json"
    no_trait.write_text(json.dumps({"sample_size": 5}))
    assert ingest(local_store, "--study", "t-a-2", "--metadata", str(no_trait), str(tsv)) == 2
    assert "field trait" in capsys.readouterr().err
    assert get_gwas(local_store).studies() == {}


def test_replace_and_remove(store: DataStore, tmp_path: Path) -> None:
    meta = write_meta(tmp_path / "m.json")
    first = write_vcf(tmp_path / "a.vcf.gz", "r-a-1", [(10, "rs10", "A", "C", 0.5, 0.1, 3.0)])
    second = write_vcf(tmp_path / "b.vcf.gz", "r-a-1", [(20, "rs20", "A", "C", -0.5, 0.1, 9.0)])
    other = write_vcf(tmp_path / "c.vcf.gz", "r-a-2", [(10, "rs10", "A", "C", 0.7, 0.1, 2.0)])
    for study, path in (("r-a-1", first), ("r-a-2", other), ("r-a-1", second)):
        assert ingest(store, "--study", study, "--metadata", meta, path) == 0
    gwas = get_gwas(store)
    studies = list(gwas.visible(ANYONE).values())
    rows = gwas.associations(studies, [parse_chrpos("1:1-100")])
    assert [(r["id"], r["position"]) for r in rows] == [("r-a-1", 20), ("r-a-2", 10)]
    assert main(["--data-uri", store.root, "gwas", "remove", "r-a-1"]) == 0
    # A reader lists the studies again once its TTL has passed; a fresh one at once.
    fresh = type(gwas)(store)
    assert sorted(fresh.studies()) == ["r-a-2"]
    rows = fresh.phewas(list(fresh.studies().values()), [parse_chrpos("1:1-100")], 1.0)
    assert [(r["id"], r["position"]) for r in rows] == [("r-a-2", 10)]
    assert main(["--data-uri", store.root, "gwas", "remove", "r-a-1"]) == 2


def test_restricted_study_is_visible_to_its_group_only(
    local_store: DataStore, tmp_path: Path
) -> None:
    meta = write_meta(tmp_path / "m.json")
    path = write_vcf(tmp_path / "a.vcf.gz", "p-a-1", [(10, "rs10", "A", "C", 0.5, 0.1, 3.0)])
    assert (
        ingest(local_store, "--study", "p-a-1", "--metadata", meta, "--groups", "cohort-a", path)
        == 0
    )
    gwas = get_gwas(local_store)
    assert "p-a-1" not in gwas.visible(ANYONE)
    assert "p-a-1" not in gwas.visible(Caller(uid="u", groups=frozenset({"cohort-b"})))
    assert "p-a-1" in gwas.visible(Caller(uid="u", groups=frozenset({"cohort-a"})))


KILLED_INGEST = """
import os, sys
import numpy as np
from omicsgate.gwas.writer import Batch, add_study
from omicsgate.localapi.devtools import use_store
from omicsgate.storage import get_store

use_store(sys.argv[1])
def batches():
    yield Batch({
        "chrom": np.array([1], dtype=np.uint8), "pos": np.array([77], dtype=np.uint32),
        "rsid": np.array(["rs77"], dtype=object), "ea": np.array(["A"], dtype=object),
        "nea": np.array(["G"], dtype=object), "eaf": np.array([0.1]), "beta": np.array([9.0]),
        "se": np.array([1.0]), "lp": np.array([30.0]), "n": np.array([10.0]),
    })
    os._exit(9)  # killed after its rows reached the shared arrays, before its record
add_study(get_store(), "k-a-1", {"trait": "killed"}, batches())
"""


def test_a_killed_ingest_shows_nothing_and_consolidate_drops_its_rows(
    local_store: DataStore, tmp_path: Path
) -> None:
    meta = write_meta(tmp_path / "m.json")
    path = write_vcf(tmp_path / "a.vcf.gz", "k-a-2", [(77, "rs77", "A", "G", 0.1, 0.1, 1.0)])
    assert ingest(local_store, "--study", "k-a-2", "--metadata", meta, path) == 0
    killed = subprocess.run([sys.executable, "-c", KILLED_INGEST, local_store.root], check=False)
    assert killed.returncode == 9
    gwas = type(get_gwas(local_store))(local_store)
    assert sorted(gwas.studies()) == ["k-a-2"]
    everyone = list(gwas.studies().values())
    rows = gwas.phewas(everyone, [parse_chrpos("1:77")], 1.0)
    assert [(r["id"], r["beta"]) for r in rows] == [("k-a-2", 0.1)]
    raw = _slots_at(local_store, 77)
    assert len(raw) == 2  # the killed slot's row is there, unserved
    from omicsgate.gwas.writer import consolidate

    assert consolidate(local_store)["dropped_slots"] == []  # its writer may still be alive
    done = consolidate(local_store, grace_seconds=0)
    assert len(done["dropped_slots"]) == 1
    assert _slots_at(local_store, 77) == [gwas.studies()["k-a-2"].slot]
    assert ingest(local_store, "--study", "k-a-1", "--metadata", meta, path) == 0


def _slots_at(store: DataStore, pos: int) -> list[int]:
    """Slots with a row at chr1:pos in both shared association arrays, read raw."""
    import tiledb

    key = (1 << 32) | pos
    found = []
    for name, ranges in (
        ("by_position", [[(key, key)], slice(None)]),
        ("by_study", [slice(None), [(key, key)]]),
    ):
        with tiledb.open(f"{store.root}/gwas/{name}", ctx=store.ctx) as array:
            found.append(sorted(int(s) for s in array.multi_index[tuple(ranges)]["slot"]))
    assert found[0] == found[1]
    return found[0]


def test_block_cache_serves_what_a_direct_read_serves(
    store: DataStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On S3 reads of by_position go through the block cache (``gwas._blocks``): a warm
    reader sees a study added in a cached block once it lists the studies again, and every
    answer equals the direct read's (cache off), before and after consolidation."""
    from omicsgate.gwas.writer import consolidate

    meta = write_meta(tmp_path / "m.json")
    rows = [(p, f"rs{p}", "A", "C", 0.01 * p, 0.1, p / 10) for p in range(10, 400, 10)]
    first = write_vcf(tmp_path / "a.vcf.gz", "c-a-1", rows)
    assert ingest(store, "--study", "c-a-1", "--metadata", meta, first) == 0
    gwas = type(get_gwas(store))(store)
    assert (gwas._blocks is not None) == store.root.startswith("s3://")
    loci = [parse_chrpos("1:50"), parse_chrpos("1:100-200"), parse_chrpos("1:390")]
    assert [r["position"] for r in gwas.phewas(list(gwas.studies().values()), loci, 1.0)] == [
        390, 200, 190, 180, 170, 160, 150, 140, 130, 120, 110, 100, 50
    ]  # fmt: skip
    if gwas._blocks is not None:  # a block is read whole the second time it is asked for
        assert gwas._blocks.used == 0
        again = gwas.phewas(list(gwas.studies().values()), loci, 1.0)
        assert gwas._blocks.used > 0 and len(again) == 13
    other = write_vcf(tmp_path / "b.vcf.gz", "c-a-2", [(150, "rs150", "A", "C", 0.5, 0.1, 3.0)])
    assert ingest(store, "--study", "c-a-2", "--metadata", meta, other) == 0
    gwas._studies = None  # its TTL has passed
    for step in ("added", "consolidated"):
        studies = list(gwas.studies().values())
        monkeypatch.setenv("OMICSGATE_GWAS_BLOCK_CACHE_MB", "0")
        direct = type(gwas)(store)
        monkeypatch.delenv("OMICSGATE_GWAS_BLOCK_CACHE_MB")
        assert direct._blocks is None
        for reader in (gwas, type(gwas)(store)):
            got = reader.phewas(studies, loci, 1.0)
            assert got == direct.phewas(studies, loci, 1.0), step
            assert ("c-a-2", 150) in [(r["id"], r["position"]) for r in got]
            assert reader.associations(studies[1:], loci) == direct.associations(studies[1:], loci)
            assert reader.variants(loci, studies) == direct.variants(loci, studies)
        consolidate(store)
        gwas._studies = None
    snapshot = store.read_json(f"{store.root}/gwas/catalog.json.gz")
    assert snapshot["blocks"][0] == 0 and sorted(snapshot["records"]) == [
        "c-a-1@1.json", "c-a-2@2.json"
    ]  # fmt: skip


def test_an_array_opened_ahead_of_the_listing_still_shows_every_listed_study(
    store: DataStore, tmp_path: Path
) -> None:
    """A cold reader opens ``by_position`` while it lists the studies (``open_ahead``). A
    study committed after that open is listed but its rows are not in the handle's view:
    the handle is reopened before the read, so the new study's rows are served."""
    meta = write_meta(tmp_path / "m.json")
    first = write_vcf(tmp_path / "a.vcf.gz", "o-a-1", [(100, "rs100", "A", "C", 0.1, 0.1, 3.0)])
    assert ingest(store, "--study", "o-a-1", "--metadata", meta, first) == 0
    gwas = type(get_gwas(store))(store)
    gwas.open_ahead("positions")
    gwas._shared_array("by_position")  # the open has finished before the next commit
    second = write_vcf(tmp_path / "b.vcf.gz", "o-a-2", [(100, "rs100", "A", "C", 0.2, 0.1, 4.0)])
    assert ingest(store, "--study", "o-a-2", "--metadata", meta, second) == 0
    studies = list(gwas.studies().values())
    assert [s.id for s in studies] == ["o-a-1", "o-a-2"]
    rows = gwas.phewas(studies, [parse_chrpos("1:100")], 1.0)
    assert sorted(r["id"] for r in rows) == ["o-a-1", "o-a-2"]
