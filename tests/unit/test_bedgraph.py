"""The bedGraph parser of ``omicsgate ingest continuous``: intervals as written, chromosomes
served as ``chr?``, and every malformed line named by file, line and field."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from omicsgate.ingest.continuous import bedgraph_source, parse_bedgraph
from omicsgate.ingest.errors import InputError

pytestmark = pytest.mark.unit

GOOD = """track type=bedGraph name=demo
browser position chr1:1-100
# a comment
chr1\t10\t20\t1.5
1\t0\t5\t-2
chr2 100 101 0.25

chr1\t20\t22\t7
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "signal.bedGraph"
    path.write_text(text)
    return str(path)


def test_intervals_are_read_sorted_per_chromosome(tmp_path: Path) -> None:
    found = parse_bedgraph(write(tmp_path, GOOD))
    assert set(found) == {"chr1", "chr2"}  # "1" is served as chr1, like RNAget's chr?
    chr1 = found["chr1"]
    assert chr1.starts.tolist() == [0, 10, 20]
    assert chr1.ends.tolist() == [5, 20, 22]
    assert chr1.values.tolist() == [-2.0, 1.5, 7.0]
    assert found["chr2"].values.tolist() == [0.25]


def test_values_over_a_region_are_nan_where_nothing_was_given(tmp_path: Path) -> None:
    source = bedgraph_source([f"t={write(tmp_path, GOOD)}"])
    assert source.tracks == ["t"]
    assert source.spans == {"chr1": (0, 22), "chr2": (100, 101)}
    got = source.values(0, "chr1", 3, 24)
    expected = np.full(21, np.nan, dtype=np.float32)
    expected[0:2] = -2  # 3, 4
    expected[7:17] = 1.5  # 10..19
    expected[17:19] = 7  # 20, 21
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("line", "field", "problem"),
    [
        ("chr1\t10\t20", "columns", "3 columns; expected 4"),
        ("chr1\tten\t20\t1", "start", "'ten' is not an integer"),
        ("chr1\t10\t2x\t1", "end", "'2x' is not an integer"),
        ("chr1\t-1\t20\t1", "start", "-1 is outside"),
        ("chr1\t20\t20\t1", "end", "20 is not after start 20"),
        ("chr1\t10\t20\thigh", "value", "'high' is not a number"),
        ("chr1\t10\t20\tinf", "value", "'inf' is not finite"),
        ("chr1\t21\t30\t1", "start", "overlaps the interval of line 8"),
    ],
)
def test_a_malformed_line_is_named_by_file_line_and_field(
    tmp_path: Path, line: str, field: str, problem: str
) -> None:
    path = write(tmp_path, GOOD + line + "\n")
    with pytest.raises(InputError) as raised:
        parse_bedgraph(path)
    assert raised.value.line == 9
    assert raised.value.field == field
    assert str(raised.value).startswith(f"{path}:9: field {field}: {problem}")


def test_an_empty_or_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no data lines"):
        parse_bedgraph(write(tmp_path, "track type=bedGraph\n"))
    with pytest.raises(InputError, match="missing"):
        parse_bedgraph(str(tmp_path / "nope.bedGraph"))
    with pytest.raises(InputError, match="expected NAME=FILE"):
        bedgraph_source(["no-name"])
