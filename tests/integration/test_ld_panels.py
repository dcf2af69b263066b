"""LD reference panels in storage: ingestion through the CLI, replacement, failures that
leave the previous panel serving, the read-by-window path of large panels, and several
populations side by side in /variants/afl2 (on a local directory and on moto S3)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import numpy as np
import pytest

from omicsgate.gwas import _panels, get_gwas, reset_gwas
from omicsgate.gwas.ld import afl2_for
from omicsgate.gwas.panel_writer import PanelData, write_panel
from omicsgate.ingest.cli import main
from omicsgate.ingest.plink import read_plink
from omicsgate.localapi.devtools import reset_settings, use_store
from omicsgate.storage import get_store
from tests.conftest import BUCKET
from tests.integration.test_gwas_ingest import SHARED_VCF

pytestmark = pytest.mark.integration
PANEL = SHARED_VCF.parent / "eur"


def ingest_panel(uri: str, population: str, bfile: Path | str) -> int:
    return main(
        [
            "--quiet",
            "--data-uri",
            uri,
            "ingest",
            "ld-panel",
            "--population",
            population,
            "--bfile",
            str(bfile),
        ]
    )


@pytest.fixture(params=["local", "s3"])
def uri(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "s3":
        location = f"s3://{BUCKET}/panels-{uuid.uuid4().hex[:8]}"
        use_store(location, request.getfixturevalue("moto_endpoint"))
    else:
        location = str(tmp_path / "data")
        use_store(location)
    reset_gwas()
    yield location
    reset_settings()
    reset_gwas()


def test_a_panel_reads_back_the_same_by_rsid_by_window_and_genotypes(uri: str) -> None:
    assert ingest_panel(uri, "EUR", PANEL) == 0
    plink = read_plink(str(PANEL))
    panel = get_gwas(get_store()).panel("EUR")
    assert (panel.size, panel.samples) == (len(plink.rsid), len(plink.samples))
    names = ["rs12565286", "rs3131971", "rs999999999"]
    ranges = [((1 << 32) | 700_000, (1 << 32) | 760_000), ((1 << 32) | 10_000, (1 << 32) | 20_000)]
    index = np.array([169, 3, 162, 3, len(plink.rsid) - 1])
    answers = []
    for cells in (_panels.IN_MEMORY_CELLS, 0):  # held whole, then read by window
        _panels.IN_MEMORY_CELLS, saved = cells, _panels.IN_MEMORY_CELLS
        try:
            record = {
                "population": "EUR", "snps": panel.size, "samples": panel.samples,
                "attempt": panel.base.rsplit("/gwas/", 1)[1],
            }  # fmt: skip
            fresh = _panels.Panel(get_store(), record)
            assert fresh.in_memory == (cells > 0)
            answers.append((fresh.by_rsid(names), fresh.in_ranges(ranges), fresh.dosages(index)))
        finally:
            _panels.IN_MEMORY_CELLS = saved
    for by_rsid, window, dosage in answers:
        assert list(by_rsid.rsid) == ["rs12565286", "rs3131971"]
        for row, rsid in zip(by_rsid.index, by_rsid.rsid, strict=True):
            i = plink.rsid.index(rsid)
            assert row == i and by_rsid.a1[list(by_rsid.rsid).index(rsid)] == plink.a1[i]
        inside = [
            i
            for i, p in enumerate(plink.position)
            if 700_000 <= p <= 760_000 or 10_000 <= p <= 20_000
        ]
        assert list(window.index) == inside
        assert window.freq == pytest.approx(np.nanmean(plink.dosage[inside], axis=1) / 2)
        np.testing.assert_array_equal(dosage, plink.dosage[index])


def test_a_bad_panel_stops_with_file_line_and_field_and_the_old_one_serves(
    uri: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert ingest_panel(uri, "EUR", PANEL) == 0
    before = get_gwas(get_store()).panel("EUR").base
    bad = tmp_path / "bad"
    for suffix in (".bed", ".fam"):
        shutil.copy(f"{PANEL}{suffix}", f"{bad}{suffix}")
    lines = Path(f"{PANEL}.bim").read_text().splitlines()
    lines[6] = "chrQ" + lines[6][1:]
    Path(f"{bad}.bim").write_text("\n".join(lines) + "\n")
    assert ingest_panel(uri, "EUR", bad) != 0
    assert f"{bad}.bim:7: field chromosome: unknown chromosome 'chrQ'" in capsys.readouterr().err
    Path(f"{bad}.bim").write_text("\n".join(lines[:-1]) + "\n")  # one SNP short of the .bed
    assert ingest_panel(uri, "EUR", bad) != 0
    assert f"{bad}.bed:0: field size" in capsys.readouterr().err
    reset_gwas()
    assert get_gwas(get_store()).panel("EUR").base == before
    with pytest.raises(SystemExit):  # argparse: an unknown population
        ingest_panel(uri, "XYZ", PANEL)


def test_populations_side_by_side_in_afl2_with_alleles_oriented(uri: str) -> None:
    plink = read_plink(str(PANEL))
    assert ingest_panel(uri, "EUR", PANEL) == 0
    # A second population: the first 500 SNPs, alleles listed the other way round and
    # genotypes resampled, so its frequencies differ and must be flipped to match EUR's.
    rng = np.random.default_rng(3)
    keep = np.arange(500)
    freq = rng.uniform(0.05, 0.95, len(keep))
    dosage = rng.binomial(2, freq[:, None], (len(keep), 300)).astype(float)
    column = {
        name: np.asarray(getattr(plink, name), dtype=object)[keep] for name in ("rsid", "a1", "a2")
    }
    other = PanelData(
        chrom=np.ones(len(keep), dtype=np.uint8),
        pos=plink.position[keep],
        rsid=column["rsid"],
        a1=column["a2"],
        a2=column["a1"],
        dosage=dosage,
        samples=[f"s{i}" for i in range(300)],
    )
    write_panel(get_store(), "AFR", other)
    reset_gwas()
    gwas = get_gwas(get_store())
    assert list(gwas.panels()) == ["EUR", "AFR"]
    wanted = [plink.rsid[i] for i in (10, 200, 1500)]
    records = {r["rsid"]: r for r in afl2_for(gwas, wanted, [])}
    for i in (10, 200, 1500):
        record = records[plink.rsid[i]]
        assert record["alt"] == plink.a1[i]
        assert record["AF.EUR"] == pytest.approx(np.nanmean(plink.dosage[i]) / 2)
        if i < 500:  # AFR counts the other allele: ALT's frequency is one minus its own
            assert record["AF.AFR"] == pytest.approx(1 - dosage[i].mean() / 2)
        else:
            assert record["AF.AFR"] is None and record["L2.AFR"] is None
    common = gwas.snplist()
    assert common and all(r["AF.AFR"] is not None and 0.05 <= r["AF.AFR"] <= 0.95 for r in common)
