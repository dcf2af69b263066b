"""Line-numbered reading of plain or gzipped UTF-8 text, with an optional progress bar.

Every way a file can fail to be read (missing, a directory, truncated or corrupt gzip,
not UTF-8, binary) becomes an :class:`InputError` naming the file and line, so the CLI
reports it like any other malformed input instead of printing a traceback.
"""

from __future__ import annotations

import gzip
import io
import os
import zlib
from collections.abc import Iterator
from typing import BinaryIO, cast

from omicsgate.ingest.errors import InputError

# Integer dimensions of the stored arrays span 0..2**40; larger coordinates or counts
# are typos (no genome comes near a trillion bases) and would fail deep in the writer.
MAX_POSITION = 2**40
MAX_COUNT = 2**63 - 1
_BOMS = {b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


def open_binary(path: str) -> BinaryIO:
    """The file's bytes, gunzipped if it is gzip (or bgzip); a file it cannot open is
    reported at line 0: no line of it was read."""
    try:
        with open(path, "rb") as probe:
            gzipped = probe.read(2) == b"\x1f\x8b"
        return cast(BinaryIO, gzip.open(path, "rb")) if gzipped else open(path, "rb")
    except IsADirectoryError:
        raise InputError(path, 0, "file", "is a directory, not a file") from None
    except FileNotFoundError:
        raise InputError(path, 0, "file", "no such file") from None
    except OSError as error:
        raise InputError(path, 0, "file", f"cannot be read: {error.strerror or error}") from None


def numbered_lines(path: str, progress: bool = False) -> Iterator[tuple[int, str]]:
    """(line number, line without its newline), counting from 1."""
    from tqdm import tqdm

    number = 0  # the last line read whole
    try:
        with (
            io.TextIOWrapper(open_binary(path), encoding="utf-8-sig", newline="") as handle,
            tqdm(
                desc=os.path.basename(path), unit=" lines", disable=not progress, leave=False
            ) as bar,
        ):
            for number, line in enumerate(handle, start=1):
                bar.update(1)
                if "\x00" in line:
                    raise InputError(path, number, "encoding", "NUL byte: binary, not text")
                yield number, line.rstrip("\r\n")
    except UnicodeDecodeError:
        raise _undecodable(path, number) from None
    except EOFError:
        raise InputError(path, number + 1, "file", "the gzip stream is truncated") from None
    except (gzip.BadGzipFile, zlib.error) as error:
        raise InputError(path, number + 1, "file", f"corrupt gzip data: {error}") from None


def _undecodable(path: str, good_lines: int) -> InputError:
    """The error for the first line after ``good_lines`` that is not UTF-8. Text is decoded
    in blocks, so the block that failed may start lines earlier: re-read them as bytes.
    Only failing files pay for this; valid ones are decoded at full speed."""
    with open_binary(path) as handle:
        for number, raw in enumerate(handle, start=1):
            if number <= good_lines:
                continue
            if number == 1 and raw[:2] in _BOMS:
                return InputError(path, 1, "encoding", f"{_BOMS[raw[:2]]} text; save as UTF-8")
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError as error:
                byte = error.object[error.start]
                return InputError(path, number, "encoding", f"not UTF-8 (byte {byte:#04x})")
            if b"\x00" in raw:
                return InputError(path, number, "encoding", "NUL byte: binary, not text")
    return InputError(path, good_lines + 1, "encoding", "not UTF-8 text")


def parse_position(
    path: str, line: int, field: str, text: str, what: str = "a 1-based position"
) -> int:
    """A 1-based coordinate: ASCII digits, at least 1, at most :data:`MAX_POSITION`."""
    if not (text.isascii() and text.isdigit()) or not text.strip("0"):
        raise InputError(path, line, field, f"{text!r} is not {what}")
    # Length first: int() refuses strings of thousands of digits.
    if len(text.lstrip("0")) > len(str(MAX_POSITION)) or int(text) > MAX_POSITION:
        raise InputError(path, line, field, f"{text[:30]} is larger than {MAX_POSITION}")
    return int(text)
