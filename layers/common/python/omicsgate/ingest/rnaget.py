"""RNAget objects hosted beside the releases: ``omicsgate ingest rnaget-compliance DIR``.

DIR is the directory of the official compliance suite's test objects (in this project's
checkout: ``../shared/data/rnaget-compliance``), read in place. Its ``project.json`` and
``study.json`` go into the hosted catalog (``rnaget/catalog.json`` under the data URI,
see :mod:`omicsgate.rnaget.catalog`), under the IDs they carry, which are the IDs the suite
hard-codes, tagged ``RNAgetCompliance`` as the suite searches them. Its
``continuous.loom`` (4 tracks x 301 positions) becomes the continuous matrix
:data:`COMPLIANCE_CONTINUOUS` of that study, in TileDB like any other
(:mod:`omicsgate.ingest.continuous`). Its ``expression.loom`` (or ``expression.tsv``,
100 x 100) becomes the hosted expression :data:`COMPLIANCE_EXPRESSION` of that study, its
values in TileDB (:mod:`omicsgate.ingest.rnaget_expression`), in the units its
``expression_ticket.json`` names. Ingesting again replaces the objects of the same IDs
and keeps the others.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from omicsgate.ingest.errors import InputError
from omicsgate.rnaget import catalog
from omicsgate.storage import DataStore
from omicsgate.storage._layout import join
from omicsgate.storage.writer import write_json_atomically

COMPLIANCE_TAG = "RNAgetCompliance"
COMPLIANCE_PROJECT = "9c0eba51095d3939437e220db196e27b"
COMPLIANCE_STUDY = "f3ba0b59bed0fa2f1030e7cb508324d1"
COMPLIANCE_CONTINUOUS = "5e22e009f41fc53cbea094a41de8798f"
COMPLIANCE_CONTINUOUS_UNITS = "count"  # as the suite's continuous_ticket.json says
COMPLIANCE_EXPRESSION = "ac3e9279efd02f1c98de4ed3d335b98e"
# Where ``make serve`` finds the suite's objects: $OMICSGATE_RNAGET_COMPLIANCE_DIR, or the
# shared reference checkout beside the project.
COMPLIANCE_DIR_ENV = "OMICSGATE_RNAGET_COMPLIANCE_DIR"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")


def default_compliance_dir() -> Path | None:
    configured = os.environ.get(COMPLIANCE_DIR_ENV)
    candidate = Path(configured) if configured else Path.cwd().parent / "shared" / "data"
    if not configured:
        candidate = candidate / "rnaget-compliance"
    return candidate if (candidate / "project.json").is_file() else None


def _object(path: Path, fields: tuple[str, ...]) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except FileNotFoundError:
        raise InputError(str(path), 0, "file", "missing") from None
    except (ValueError, UnicodeDecodeError) as error:
        raise InputError(str(path), 1, "json", f"not valid JSON ({error})") from None
    if not isinstance(document, dict):
        raise InputError(str(path), 1, "json", "not a JSON object")
    object_id = document.get("id")
    if not isinstance(object_id, str) or not _ID.match(object_id):
        raise InputError(str(path), 1, "id", f"{object_id!r} is not a slash-free ID")
    for field in fields:
        value = document.get(field)
        if value is not None and not isinstance(value, str | int | float):
            raise InputError(str(path), 1, field, "must be a string")
    obj: dict[str, Any] = {f: str(document[f]) for f in fields if document.get(f) not in (None, "")}
    tags = document.get("tags") or [COMPLIANCE_TAG]
    obj["tags"] = [str(t) for t in (tags if isinstance(tags, list) else [tags])]
    return obj


def _replace(objects: list[dict[str, Any]], new: dict[str, Any]) -> list[dict[str, Any]]:
    return [o for o in objects if o.get("id") != new["id"]] + [new]


def ingest_compliance(store: DataStore, directory: str | Path) -> list[str]:
    """Add (or replace) the suite's project and study in the hosted catalog; their IDs."""
    directory = Path(directory)
    project = _object(directory / "project.json", catalog.PROJECT_FIELDS)
    study = _object(directory / "study.json", catalog.STUDY_FIELDS)
    if study.get("parentProjectID") != project["id"]:
        raise InputError(
            str(directory / "study.json"),
            1,
            "parentProjectID",
            f"{study.get('parentProjectID')!r} is not the project's ID {project['id']!r}",
        )
    uri = catalog.catalog_uri(store.root)
    document = store.read_json(uri) or {}
    updated = {
        "format": 1,
        "projects": _replace(list(document.get("projects") or []), project),
        "studies": _replace(list(document.get("studies") or []), study),
    }
    vfs = store.vfs()
    directory_uri = join(store.root, catalog.CATALOG_DIR)
    if not directory_uri.startswith("s3://") and not vfs.is_dir(directory_uri):
        vfs.create_dir(directory_uri)
    write_json_atomically(store, uri, updated)
    catalog.forget_hosted()
    return [
        project["id"],
        study["id"],
        *_compliance_expression(store, directory, study["id"]),
        *_compliance_continuous(store, directory, study["id"]),
    ]


def _compliance_expression(store: DataStore, directory: Path, study: str) -> list[str]:
    from omicsgate.ingest import rnaget_expression

    path = rnaget_expression.source_file(directory, "expression")
    if path is None:
        return []
    ticket = directory / "expression_ticket.json"
    units = json.loads(ticket.read_text()).get("units") if ticket.is_file() else None
    meta = rnaget_expression.Meta(COMPLIANCE_EXPRESSION, study, units or "TPM", source=str(path))
    rnaget_expression.write_expression(store, meta, rnaget_expression.read_matrix(path))
    return [COMPLIANCE_EXPRESSION]


def _compliance_continuous(store: DataStore, directory: Path, study: str) -> list[str]:
    from omicsgate.ingest import continuous

    loom = directory / "continuous.loom"
    if not loom.is_file():
        return []
    meta = continuous.Meta(
        COMPLIANCE_CONTINUOUS, study, COMPLIANCE_CONTINUOUS_UNITS, source=str(loom)
    )
    continuous.write_continuous(store, meta, continuous.loom_source(str(loom)))
    return [COMPLIANCE_CONTINUOUS]


def has_compliance(store: DataStore) -> bool:
    """The suite's project, expression and continuous matrix are hosted (a store built
    before the expression or continuous part existed gets it at the next ``make serve``)."""
    from omicsgate.rnaget import expression
    from omicsgate.rnaget.continuous import record_uri

    document = store.read_json(catalog.catalog_uri(store.root)) or {}
    hosted = any(p.get("id") == COMPLIANCE_PROJECT for p in document.get("projects") or [])
    expression_uri = expression.record_uri(store.root, COMPLIANCE_EXPRESSION)
    return (
        hosted
        and store.read_json(record_uri(store.root, COMPLIANCE_CONTINUOUS)) is not None
        and store.read_json(expression_uri) is not None
    )
