"""Independent readers of the demo input files: the truth the API is checked against."""

from __future__ import annotations

import csv
import gzip

import yaml

from tests.conftest import SHARED

SPEC = SHARED / "specs" / "ratgtex-v4-openapi.yaml"


def spec_item_fields(path: str, key: str) -> set[str]:
    """Field names of one response item, as the RatGTEx v4 OpenAPI document lists them."""
    spec = yaml.safe_load(SPEC.read_text())
    schema = spec["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
    return set(schema["schema"]["properties"][key]["items"]["properties"])


def gtf_records(path: str, feature: str) -> list[dict[str, str]]:
    records = []
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            cells = line.rstrip("\n").split("\t")
            if cells[2] != feature:
                continue
            attrs = dict(
                (part.strip().split(" ", 1)[0], part.strip().split(" ", 1)[1].strip('"'))
                for part in cells[8].split(";")
                if part.strip()
            )
            records.append(
                {"chrom": cells[0], "start": cells[3], "end": cells[4], "strand": cells[6], **attrs}
            )
    return records


def tsv_rows(path: str) -> list[dict[str, str]]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def vcf_sites(path: str) -> list[tuple[str, int, str, str]]:
    sites = []
    with gzip.open(path, "rt") as handle:
        for line in handle:
            if line.startswith("#"):
                continue
            chrom, pos, _, ref, alts = line.split("\t")[:5]
            sites.extend((chrom, int(pos), ref, alt) for alt in alts.split(","))
    return sites
