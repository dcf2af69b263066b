"""What /v2/meta/about and /v2/meta/status say."""

from __future__ import annotations

from typing import Any

from omicsgate import __version__
from omicsgate.auth import Caller
from omicsgate.catalog._envelope import API_VERSION
from omicsgate.catalog._federation import peers, timeout
from omicsgate.catalog._resources import RESOURCES
from omicsgate.storage import DataStore, InvalidRelease, ReleaseNotFound, StoreUnavailable

OK, DOWN = "OK", "DOWN"


def about_record() -> dict[str, Any]:
    return {
        "program": "OmicsGate",
        "version": __version__,
        "apiVersion": API_VERSION,
        "description": "One OpenCGA-style catalog over OmicsGate's releases, GWAS studies "
        "and TRS tools",
        "resources": sorted(RESOURCES),
        "federation": {
            "peers": [{"id": p.id, "uri": p.uri} for p in peers()],
            "timeoutSeconds": timeout(),
        },
    }


def status_record(store: DataStore, caller: Caller) -> dict[str, Any]:
    """Each store the catalog reads: OK, or DOWN with why (never a failed call)."""
    from omicsgate.gwas import get_gwas
    from omicsgate.trs import get_registry

    checks = {
        "releases": lambda: store.current_release(),
        "gwas": lambda: len(get_gwas(store).visible(caller)),
        "tools": lambda: len(get_registry().tools(caller)),
    }
    record: dict[str, Any] = {}
    for name, check in checks.items():
        try:
            check()
            record[name] = OK
        except (ReleaseNotFound, InvalidRelease, StoreUnavailable, OSError) as error:
            record[name] = f"{DOWN}: {type(error).__name__}"
    return record
