"""``omicsgate ingest ld-panel``: a PLINK bed/bim/fam LD reference panel, one population."""

from __future__ import annotations

import numpy as np

from omicsgate.gwas import chrom_code
from omicsgate.gwas.panel_writer import InvalidPanel, PanelData, write_panel
from omicsgate.ingest.errors import InputError
from omicsgate.ingest.plink import PlinkSet, read_plink
from omicsgate.storage import DataStore


def ingest_panel(store: DataStore, population: str, bfile: str) -> dict[str, object]:
    """Read ``bfile``.bed/.bim/.fam and store it as the population's panel; the record."""
    plink = read_plink(bfile)
    try:
        return write_panel(store, population, panel_data(plink, f"{bfile}.bim"), source=bfile)
    except InvalidPanel as error:
        raise InputError(bfile, 0, "panel", str(error)) from None


def panel_data(plink: PlinkSet, bim: str) -> PanelData:
    codes = np.empty(len(plink.chromosome), dtype=np.uint8)
    for line, name in enumerate(plink.chromosome, start=1):
        try:
            codes[line - 1] = chrom_code(name)
        except ValueError as error:
            raise InputError(bim, line, "chromosome", str(error)) from None
    return PanelData(
        chrom=codes,
        pos=plink.position,
        rsid=np.asarray(plink.rsid, dtype=object),
        a1=np.asarray(plink.a1, dtype=object),
        a2=np.asarray(plink.a2, dtype=object),
        dosage=plink.dosage,
        samples=plink.samples,
    )
