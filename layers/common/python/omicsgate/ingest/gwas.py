"""GWAS summary statistics in: GWAS-VCF (as OpenGWAS distributes it) and GWAS-SSF TSV.

Both are read as text, line by line, in batches of rows for :func:`omicsgate.gwas.writer.
add_study`. A malformed line stops the ingestion naming file, line and field; the study is
then not written (nothing becomes visible, an earlier version stays as it was).

- GWAS-VCF: one sample column; FORMAT keys ``ES`` (beta), ``SE``, ``LP`` (-log10 p),
  ``AF`` (ALT frequency), ``SS`` (sample size); ALT is the effect allele. Text, not
  cyvcf2: htslib hands FORMAT floats over as float32, and served values must equal the
  file's (``-0.0067`` stays ``-0.0067``). A multi-allelic record is one row per ALT.
- GWAS-SSF: tab-separated with a header naming ``chromosome``, ``base_pair_location``,
  ``effect_allele``, ``other_allele``, ``beta``, ``standard_error``, and ``p_value`` or
  ``neg_log_10_p_value``; optional ``effect_allele_frequency``, ``rsid`` (or
  ``variant_id``), ``n``.
- Metadata: a JSON object (or a list of them, or an object keyed by study ID) or a TSV
  with a header and an ``id`` column; ``trait`` is required. Numbers are kept as numbers.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from omicsgate.gwas import chrom_code
from omicsgate.gwas._codes import MAX_POSITION
from omicsgate.gwas.writer import ATTRIBUTES, Batch
from omicsgate.ingest.errors import InputError
from omicsgate.ingest.textfile import numbered_lines, parse_position

BATCH_ROWS = 500_000
VCF_SUFFIXES = (".vcf", ".vcf.gz", ".vcf.bgz")
TSV_SUFFIXES = (".tsv", ".tsv.gz", ".txt", ".txt.gz")
_INTEGER_FIELDS = ("sample_size", "ncase", "ncontrol", "year", "nsnp", "pmid")
_SSF_REQUIRED = (
    "chromosome",
    "base_pair_location",
    "effect_allele",
    "other_allele",
    "beta",
    "standard_error",
)


_COLUMNS: tuple[str, ...] = ("chrom", "pos", *ATTRIBUTES)


@dataclass
class _Rows:
    """Rows gathered into one batch."""

    values: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in _COLUMNS})

    def add(self, row: tuple[Any, ...]) -> None:
        for column, value in zip(_COLUMNS, row, strict=True):
            self.values[column].append(value)

    def __len__(self) -> int:
        return len(self.values["pos"])

    def batch(self) -> Batch:
        columns: dict[str, np.ndarray] = {
            "chrom": np.array(self.values["chrom"], dtype=np.uint8),
            "pos": np.array(self.values["pos"], dtype=np.uint32),
        }
        for name, dtype in ATTRIBUTES.items():
            kind = object if dtype is str else dtype
            columns[name] = np.array(self.values[name], dtype=kind)
        return Batch(columns)


def _batched(rows: Iterator[tuple[Any, ...]], size: int = BATCH_ROWS) -> Iterator[Batch]:
    gathered = _Rows()
    for row in rows:
        gathered.add(row)
        if len(gathered) >= size:
            yield gathered.batch()
            gathered = _Rows()
    if len(gathered):
        yield gathered.batch()


def source_kind(path: str) -> str:
    name = path.lower()
    if name.endswith(VCF_SUFFIXES):
        return "vcf"
    if name.endswith(TSV_SUFFIXES):
        return "tsv"
    raise InputError(path, 0, "file", f"not a GWAS-VCF ({', '.join(VCF_SUFFIXES)}) nor a "
                     f"GWAS-SSF TSV ({', '.join(TSV_SUFFIXES)})")  # fmt: skip


def read_batches(path: str, sample_size: float | None, progress: bool = False) -> Iterator[Batch]:
    """The file's rows in batches; ``sample_size`` fills a missing per-variant n."""
    if source_kind(path) == "vcf":
        return _batched(_vcf_rows(path, sample_size, progress))
    return _batched(_ssf_rows(path, sample_size, progress))


# Values ----------------------------------------------------------------------------------


def _number(path: str, line: int, name: str, text: str, missing_ok: bool = True) -> float:
    if text in (".", "", "NA", "nan", "NaN") and missing_ok:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        raise InputError(path, line, name, f"{text[:40]!r} is not a number") from None
    if not math.isfinite(value):
        raise InputError(path, line, name, f"{text[:40]!r} is not a finite number")
    return value


def _frequency(path: str, line: int, name: str, text: str) -> float:
    value = _number(path, line, name, text)
    if not (value != value or 0.0 <= value <= 1.0):
        raise InputError(path, line, name, f"{text!r} is not a frequency in [0, 1]")
    return value


def _allele(path: str, line: int, name: str, text: str) -> str:
    allele = text.strip().upper()
    if not allele or len(allele) > 1000 or not allele.isascii() or not allele.isalpha():
        raise InputError(path, line, name, f"{text[:40]!r} is not an allele (letters)")
    return allele


def _chrom(path: str, line: int, name: str, text: str) -> int:
    try:
        return chrom_code(text)
    except ValueError:
        raise InputError(path, line, name, f"unknown chromosome {text[:40]!r}") from None


def _position(path: str, line: int, name: str, text: str) -> int:
    pos = parse_position(path, line, name, text)
    if pos >= MAX_POSITION:
        raise InputError(path, line, name, f"{pos} is beyond 2^32 - 2")
    return pos


# GWAS-VCF --------------------------------------------------------------------------------


def vcf_header(path: str) -> dict[str, str]:
    """The study's ``##SAMPLE=<...>`` fields (``ID``, ``StudyType``, ``TotalCases``...)."""
    for _, line in numbered_lines(path):
        if line.startswith("##SAMPLE=<") and line.endswith(">"):
            pairs = (item.split("=", 1) for item in line[10:-1].split(",") if "=" in item)
            return {key: value for key, value in pairs}
        if not line.startswith("##"):
            break
    return {}


def _vcf_rows(path: str, sample_size: float | None, progress: bool) -> Iterator[tuple[Any, ...]]:
    columns: list[str] | None = None
    for number, line in numbered_lines(path, progress):
        if line.startswith("##"):
            continue
        if line.startswith("#"):
            columns = line[1:].split("\t")
            if len(columns) != 10 or columns[8] != "FORMAT":
                raise InputError(path, number, "#CHROM", "a GWAS-VCF has one sample column")
            continue
        if not line.strip():
            continue
        if columns is None:
            raise InputError(path, number, "#CHROM", "data before the #CHROM header line")
        yield from _vcf_record(path, number, line, sample_size)
    if columns is None:
        raise InputError(path, 1, "#CHROM", "no #CHROM header line: not a VCF")


def _vcf_record(
    path: str, number: int, line: str, sample_size: float | None
) -> Iterator[tuple[Any, ...]]:
    fields = line.split("\t")
    if len(fields) != 10:
        raise InputError(path, number, "columns", f"{len(fields)} columns, a GWAS-VCF has 10")
    chrom = _chrom(path, number, "CHROM", fields[0])
    pos = _position(path, number, "POS", fields[1])
    ref = _allele(path, number, "REF", fields[3])
    alts = [_allele(path, number, "ALT", a) for a in fields[4].split(",")]
    keys = fields[8].split(":")
    values = fields[9].split(":")
    if len(values) > len(keys):
        raise InputError(path, number, "FORMAT", "more sample values than FORMAT keys")
    sample = dict(zip(keys, values, strict=False))
    for key in ("ES", "LP"):
        if sample.get(key, ".") == ".":
            raise InputError(path, number, key, f"missing: every GWAS-VCF row needs {key}")
    rsid = sample.get("ID", ".") if sample.get("ID", ".") != "." else fields[2]
    rsid = "" if rsid == "." else rsid
    per_alt = {key: sample.get(key, ".").split(",") for key in ("ES", "SE", "LP", "AF", "SS")}
    for i, alt in enumerate(alts):

        def value(key: str, i: int = i) -> str:
            items = per_alt[key]
            return items[i] if i < len(items) else items[-1]

        lp = _number(path, number, "LP", value("LP"), missing_ok=False)
        if lp < 0:
            raise InputError(path, number, "LP", f"{value('LP')!r}: -log10 p cannot be negative")
        n = _number(path, number, "SS", value("SS"))
        yield (
            chrom, pos, rsid, alt, ref,
            _frequency(path, number, "AF", value("AF")),
            _number(path, number, "ES", value("ES"), missing_ok=False),
            _number(path, number, "SE", value("SE")),
            lp,
            n if n == n or sample_size is None else sample_size,
        )  # fmt: skip


# GWAS-SSF --------------------------------------------------------------------------------


def _ssf_rows(path: str, sample_size: float | None, progress: bool) -> Iterator[tuple[Any, ...]]:
    header: dict[str, int] | None = None
    for number, line in numbered_lines(path, progress):
        if not line.strip():
            continue
        fields = line.split("\t")
        if header is None:
            header = _ssf_header(path, number, fields)
            continue
        if len(fields) != len(header):
            raise InputError(
                path, number, "columns", f"{len(fields)} columns, the header has {len(header)}"
            )
        yield _ssf_row(path, number, fields, header, sample_size)
    if header is None:
        raise InputError(path, 1, "header", "empty file: no header line")


def _ssf_header(path: str, number: int, fields: list[str]) -> dict[str, int]:
    header = {name.strip().lower(): i for i, name in enumerate(fields)}
    missing = [name for name in _SSF_REQUIRED if name not in header]
    if "p_value" not in header and "neg_log_10_p_value" not in header:
        missing.append("p_value (or neg_log_10_p_value)")
    if missing:
        raise InputError(path, number, "header", f"missing column(s): {', '.join(missing)}")
    return header


def _ssf_row(
    path: str, number: int, fields: list[str], header: dict[str, int], sample_size: float | None
) -> tuple[Any, ...]:
    def text(name: str) -> str:
        return fields[header[name]].strip() if name in header else "."

    if "neg_log_10_p_value" in header:
        lp = _number(path, number, "neg_log_10_p_value", text("neg_log_10_p_value"), False)
        if lp < 0:
            raise InputError(path, number, "neg_log_10_p_value", "cannot be negative")
    else:
        p = _number(path, number, "p_value", text("p_value"), missing_ok=False)
        if not 0.0 < p <= 1.0:
            raise InputError(path, number, "p_value", f"{text('p_value')!r} is not in (0, 1]")
        lp = -math.log10(p)
    rsid = text("rsid") if "rsid" in header else text("variant_id")
    n = _number(path, number, "n", text("n"))
    return (
        _chrom(path, number, "chromosome", text("chromosome")),
        _position(path, number, "base_pair_location", text("base_pair_location")),
        "" if rsid in (".", "NA", "") else rsid,
        _allele(path, number, "effect_allele", text("effect_allele")),
        _allele(path, number, "other_allele", text("other_allele")),
        _frequency(path, number, "effect_allele_frequency", text("effect_allele_frequency")),
        _number(path, number, "beta", text("beta"), missing_ok=False),
        _number(path, number, "standard_error", text("standard_error")),
        lp,
        n if n == n or sample_size is None else sample_size,
    )


# Metadata --------------------------------------------------------------------------------


def read_metadata(path: str) -> dict[str, dict[str, Any]]:
    """Study ID -> metadata. A JSON object without ``id`` is keyed by ``""`` (the one study
    of the command)."""
    if path.lower().endswith(".json"):
        return _json_metadata(path)
    records: dict[str, dict[str, Any]] = {}
    lines = [(n, line) for n, line in numbered_lines(path) if line.strip()]
    if not lines:
        raise InputError(path, 1, "header", "empty metadata file")
    header = [h.strip() for h in lines[0][1].split("\t")]
    if "id" not in header:
        raise InputError(path, lines[0][0], "header", "a metadata TSV needs an 'id' column")
    for number, line in lines[1:]:
        values = next(csv.reader([line], delimiter="\t"))
        if len(values) != len(header):
            raise InputError(
                path, number, "columns", f"{len(values)} columns, the header has {len(header)}"
            )
        row = {k: v for k, v in zip(header, values, strict=True) if v not in ("", "NA")}
        records[row.get("id", "")] = _typed(path, number, row)
    return records


def _json_metadata(path: str) -> dict[str, dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except FileNotFoundError:
        raise InputError(path, 0, "file", "no such file") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(path, getattr(error, "lineno", 1), "json", f"not JSON: {error}") from None
    if isinstance(document, list):
        items = document
    elif (
        isinstance(document, dict)
        and all(isinstance(v, dict) for v in document.values())
        and document
    ):
        items = [{"id": key, **value} for key, value in document.items()]
    else:
        items = [document]
    records = {}
    for item in items:
        if not isinstance(item, dict):
            raise InputError(path, 1, "json", "metadata must be an object (or a list of them)")
        records[str(item.get("id", ""))] = _typed(path, 1, item)
    return records


def _typed(path: str, line: int, row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in _INTEGER_FIELDS:
        if key in out and out[key] is not None and not isinstance(out[key], int):
            try:
                out[key] = int(float(str(out[key])))
            except ValueError:
                raise InputError(
                    path, line, key, f"{str(out[key])[:40]!r} is not a number"
                ) from None
    return out


def study_metadata(
    metadata: dict[str, dict[str, Any]], study_id: str, path: str, vcf: str | None
) -> dict[str, Any]:
    """The study's metadata from the file (its row, or the only one), completed from the
    GWAS-VCF header: ``trait`` is required."""
    info = dict(metadata.get(study_id) or metadata.get("") or {})
    if not info and len(metadata) == 1:
        info = dict(next(iter(metadata.values())))
    if vcf:
        header = vcf_header(vcf)
        for key, field_name in (("ncase", "TotalCases"), ("ncontrol", "TotalControls")):
            if key not in info and header.get(field_name, "").isdigit():
                info[key] = int(header[field_name])
    if not info.get("trait"):
        raise InputError(path, 1, "trait", f"no trait for study {study_id!r}")
    info.pop("id", None)
    info.setdefault("build", "HG19/GRCh37")
    return info


# Commands --------------------------------------------------------------------------------


@dataclass(frozen=True)
class StudyInput:
    study_id: str
    files: list[str]
    info: dict[str, Any]

    @property
    def served_files(self) -> dict[str, str]:
        """The GWAS-VCF and its index, when the study came as one (what OpenGWAS serves)."""
        vcfs = [f for f in self.files if source_kind(f) == "vcf"]
        if len(vcfs) != 1:
            return {}
        files = {"vcf": vcfs[0]}
        if os.path.exists(vcfs[0] + ".tbi"):
            files["tbi"] = vcfs[0] + ".tbi"
        return files


def ingest_study(
    store: Any,
    study: StudyInput,
    groups: frozenset[str] = frozenset(),
    progress: bool = False,
) -> Any:
    from omicsgate.gwas.writer import add_study

    for path in study.files:
        source_kind(path)
    sample_size = study.info.get("sample_size")
    n = float(sample_size) if isinstance(sample_size, int | float) else None

    def batches() -> Iterator[Batch]:
        for path in study.files:
            yield from read_batches(path, n, progress)

    return add_study(store, study.study_id, study.info, batches(), groups, study.served_files)


def studies_in_dir(
    directory: str, metadata: dict[str, dict[str, Any]], metadata_path: str
) -> list[StudyInput]:
    """One study per summary-statistics file in ``directory``, named by the file (``ID.vcf.gz``
    or ``ID.tsv.gz``); metadata from the file's row, or ``ID.json`` beside it."""
    if not os.path.isdir(directory):
        raise InputError(directory, 0, "directory", "no such directory")
    studies = []
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        lowered = name.lower()
        suffix = next((s for s in (*VCF_SUFFIXES, *TSV_SUFFIXES) if lowered.endswith(s)), None)
        if suffix is None or not os.path.isfile(path):
            continue
        study_id = name[: -len(suffix)]
        own = os.path.join(directory, f"{study_id}.json")
        rows = read_metadata(own) if os.path.exists(own) else metadata
        source = own if os.path.exists(own) else metadata_path
        vcf = path if suffix in VCF_SUFFIXES else None
        studies.append(StudyInput(study_id, [path], study_metadata(rows, study_id, source, vcf)))
    if not studies:
        raise InputError(directory, 0, "directory", "no .vcf.gz or .tsv(.gz) file in it")
    return studies
