"""Helpers for running OmicsGate locally: tests and benchmarks share them. Never deployed."""

from __future__ import annotations

import os
import socket
import time
import urllib.error
import urllib.request


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_http(url: str, timeout: float = 30) -> None:
    """Return once something answers HTTP at ``url`` (any status)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def reset_settings() -> None:
    """Forget everything read from the environment: settings, data store, auth."""
    from omicsgate.auth import reset_auth
    from omicsgate.storage import reset_store
    from omicsgate.trs import reset_registry

    reset_store()
    reset_auth()
    reset_registry()


def use_store(data_uri: str, endpoint: str | None = None) -> None:
    """Point settings (and so every handler in this process) at a data location."""
    os.environ["OMICSGATE_DATA_URI"] = data_uri
    if endpoint:
        os.environ["OMICSGATE_S3_ENDPOINT"] = endpoint
    else:
        os.environ.pop("OMICSGATE_S3_ENDPOINT", None)
    reset_settings()
