"""The portal's built pages (``portal/dist``, made by ``make portal``) at ``/portal/`` and
the API reference at ``/docs/``, as the deployment serves them beside the API. Only GET and
HEAD; nothing outside the built directory is ever read."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from urllib.parse import unquote

Reply = tuple[int, list[tuple[str, str]], bytes]

# URL prefix -> directory under the built portal.
MOUNTS = {"/portal": "", "/docs": "docs"}
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css"}


def default_root(template: str) -> Path:
    """``portal/dist`` of the checkout the template belongs to (``infra/template.yaml``)."""
    return Path(template).resolve().parent.parent / "portal" / "dist"


def _json(status: int, message: str) -> Reply:
    return status, [("content-type", "application/json")], json.dumps({"message": message}).encode()


def serve_static(root: Path | None, method: str, path: str) -> Reply | None:
    """The answer for a static path, or None when the path is not under a mount."""
    mount = next((m for m in MOUNTS if path == m or path.startswith(m + "/")), None)
    if mount is None or root is None:
        return None
    if method not in ("GET", "HEAD"):
        return _json(405, "Method Not Allowed")
    if path == mount:
        return 308, [("location", mount + "/"), ("content-type", "text/plain")], b""
    if not root.is_dir():
        return _json(404, "the portal is not built: run `make portal` (make serve does)")
    base = (root / MOUNTS[mount]).resolve()
    relative = unquote(path[len(mount) + 1 :])
    target = (base / relative).resolve()
    if target != base and base not in target.parents:
        return _json(404, "Not Found")
    if target.is_dir():
        target = target / "index.html"
    if not target.is_file():
        return _json(404, "Not Found")
    kind = TYPES.get(target.suffix) or mimetypes.guess_type(target.name)[0]
    kind = kind or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/json", "image/svg+xml"):
        kind += "; charset=utf-8"
    body = target.read_bytes()  # uvicorn sends no body to a HEAD
    headers = [("content-type", kind), ("cache-control", "no-cache")]
    return 200, headers, body
