"""The genotype part of a release, streamed from a VCF (bgzipped, gzipped or plain).

What is written is described in :mod:`omicsgate.portal.qtl_schema` (``genotypes``,
``genotype_variants``, ``genotype_samples``). Choices made here:

- Parser: cyvcf2 (htslib), at ingestion only; it reads bgzip, plain gzip and plain text.
  Before cyvcf2 opens the file, the header is read as text up to ``#CHROM``: that gives the
  header's line count (a record's line is the header lines plus its index; htslib hands
  blank lines over as empty records, which are counted and skipped) and lets duplicate or
  missing sample names be reported by name (htslib only says "cannot parse VCF header").
- Dosage: the number of copies of an ALT allele in ``GT``, int8. A multi-allelic site is one
  row per ALT allele (``1/2`` is 1 for ALT 1 and 1 for ALT 2), in ALT order. A call with any
  missing allele (``./.``, ``./1``, ``.``) is ``MISSING_DOSAGE`` for every ALT row. Sites
  without an ALT allele (``ALT=.``) are skipped: there is nothing to test.
- Ploidy: diploid calls everywhere. Haploid calls (``0``, ``1``) are accepted on the sex
  chromosomes and mitochondria only (X, Y, M, MT, with or without ``chr``) and counted as
  homozygous (0 or 2, the PLINK convention tensorQTL inherits), so a hemizygous male's ALT
  counts like a homozygous female's. A haploid call elsewhere, and any call of ploidy > 2,
  is refused.
- Refused, naming file, line and field: a missing or empty file, no ``#CHROM`` line, no or
  duplicate sample names, a record without ``GT``, an unparseable record (the line is read
  again as text to name the field: POS, the sample whose GT is bad, the column count), an
  allele index beyond the site's alleles, positions that go back within a chromosome or a
  chromosome that comes back after another (the VCF must be sorted), and a VCF with no
  variant. A failure leaves no part behind: the PartWriter removes the attempt.
- Streaming and layout: dosages are gathered into a batch of about 64 MB of whole variant
  rows and each batch is written as one tile-aligned fragment ``[r0:r1, 0:S]`` of the dense
  ``genotypes`` array (tile ``(1, S)``, zstd): one variant is one tile, one read. The
  variant count is only known at the end, so the ``variant_row`` domain is
  ``[0, MAX_VARIANT_ROWS)``; rows past the last variant are never written (they read as
  ``MISSING_DOSAGE``, the fill value) and the row count is the part record's ``rows`` and the
  ``genotype_variants`` table's length. ``genotype_variants`` is appended batch by batch
  (one fragment each, consolidated at commit), so memory holds one batch whatever the
  VCF's size (GTEx: 10M variants x 838 samples is 8.4 GB of dosages, 125 fragments).
- Speed, measured here: 20,000 variants x 838 samples (BGZF, simulated) in 4.9 s, about
  250 us a variant (htslib's parse and cyvcf2's GT matrix about 85 us of it; diploid
  biallelic records take a fast path), peak RSS 263 MB. A GTEx-size VCF is about 45 min
  on one core; batching the per-record numpy work across records is the next speed-up.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from omicsgate.ingest.errors import InputError
from omicsgate.ingest.textfile import numbered_lines
from omicsgate.portal import qtl_schema as qs

if TYPE_CHECKING:
    import tiledb

    from omicsgate.storage.writer import PartWriter

BATCH_BYTES = 64 * 2**20  # dosages of one batch, one fragment
MAX_VARIANT_ROWS = 2**40  # the variant_row domain (the storage layer's integer domain)
ZSTD_LEVEL = 3
HAPLOID_CHROMOSOMES = frozenset({"X", "Y", "M", "MT"})
VARIANT_DIMS = ("chromosome", "pos")


@dataclass
class GenotypeInputs:
    vcf: str


@dataclass(frozen=True)
class VcfHeader:
    samples: list[str]
    lines: int  # header lines, #CHROM included: record k (from 0) is on line lines + 1 + k


def read_header(path: str) -> VcfHeader:
    """The header, read as text up to ``#CHROM``: sample names (checked) and line count."""
    for number, line in numbered_lines(path):  # closed when collected (CPython: at once)
        if line.startswith("##"):
            continue
        if not line.startswith("#CHROM"):
            field = "header" if number == 1 else "#CHROM"
            raise InputError(path, number, field, "expected the #CHROM header line")
        columns = line.split("\t")
        fixed = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO"]
        if columns[:8] != fixed:
            raise InputError(path, number, "#CHROM", "not the VCF column header")
        samples = columns[9:]
        if len(columns) < 10 or columns[8] != "FORMAT" or not samples:
            raise InputError(path, number, "#CHROM", "no samples (FORMAT and sample columns)")
        seen: set[str] = set()
        for sample in samples:
            if not sample.strip():
                raise InputError(path, number, "#CHROM", "an empty sample name")
            if sample in seen:
                raise InputError(path, number, sample, "sample name appears twice")
            seen.add(sample)
        return VcfHeader(samples, number)
    raise InputError(path, 1, "header", "empty file: no VCF header")


def _is_haploid_chromosome(chromosome: str) -> bool:
    name = chromosome[3:] if chromosome.lower().startswith("chr") else chromosome
    return name.upper() in HAPLOID_CHROMOSOMES


def dosages(
    path: str, line: int, chromosome: str, alleles: np.ndarray, alts: int, samples: list[str]
) -> np.ndarray:
    """ALT allele counts (alts x samples, int8) from cyvcf2's allele matrix (samples x
    ploidy: allele index, -1 missing, -2 vector end = lower ploidy)."""
    if alleles.shape[1] == 2 and alts == 1:  # the common case, diploid biallelic: fast path
        low, high = int(alleles.min()), int(alleles.max())
        if low >= 0 and high <= 1:
            return alleles.sum(axis=1, dtype=np.int8)[None, :]
        if low >= -1 and high <= 1:
            counts = (alleles == 1).sum(axis=1, dtype=np.int8)
            counts[(alleles < 0).any(axis=1)] = qs.MISSING_DOSAGE
            return counts[None, :]
    if alleles.shape[1] > 2:
        extra = (alleles[:, 2:] != -2).any(axis=1)
        if extra.any():
            sample = samples[int(np.argmax(extra))]
            raise InputError(path, line, sample, "GT of ploidy > 2: only diploid calls are read")
    first = alleles[:, 0]
    second = alleles[:, 1] if alleles.shape[1] > 1 else np.full_like(first, -2)
    if (first == -2).any():
        sample = samples[int(np.argmax(first == -2))]
        raise InputError(path, line, sample, "empty GT")
    haploid = second == -2  # "." alone is a missing call, on any chromosome
    if (haploid & (first != -1)).any() and not _is_haploid_chromosome(chromosome):
        sample = samples[int(np.argmax(haploid & (first != -1)))]
        raise InputError(
            path, line, sample, f"haploid GT on {chromosome}: only X, Y and MT may be haploid"
        )
    beyond = (first > alts) | (second > alts)
    if beyond.any():
        sample = samples[int(np.argmax(beyond))]
        raise InputError(path, line, sample, f"allele index beyond the site's {alts} ALT")
    missing = (first == -1) | (second == -1)
    codes = np.arange(1, alts + 1, dtype=first.dtype)[:, None]
    counts = (first[None, :] == codes).astype(np.int8)
    counts += np.where(haploid[None, :], counts, second[None, :] == codes).astype(np.int8)
    counts[:, missing] = qs.MISSING_DOSAGE
    return counts


def _zstd() -> tiledb.FilterList:
    import tiledb

    return tiledb.FilterList([tiledb.ZstdFilter(level=ZSTD_LEVEL)])


def create_genotypes(uri: str, samples: int, ctx: tiledb.Ctx) -> None:
    """The ``genotypes`` array: one tile is one variant across every sample."""
    import tiledb

    domain = tiledb.Domain(
        tiledb.Dim(
            name="variant_row", domain=(0, MAX_VARIANT_ROWS - 1), tile=1, dtype=np.int64, ctx=ctx
        ),
        tiledb.Dim(
            name="genotype_sample", domain=(0, samples - 1), tile=samples, dtype=np.int64, ctx=ctx
        ),
        ctx=ctx,
    )
    attr = tiledb.Attr(
        name="dosage", dtype=np.int8, filters=_zstd(), fill=qs.MISSING_DOSAGE, ctx=ctx
    )
    schema = tiledb.ArraySchema(
        domain=domain,
        attrs=[attr],
        sparse=False,
        cell_order="row-major",
        tile_order="row-major",
        ctx=ctx,
    )
    tiledb.Array.create(uri, schema, ctx=ctx)


class _Batches:
    """Whole variant rows gathered into one batch; each full batch is one fragment of
    ``genotypes`` and one appended fragment of ``genotype_variants``."""

    def __init__(self, writer: PartWriter, samples: int, rows: int) -> None:
        import tiledb

        self.writer = writer
        self.samples = samples
        create_genotypes(writer.table_uri(qs.GENOTYPES), samples, writer.store.ctx)
        self.array = tiledb.open(writer.table_uri(qs.GENOTYPES), "w", ctx=writer.store.ctx)
        self.batch = np.empty((rows, samples), dtype=np.int8)
        self.variants: dict[str, list[Any]] = {
            n: [] for n in ("chromosome", "pos", "ref", "alt", "variantId")
        }
        self.filled = 0
        self.first_row = 0
        self.fragments = 0

    def add(self, chromosome: str, pos: int, ref: str, alts: list[str], rows: np.ndarray) -> None:
        for alt, row in zip(alts, rows, strict=True):
            if self.filled == len(self.batch):
                self.flush()
            self.batch[self.filled] = row
            self.filled += 1
            self.variants["chromosome"].append(chromosome)
            self.variants["pos"].append(pos)
            self.variants["ref"].append(ref)
            self.variants["alt"].append(alt)
            self.variants["variantId"].append(f"{chromosome}:{pos}")

    @property
    def rows(self) -> int:
        return self.first_row + self.filled

    def flush(self) -> None:
        if not self.filled:
            return
        r0, r1 = self.first_row, self.first_row + self.filled
        self.array[r0:r1, 0 : self.samples] = {"dosage": self.batch[: self.filled]}
        columns = {
            "chromosome": np.array(self.variants["chromosome"], dtype=object),
            "pos": np.array(self.variants["pos"], dtype=np.int64),
            "ref": np.array(self.variants["ref"], dtype=object),
            "alt": np.array(self.variants["alt"], dtype=object),
            "variant_row": np.arange(r0, r1, dtype=np.int64),
            "variantId": np.array(self.variants["variantId"], dtype=object),
        }
        if not self.fragments:
            self.writer.create_table(qs.GENOTYPE_VARIANTS, VARIANT_DIMS, columns)
        self.writer.append_rows(qs.GENOTYPE_VARIANTS, columns)
        for values in self.variants.values():
            values.clear()
        self.first_row, self.filled = r1, 0
        self.fragments += 1

    def close(self) -> None:
        self.array.close()


def diagnose(path: str, line: int, samples: list[str]) -> InputError:
    """Why htslib refused the record on ``line``: read the line again as text (only failing
    files pay) and name the first bad field."""
    text = ""
    for number, content in numbered_lines(path):
        if number == line:
            text = content
            break
    cells = text.split("\t")
    if len(cells) != 9 + len(samples):
        return InputError(
            path, line, "columns", f"{len(cells)} columns, the header has {9 + len(samples)}"
        )
    if not (cells[1].isascii() and cells[1].isdigit()):
        return InputError(path, line, "POS", f"{cells[1][:40]!r} is not a position")
    keys = cells[8].split(":")
    if "GT" in keys:
        at = keys.index("GT")
        for sample, cell in zip(samples, cells[9:], strict=True):
            values = cell.split(":")
            gt = values[at] if at < len(values) else "."
            alleles = gt.replace("|", "/").split("/")
            if not all(a == "." or (a.isascii() and a.isdigit()) for a in alleles):
                return InputError(path, line, sample, f"GT {gt[:40]!r} is not a genotype")
    return InputError(path, line, "record", "htslib cannot parse this VCF record")


def _records(path: str, header: VcfHeader) -> Iterator[tuple[int, Any]]:
    """(line, cyvcf2 Variant) for every record; blank lines are counted and skipped."""
    from cyvcf2 import VCF

    try:
        vcf = VCF(path, gts012=False)  # lazy=True segfaults on FORMAT (0.31.1)
    except Exception as error:  # the header was read as text: htslib's refusal is rarer
        raise InputError(path, header.lines, "header", f"htslib cannot read it: {error}") from None
    try:
        if list(vcf.samples) != header.samples:
            raise InputError(path, header.lines, "#CHROM", "htslib reads other sample names")
        line = header.lines
        while True:
            line += 1
            try:
                variant = next(vcf)
            except StopIteration:
                return
            except Exception:
                raise diagnose(path, line, header.samples) from None
            if not variant.CHROM:
                continue  # a blank line
            yield line, variant
    finally:
        vcf.close()


def _bar(path: str, progress: bool) -> Any:
    from tqdm import tqdm

    return tqdm(
        desc=os.path.basename(path),
        unit=" variants",
        disable=not progress,
        leave=False,
        mininterval=0.5,
    )


def write_genotypes(writer: PartWriter, inputs: GenotypeInputs, progress: bool) -> None:
    """Every genotype table into ``writer``'s attempt; an InputError leaves the part
    uncommitted (the writer then removes the attempt)."""
    path = inputs.vcf
    header = read_header(path)
    samples = header.samples
    batches = _Batches(writer, len(samples), max(1, BATCH_BYTES // len(samples)))
    done: set[str] = set()
    chromosome, last_pos, last_line = "", 0, header.lines
    try:
        with _bar(path, progress) as bar:
            for line, variant in _records(path, header):
                last_line = line
                chrom, pos = str(variant.CHROM), int(variant.POS)
                if chrom != chromosome:
                    if chrom in done:
                        raise InputError(
                            path, line, "CHROM", f"{chrom} comes back after {chromosome}: unsorted"
                        )
                    if chromosome:
                        done.add(chromosome)
                    chromosome, last_pos = chrom, 0
                if pos < last_pos:
                    raise InputError(
                        path, line, "POS", f"{pos} after {last_pos} on {chrom}: unsorted"
                    )
                last_pos = pos
                alts = list(variant.ALT)
                if not alts:
                    continue
                if "GT" not in variant.FORMAT:
                    raise InputError(path, line, "GT", "no GT field in this record")
                alleles = variant.genotype.array()[:, :-1]
                rows = dosages(path, line, chrom, alleles, len(alts), samples)
                batches.add(chrom, pos, str(variant.REF), alts, rows)
                bar.update(len(alts))
            if not batches.rows:
                raise InputError(path, last_line + 1, "records", "no variant with an ALT allele")
            batches.flush()
    finally:
        batches.close()
    dims = ["variant_row", "genotype_sample"]
    writer.add_array(qs.GENOTYPES, dims, batches.rows, consolidate=("fragment_meta",))
    writer.write_table(
        qs.GENOTYPE_SAMPLES,
        ["genotype_sample"],
        {
            "genotype_sample": np.arange(len(samples), dtype=np.int64),
            "sampleId": np.array(samples, dtype=object),
        },
        packed=True,
    )
