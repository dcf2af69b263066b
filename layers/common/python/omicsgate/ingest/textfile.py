"""Line-numbered reading of plain or gzipped text, with an optional progress bar."""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Iterator
from typing import IO


def open_text(path: str) -> IO[str]:
    with open(path, "rb") as probe:
        gzipped = probe.read(2) == b"\x1f\x8b"
    if gzipped:
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def numbered_lines(path: str, progress: bool = False) -> Iterator[tuple[int, str]]:
    """(line number, line without its newline), counting from 1."""
    from tqdm import tqdm

    with (
        open_text(path) as handle,
        tqdm(desc=os.path.basename(path), unit=" lines", disable=not progress, leave=False) as bar,
    ):
        for number, line in enumerate(handle, start=1):
            bar.update(1)
            yield number, line.rstrip("\r\n")
