"""RNAget continuous signal through the real RnagetFunction handler fed API Gateway events,
on a local directory and on S3 (moto), every value checked against an independent reader:

- the demo's real bigWig (``pyranges/example_data/bw.bw``, read from the installed
  package) against pyBigWig's own ``values()``;
- the compliance suite's ``continuous.loom``/``.tsv`` (read in place from ../shared) against
  h5py and the TSV text;
- bedGraph files written here against numpy painting of their lines.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import h5py
import numpy as np
import pytest

from omicsgate.ingest.cli import main as cli_main
from omicsgate.ingest.continuous import demo_bigwig, demo_continuous_id
from omicsgate.ingest.demo import DEMO_RELEASE
from omicsgate.ingest.rnaget import COMPLIANCE_CONTINUOUS, COMPLIANCE_STUDY
from omicsgate.localapi.events import LocalContext, http_api_event, response_body
from omicsgate.rnaget import continuous
from omicsgate.storage import DataStore
from tests.conftest import SHARED, Caller

pytestmark = pytest.mark.integration
COMPLIANCE_DIR = SHARED / "data" / "rnaget-compliance"
SIGNAL = demo_continuous_id(DEMO_RELEASE)  # the pyranges bigWig, in every demo store
MISSING = "nonexistentid9999999999999999999"


def fetch(call: Caller, path: str, query: str = "") -> tuple[int, dict[str, str], bytes]:
    """Any answer of the handler, JSON or file: status, headers, body bytes."""
    found = call.template.route_for("GET", path)
    assert found, path
    handler = call.handler_for(found[0].function)
    response = handler(http_api_event("GET", path, query), LocalContext())
    return response["statusCode"], response.get("headers") or {}, response_body(response)


def loom(body: bytes) -> tuple[np.ndarray, list[str], list[str]]:
    with h5py.File(io.BytesIO(body), "r") as f:
        tracks = [t.decode() if isinstance(t, bytes) else t for t in f["row_attrs/tracks"][:]]
        positions = [p.decode() if isinstance(p, bytes) else p for p in f["col_attrs/position"][:]]
        return np.asarray(f["matrix"][:]), tracks, positions


def tsv(body: bytes) -> tuple[list[str], list[str], np.ndarray, list[str]]:
    """Comment lines, header, values and track names of a continuous TSV."""
    lines = body.decode().splitlines()
    comments = [line for line in lines if line.startswith("#")]
    rows = [line.split("\t") for line in lines if not line.startswith("#")]
    header, data = rows[0], rows[1:]
    values = np.asarray([[float(v) for v in row[1:]] for row in data], dtype=np.float32)
    return comments, header, values.reshape(len(data), len(header) - 1), [r[0] for r in data]


def matrix_of(call: Caller, path: str, query: str) -> tuple[np.ndarray, list[str], list[str]]:
    status, headers, body = fetch(call, path, query)
    assert status == 200, body[:300]
    assert headers["content-type"] == "application/vnd.loom"
    return loom(body)


def error_of(call: Caller, path: str, query: str = "") -> tuple[int, str]:
    status, headers, body = fetch(call, path, query)
    assert headers["content-type"] == "application/json"
    import json

    document = json.loads(body)
    assert set(document) <= {"message", "requestId"}
    return status, document["message"]


@pytest.fixture
def hosted(backend: str, call: Caller) -> Caller:
    """The backend's demo store, with the compliance objects hosted through the CLI."""
    from omicsgate.ingest.rnaget import has_compliance
    from omicsgate.storage import get_store

    if not has_compliance(get_store()):
        command = ["--data-uri", backend, "ingest", "rnaget-compliance", str(COMPLIANCE_DIR)]
        assert cli_main(command) == 0
    from omicsgate.rnaget.catalog import forget_hosted

    forget_hosted()
    continuous.forget()
    return call


# The real bigWig ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def bigwig() -> Iterator[Any]:
    import pyBigWig

    path = demo_bigwig()
    assert path is not None, "pyranges (dev extras) ships the bigWig"
    handle = pyBigWig.open(path)
    yield handle
    handle.close()


@pytest.mark.parametrize(
    ("chromosome", "start", "end"),
    [("1", 0, 5000), ("1", 99, 152), ("10", 150, 350), ("1", 4000, 12300)],
)
def test_values_equal_pybigwig_on_the_real_bigwig(
    hosted: Caller, bigwig: Any, chromosome: str, start: int, end: int
) -> None:
    query = f"chr=chr{chromosome}&start={start}&end={end}"
    values, tracks, positions = matrix_of(hosted, f"/rnaget/continuous/{SIGNAL}/bytes", query)
    expected = np.asarray(bigwig.values(chromosome, start, end, numpy=True), dtype=np.float32)
    assert tracks == ["pyranges_bw"]
    assert positions == [f"chr{chromosome}:{p}" for p in range(start, end)]
    np.testing.assert_array_equal(values[0], expected)
    # the region's data and its gaps are both there: the check can fail either way
    assert np.isnan(expected).any() or start >= 4000


def test_the_whole_bigwig_is_its_data_extent_per_chromosome(hosted: Caller, bigwig: Any) -> None:
    values, _, positions = matrix_of(hosted, f"/rnaget/continuous/{SIGNAL}/bytes", "")
    intervals = {c: bigwig.intervals(c) for c in bigwig.chroms()}
    expected_positions = [
        f"chr{c}:{p}" for c in ("1", "10") for p in range(intervals[c][0][0], intervals[c][-1][1])
    ]
    assert positions == expected_positions
    expected = np.concatenate(
        [bigwig.values(c, intervals[c][0][0], intervals[c][-1][1], numpy=True) for c in ("1", "10")]
    ).astype(np.float32)
    np.testing.assert_array_equal(values[0], expected)


# The compliance objects ----------------------------------------------------------------


def test_compliance_loom_equals_the_source_file(hosted: Caller) -> None:
    values, tracks, positions = matrix_of(
        hosted, f"/rnaget/continuous/{COMPLIANCE_CONTINUOUS}/bytes", ""
    )
    source_values, source_tracks, source_positions = loom(
        (COMPLIANCE_DIR / "continuous.loom").read_bytes()
    )
    assert values.dtype == np.float32
    np.testing.assert_array_equal(values, source_values)
    assert tracks == source_tracks and positions == source_positions
    assert values.shape == (4, 301)


def test_compliance_tsv_equals_the_source_file(hosted: Caller) -> None:
    status, headers, body = fetch(
        hosted, f"/rnaget/continuous/{COMPLIANCE_CONTINUOUS}/bytes", "format=tsv"
    )
    assert status == 200 and headers["content-type"].startswith("text/tab-separated-values")
    comments, header, values, tracks = tsv(body)
    source = (COMPLIANCE_DIR / "continuous.tsv").read_bytes()
    _, source_header, source_values, source_tracks = tsv(source)
    assert comments[:2] == ["#labels\ttrack", "#range\tchr1:0-69\tchr5:0-232"]
    assert header == source_header and tracks == source_tracks
    np.testing.assert_array_equal(values, source_values)
    # the data lines are the source's, character for character
    ours = [line for line in body.decode().splitlines() if not line.startswith("#")]
    theirs = [line for line in source.decode().splitlines() if not line.startswith("#")]
    assert ours == theirs


@pytest.mark.parametrize(
    ("query", "first", "last"),
    [
        ("chr=chr1&start=30&end=50", "chr1:30", "chr1:49"),
        ("chr=chr1&end=22", "chr1:0", "chr1:21"),
        ("chr=chr5&start=100", "chr5:100", "chr5:231"),
        ("chr=5&start=69&end=117", "chr5:69", "chr5:116"),  # "5" is chr5
        ("chr=chr1&start=68&end=69", "chr1:68", "chr1:68"),
    ],
)
def test_regions_are_zero_based_with_an_exclusive_end(
    hosted: Caller, query: str, first: str, last: str
) -> None:
    values, _, positions = matrix_of(
        hosted, f"/rnaget/continuous/{COMPLIANCE_CONTINUOUS}/bytes", query
    )
    assert positions[0] == first and positions[-1] == last
    source_values, _, source_positions = loom((COMPLIANCE_DIR / "continuous.loom").read_bytes())
    columns = [source_positions.index(p) for p in positions]
    assert columns == list(range(columns[0], columns[0] + len(columns)))
    np.testing.assert_array_equal(values, source_values[:, columns])


def test_tracks_are_sliced_by_sample_id_list(hosted: Caller) -> None:
    values, tracks, _ = matrix_of(
        hosted,
        f"/rnaget/continuous/{COMPLIANCE_CONTINUOUS}/bytes",
        "chr=chr1&sampleIDList=61737_test,61729_test",
    )
    source_values, source_tracks, _ = loom((COMPLIANCE_DIR / "continuous.loom").read_bytes())
    assert tracks == ["61729_test", "61737_test"]  # in the matrix's order
    rows = [source_tracks.index(t) for t in tracks]
    np.testing.assert_array_equal(values, source_values[rows, :69])


def test_a_search_finds_the_compliance_matrix_by_its_filters(hosted: Caller) -> None:
    status, _, body = fetch(hosted, "/rnaget/continuous/filters")
    import json

    filters = {f["filter"]: f for f in json.loads(body)}
    assert {"version", "tags", "studyID", "projectID"} <= set(filters)
    assert COMPLIANCE_STUDY in filters["studyID"]["values"]
    query = f"format=loom&studyID={COMPLIANCE_STUDY}&tags=RNAgetCompliance&version=1.0&chr=chr5"
    values, tracks, positions = matrix_of(hosted, "/rnaget/continuous/bytes", query)
    assert tracks == ["61721_test", "61729_test", "61733_test", "61737_test"]
    assert positions[0] == "chr5:0" and len(positions) == 232
    status, message = error_of(hosted, "/rnaget/continuous/bytes", f"format=loom&tags={MISSING}")
    assert status == 404 and "no continuous matrix" in message
    # Several matrices in one answer: each row is named <continuousID>/<track>.
    query = f"format=loom&chr=chr1&start=0&end=3&sampleIDList={SIGNAL}/pyranges_bw,61721_test"
    values, tracks, _ = matrix_of(hosted, "/rnaget/continuous/bytes", query)
    assert f"{SIGNAL}/pyranges_bw" in tracks and f"{COMPLIANCE_CONTINUOUS}/61721_test" in tracks
    row = tracks.index(f"{SIGNAL}/pyranges_bw")
    np.testing.assert_array_equal(values[row], np.float32([0.1, 0.2, 0.3]))


@pytest.mark.parametrize(
    ("path", "query", "status", "start"),
    [
        (f"/rnaget/continuous/{MISSING}/bytes", "", 404, "continuousId: "),
        (f"/rnaget/continuous/{MISSING}/ticket", "", 404, "continuousId: "),
        (f"/rnaget/continuous/{COMPLIANCE_CONTINUOUS}/ticket", "start=5", 400, "start: "),
        (f"/rnaget/continuous/{COMPLIANCE_CONTINUOUS}/bytes", "end=1000", 400, "end: "),
        (f"/rnaget/continuous/{COMPLIANCE_CONTINUOUS}/bytes", "chr=1&start=200&end=100", 501, ""),
        (f"/rnaget/continuous/{COMPLIANCE_CONTINUOUS}/bytes", "chr=chrX", 400, "chr: "),
        (
            f"/rnaget/continuous/{COMPLIANCE_CONTINUOUS}/bytes",
            "sampleIDList=zz",
            400,
            "sampleIDList: ",
        ),
        (f"/rnaget/continuous/{COMPLIANCE_CONTINUOUS}/bytes", "format=bam", 400, "format: "),
        (f"/rnaget/continuous/{SIGNAL}/bytes", "chr=chr1&start=0&end=1000001", 400, "end: "),
        (f"/rnaget/continuous/{SIGNAL}/bytes", "chr=chr1&end=195471972", 400, "end: "),
        (f"/rnaget/continuous/{COMPLIANCE_CONTINUOUS}/bytes", "chr=chr1&start=500", 400, "start: "),
        (f"/rnaget/continuous/{COMPLIANCE_CONTINUOUS}/bytes", "chr=chr1&end=0", 400, "end: "),
        ("/rnaget/continuous/bytes", "chr=chr1", 400, "format: "),
        ("/rnaget/continuous/ticket", "format=tsv&chr=chr1&start=3&studyId=x", 400, "studyId: "),
        ("/rnaget/continuous/bytes", "format=tsv&colour=red", 400, "colour: unknown filter"),
    ],
)
def test_mistakes_are_4xx_naming_the_parameter(
    hosted: Caller, path: str, query: str, status: int, start: str
) -> None:
    got, message = error_of(hosted, path, query)
    assert got == status, message
    assert message.startswith(start), message


def test_an_unbounded_request_over_a_whole_chromosome_is_refused(hosted: Caller) -> None:
    """Without start/end the data's extent is served; a bigWig chromosome's whole length
    (195 Mb here) is far beyond the cap, whatever start says."""
    status, _, _ = fetch(hosted, f"/rnaget/continuous/{SIGNAL}/bytes", "chr=chr1&start=1")
    assert status == 200  # the data's extent: chr1:1-151
    got, message = error_of(
        hosted, f"/rnaget/continuous/{SIGNAL}/bytes", "chr=chr1&start=1000&end=195471971"
    )
    assert got == 400 and message.startswith("end: ") and "1000000" in message


def test_a_ticket_url_serves_the_same_file_without_a_token(hosted: Caller) -> None:
    import json

    query = "format=tsv&chr=chr1&start=10&end=20"
    status, _, body = fetch(hosted, f"/rnaget/continuous/{COMPLIANCE_CONTINUOUS}/ticket", query)
    assert status == 200, body
    ticket = json.loads(body)
    assert ticket["units"] == "count" and ticket["fileType"] == "tsv"
    assert ticket["studyID"] == COMPLIANCE_STUDY and ticket["version"] == "1.0"
    _, _, direct = fetch(hosted, f"/rnaget/continuous/{COMPLIANCE_CONTINUOUS}/bytes", query)
    url = urlsplit(ticket["url"])
    if ticket["url"].startswith("http://127.0.0.1") and url.path.startswith("/rnaget/files/"):
        status, _, downloaded = fetch(hosted, url.path, url.query)
    else:
        import requests

        answer = requests.get(ticket["url"], timeout=30)
        status, downloaded = answer.status_code, answer.content
    assert status == 200
    assert downloaded == direct
    assert tsv(downloaded)[1][1:] == [f"chr1:{p}" for p in range(10, 20)]


# bedGraph, on a store of its own --------------------------------------------------------


def write_bedgraph(path: Path, lines: list[tuple[str, int, int, float]]) -> str:
    path.write_text(
        "track type=bedGraph\n" + "".join(f"{c}\t{s}\t{e}\t{v}\n" for c, s, e, v in lines)
    )
    return str(path)


def painted(lines: list[tuple[str, int, int, float]], chromosome: str, start: int, end: int):  # type: ignore[no-untyped-def]
    out = np.full(end - start, np.nan, dtype=np.float32)
    for c, s, e, v in lines:
        if c == chromosome:
            lo, hi = max(s, start), min(e, end)
            if lo < hi:
                out[lo - start : hi - start] = v
    return out


TRACK_A = [("chr2", 0, 10, 1.25), ("chr2", 10, 11, -3.5), ("chr2", 20_000, 20_010, 7.0)]
TRACK_B = [("chr2", 5, 15, 2.0), ("chrX", 100, 200, 0.5)]


@pytest.fixture
def own(store: DataStore, call: Caller, tmp_path: Path) -> Iterator[tuple[Caller, list[str]]]:
    """A store of its own (local and S3) with the compliance study to attach tracks to."""
    command = ["--data-uri", store.root, "ingest", "rnaget-compliance", str(COMPLIANCE_DIR)]
    assert cli_main(command) == 0
    base = ["--data-uri", store.root, "ingest", "continuous", "--study", COMPLIANCE_STUDY]
    yield call, base
    continuous.forget()


def test_bedgraph_round_trip(own: tuple[Caller, list[str]], tmp_path: Path) -> None:
    call, base = own
    a = write_bedgraph(tmp_path / "a.bedGraph", TRACK_A)
    b = write_bedgraph(tmp_path / "b.bedGraph", TRACK_B)
    command = [
        *base,
        "--id",
        "bg",
        "--units",
        "RPM",
        "--bedgraph",
        f"a={a}",
        "--bedgraph",
        f"b={b}",
    ]
    assert cli_main(command) == 0
    # 0..20010 crosses tiles 1-3 that hold no data at all: read as NaN, never stored
    status, _, body = fetch(call, "/rnaget/continuous/bg/bytes", "format=tsv&chr=chr2&end=20010")
    assert status == 200, body
    _, header, values, tracks = tsv(body)
    assert tracks == ["a", "b"]
    assert header[1] == "chr2:0" and header[-1] == "chr2:20009"
    np.testing.assert_array_equal(values[0], painted(TRACK_A, "chr2", 0, 20_010))
    np.testing.assert_array_equal(values[1], painted(TRACK_B, "chr2", 0, 20_010))
    assert np.isnan(values[:, 4096:16384]).all()
    # without a region: each chromosome's data extent, over both tracks
    values, tracks, positions = matrix_of(call, "/rnaget/continuous/bg/bytes", "")
    assert positions[0] == "chr2:0" and positions[20_010 - 1] == "chr2:20009"
    assert positions[20_010:] == [f"chrX:{p}" for p in range(100, 200)]
    np.testing.assert_array_equal(values[1, 20_010:], np.full(100, 0.5, dtype=np.float32))
    assert np.isnan(values[0, 20_010:]).all()


def test_a_malformed_bedgraph_stops_and_the_previous_version_serves(
    own: tuple[Caller, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    call, base = own
    a = write_bedgraph(tmp_path / "a.bedGraph", TRACK_A)
    assert cli_main([*base, "--id", "bg", "--bedgraph", f"a={a}"]) == 0
    before = fetch(call, "/rnaget/continuous/bg/bytes", "chr=chr2&end=30")[2]
    bad = tmp_path / "bad.bedGraph"
    bad.write_text("chr2\t0\t10\t1\nchr2\t3\tx\t2\n")
    assert cli_main([*base, "--id", "bg", "--bedgraph", f"a={bad}"]) == 2
    assert f"{bad}:2: field end: 'x' is not an integer" in capsys.readouterr().err
    continuous.forget()
    assert fetch(call, "/rnaget/continuous/bg/bytes", "chr=chr2&end=30")[2] == before


def test_a_crash_before_the_record_leaves_the_previous_version(
    own: tuple[Caller, list[str]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from omicsgate.ingest import continuous as ingest
    from omicsgate.storage import get_store

    call, base = own
    a = write_bedgraph(tmp_path / "a.bedGraph", TRACK_A)
    assert cli_main([*base, "--id", "bg", "--bedgraph", f"a={a}"]) == 0
    store = get_store()
    record = store.read_json(continuous.record_uri(store.root, "bg"))

    def crash(*args: object) -> None:
        raise OSError("killed while committing")

    monkeypatch.setattr(ingest, "write_json_atomically", crash)
    other = write_bedgraph(tmp_path / "other.bedGraph", [("chr2", 0, 10, 99.0)])
    with pytest.raises(OSError, match="killed"):
        cli_main([*base, "--id", "bg", "--bedgraph", f"a={other}"])
    assert store.read_json(continuous.record_uri(store.root, "bg")) == record
    attempts = store.vfs().ls(continuous.continuous_uri(store.root, continuous.ATTEMPTS_DIR))
    continuous.forget()
    named = {
        str(a).rsplit("/", 1)[-1]
        for r in continuous.records(store)
        for a in (r["attempt"], r.get("previous"))
        if a
    }
    assert {u.rstrip("/").rsplit("/", 1)[-1] for u in attempts} == named  # crashed one removed
    continuous.forget()
    values, _, _ = matrix_of(call, "/rnaget/continuous/bg/bytes", "chr=chr2&end=12")
    np.testing.assert_array_equal(values[0], painted(TRACK_A, "chr2", 0, 12))


def test_re_ingesting_replaces_and_removes_the_old_arrays_a_generation_later(
    own: tuple[Caller, list[str]], tmp_path: Path
) -> None:
    from omicsgate.storage import get_store

    call, base = own
    a = write_bedgraph(tmp_path / "a.bedGraph", TRACK_A)
    assert cli_main([*base, "--id", "bg", "--bedgraph", f"a={a}"]) == 0
    store = get_store()
    old = store.read_json(continuous.record_uri(store.root, "bg"))
    b = write_bedgraph(tmp_path / "b.bedGraph", TRACK_B)
    assert cli_main([*base, "--id", "bg", "--bedgraph", f"b={b}"]) == 0
    continuous.forget()
    query = "chr=chr2&start=0&end=20"
    values, tracks, _ = matrix_of(call, "/rnaget/continuous/bg/bytes", query)
    assert tracks == ["b"]
    np.testing.assert_array_equal(values[0], painted(TRACK_B, "chr2", 0, 20))
    # A warm reader that still holds the old record (up to a release TTL) reads the old data.
    held = continuous.Continuous(old, {"id": "bg"})
    region = [continuous.Region("chr2", 0, 20)]
    matrix = continuous.read(store, continuous.rows([held], None), region)
    np.testing.assert_array_equal(matrix.values[0], painted(TRACK_A, "chr2", 0, 20))
    # The next re-ingestion removes the arrays two generations back.
    assert cli_main([*base, "--id", "bg", "--bedgraph", f"b={b}"]) == 0
    assert not store.vfs().is_dir(continuous.continuous_uri(store.root, old["attempt"]))
    got, message = error_of(call, "/rnaget/continuous/bg/bytes", "chr=chr2&sampleIDList=a")
    assert got == 400 and message.startswith("sampleIDList: ")


def test_a_study_that_does_not_exist_is_refused(
    own: tuple[Caller, list[str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, base = own
    a = write_bedgraph(tmp_path / "a.bedGraph", TRACK_A)
    command = [*base[:-2], "--study", "no_such_study", "--id", "bg", "--bedgraph", f"a={a}"]
    assert cli_main(command) == 2
    assert "field --study: no such study" in capsys.readouterr().err


def test_a_region_reads_only_its_own_tiles(own: tuple[Caller, list[str]], tmp_path: Path) -> None:
    """100 tiles of signal on two tracks; a 100-base window is one tile, read once."""
    import json

    import tiledb

    call, base = own
    lines = [("chr2", s, s + 100, float(s % 997)) for s in range(0, 409_600, 100)]
    a = write_bedgraph(tmp_path / "a.bedGraph", lines)
    b = write_bedgraph(tmp_path / "b.bedGraph", lines[::2])
    assert cli_main([*base, "--id", "wide", "--bedgraph", f"a={a}", "--bedgraph", f"b={b}"]) == 0
    query = "chr=chr2&start=200000&end=200100&sampleIDList=a"
    fetch(call, "/rnaget/continuous/wide/bytes", query)  # opens the array once
    tiledb.stats_enable()
    tiledb.stats_reset()
    try:
        values, _, _ = matrix_of(call, "/rnaget/continuous/wide/bytes", query)
        counters = json.loads(tiledb.stats_dump(json=True, print_out=False))["counters"]
    finally:
        tiledb.stats_disable()
    np.testing.assert_array_equal(values[0], painted(lines, "chr2", 200_000, 200_100))
    assert counters["Context.Query.Reader.num_tiles_read"] == 1, counters
