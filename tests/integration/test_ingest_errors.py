"""Unreadable input (truncated gzip, wrong encoding, binary, huge numbers, missing paths)
stops the ingestion with ``file:line: field NAME: problem`` and exit code 2, like any
other malformed input: no traceback, and the current release keeps serving."""

from __future__ import annotations

import gzip
import random
import re
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest

from omicsgate.ingest.cli import main
from omicsgate.ingest.demo import DEMO_RELEASE, DemoFiles
from omicsgate.storage import get_store
from tests.conftest import build_release, use_store

pytestmark = pytest.mark.integration
HUGE = "99999999999999999999"  # over int64


@pytest.fixture(scope="module")
def store_uri(tmp_path_factory: pytest.TempPathFactory, demo_files: DemoFiles) -> str:
    uri = str(tmp_path_factory.mktemp("ingest-errors"))
    build_release(uri, demo_files)
    return uri


def replace_line(lines: list[str], number: int, edit: Callable[[list[str]], None]) -> str:
    """The text with one tab-separated line changed in place (1-based line number)."""
    cells = lines[number - 1].rstrip("\n").split("\t")
    edit(cells)
    lines[number - 1] = "\t".join(cells) + "\n"
    return "".join(lines)


def first_data_line(lines: list[str]) -> int:
    return next(i for i, line in enumerate(lines, start=1) if not line.startswith("#"))


def truncated_gzip(files: DemoFiles, tmp: Path) -> tuple[str, str, int, str]:
    data = Path(files.annotation).read_bytes()
    cut = tmp / "genes.gtf.gz"
    cut.write_bytes(data[: len(data) // 2])
    # The broken line is the one after the last complete one the cut stream still holds.
    whole_lines = zlib.decompressobj(wbits=31).decompress(data[: len(data) // 2]).count(b"\n")
    return "annotation", str(cut), whole_lines + 1, "file"


def gzipped_then_truncated_tissues(files: DemoFiles, tmp: Path) -> tuple[str, str, int, str]:
    packed = gzip.compress(Path(files.tissues).read_bytes())
    cut = tmp / "tissues.tsv.gz"
    cut.write_bytes(packed[:-12])  # loses the end-of-stream marker and the tail
    whole_lines = zlib.decompressobj(wbits=31).decompress(packed[:-12]).count(b"\n")
    return "tissues", str(cut), whole_lines + 1, "file"


def utf16_with_bom(files: DemoFiles, tmp: Path) -> tuple[str, str, int, str]:
    path = tmp / "tissues-utf16.tsv"
    path.write_text(Path(files.tissues).read_text(), encoding="utf-16")
    assert path.read_bytes()[:2] == b"\xff\xfe"
    return "tissues", str(path), 1, "encoding"


def random_bytes(files: DemoFiles, tmp: Path) -> tuple[str, str, int, str]:
    path = tmp / "random.vcf"
    path.write_bytes(random.Random(7).randbytes(4096))
    return "variants", str(path), 1, "encoding"


def latin1_in_line_40(files: DemoFiles, tmp: Path) -> tuple[str, str, int, str]:
    lines = Path(files.gene_status).read_bytes().splitlines(keepends=True)
    lines[39] = lines[39].replace(b"\t", b"\xe9\t", 1)  # 'é' in Latin-1: not UTF-8
    path = tmp / "status-latin1.tsv"
    path.write_bytes(b"".join(lines))
    return "gene-status", str(path), 40, "encoding"


def vcf_position_over_int64(files: DemoFiles, tmp: Path) -> tuple[str, str, int, str]:
    with gzip.open(files.variants, "rt") as handle:
        lines = handle.readlines()
    number = first_data_line(lines) + 3
    path = tmp / "huge-pos.vcf"
    path.write_text(replace_line(lines, number, lambda c: c.__setitem__(1, HUGE)))
    return "variants", str(path), number, "POS"


def vcf_chromosome_not_ascii(files: DemoFiles, tmp: Path) -> tuple[str, str, int, str]:
    with gzip.open(files.variants, "rt") as handle:
        lines = handle.readlines()
    number = first_data_line(lines) + 1
    path = tmp / "chrom.vcf"
    path.write_text(replace_line(lines, number, lambda c: c.__setitem__(0, "chré")))
    return "variants", str(path), number, "CHROM"


def gtf_coordinate_over_int64(files: DemoFiles, tmp: Path) -> tuple[str, str, int, str]:
    with gzip.open(files.annotation, "rt") as handle:
        lines = handle.readlines()
    number = first_data_line(lines) + 5
    path = tmp / "huge-end.gtf"
    path.write_text(replace_line(lines, number, lambda c: c.__setitem__(4, HUGE)))
    return "annotation", str(path), number, "end"


def gff3_coordinate_over_int64(files: DemoFiles, tmp: Path) -> tuple[str, str, int, str]:
    path = tmp / "huge.gff3"
    path.write_text(
        f"##gff-version 3\n1\tensembl\tgene\t{HUGE}\t{HUGE}9\t.\t+\t.\tID=gene:G1;Name=Abc1\n"
    )
    return "annotation", str(path), 2, "start"


def gene_id_with_a_comma(files: DemoFiles, tmp: Path) -> tuple[str, str, int, str]:
    """Requests separate gene IDs with commas: such a gene could never be asked for."""
    path = tmp / "comma.gtf"
    path.write_text('chr1\tx\tgene\t10\t50\t.\t+\t.\tgene_id "G1"; gene_name "Foo,Bar";\n')
    return "annotation", str(path), 1, "gene_name"


def tsv_count_over_int64(files: DemoFiles, tmp: Path) -> tuple[str, str, int, str]:
    lines = Path(files.tissues).read_text().splitlines(keepends=True)
    column = lines[0].rstrip("\n").split("\t").index("eGeneCount")
    path = tmp / "huge-count.tsv"
    path.write_text(replace_line(lines, 4, lambda c: c.__setitem__(column, HUGE)))
    return "tissues", str(path), 4, "eGeneCount"


def missing_file(files: DemoFiles, tmp: Path) -> tuple[str, str, int, str]:
    return "variants", str(tmp / "no-such.vcf.gz"), 0, "file"


def directory(files: DemoFiles, tmp: Path) -> tuple[str, str, int, str]:
    return "annotation", str(tmp), 0, "file"


@pytest.mark.parametrize(
    "corrupt",
    [
        truncated_gzip,
        gzipped_then_truncated_tissues,
        utf16_with_bom,
        random_bytes,
        latin1_in_line_40,
        vcf_position_over_int64,
        vcf_chromosome_not_ascii,
        gtf_coordinate_over_int64,
        gff3_coordinate_over_int64,
        gene_id_with_a_comma,
        tsv_count_over_int64,
        missing_file,
        directory,
    ],
)
def test_unreadable_input_is_exit_2_naming_file_line_and_field(
    store_uri: str,
    demo_files: DemoFiles,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    corrupt: Callable[[DemoFiles, Path], tuple[str, str, int, str]],
) -> None:
    option, path, line, field = corrupt(demo_files, tmp_path)
    inputs = {
        "tissues": demo_files.tissues,
        "annotation": demo_files.annotation,
        "variants": demo_files.variants,
        "gene-status": demo_files.gene_status,
        option: path,
    }
    args = ["--quiet", "--data-uri", store_uri, "ingest", "reference", "--release", "broken"]
    for name, value in inputs.items():
        args += [f"--{name}", value]

    assert main(args) == 2
    err = capsys.readouterr().err
    assert re.fullmatch(
        rf"omicsgate: invalid input: {re.escape(path)}:{line}: field {field}: \S.*\n", err
    ), err
    assert "Traceback" not in err
    use_store(store_uri)
    assert get_store().current_release() == DEMO_RELEASE
    assert get_store().list_releases() == [DEMO_RELEASE]
