"""Federation: the same catalog request asked of peer OmicsGate deployments.

Peers are configured by URL: ``OMICSGATE_CATALOG_PEERS="eu=https://a.example,us=https://b"``
(an ID before ``=`` is optional; without one the peer's ID is its host). Every peer is
asked at once, each in a thread of its own, with ``OMICSGATE_CATALOG_PEER_TIMEOUT_SECONDS``
(default 5) for the whole exchange: the call waits at most that long for all of them,
whatever they do. A peer that fails (unreachable, slow, an answer that is not a catalog
envelope) becomes a response with no results and a WARNING event saying why, never a
failed call. Peers are asked anonymously (a token is never forwarded to another
deployment) and without ``federated``, so a peer never fans the request out again.
"""

from __future__ import annotations

import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Any

from omicsgate.catalog._envelope import WARNING, data_result, event

PEERS_ENV = "OMICSGATE_CATALOG_PEERS"
TIMEOUT_ENV = "OMICSGATE_CATALOG_PEER_TIMEOUT_SECONDS"
DEFAULT_TIMEOUT = 5.0
MAX_PEER_BYTES = 5_000_000  # a peer's answer beyond this could not fit ours under 6 MB
Obj = dict[str, Any]


@dataclass(frozen=True)
class Peer:
    id: str
    uri: str


def peers() -> list[Peer]:
    found = []
    for item in (os.environ.get(PEERS_ENV) or "").split(","):
        item = item.strip()
        if not item:
            continue
        name, sep, uri = item.partition("=")
        if not sep or "://" in name:
            name, uri = urllib.parse.urlsplit(item).netloc, item
        found.append(Peer(name.strip(), uri.strip().rstrip("/")))
    return found


def timeout() -> float:
    return float(os.environ.get(TIMEOUT_ENV) or DEFAULT_TIMEOUT)


def _fetch(url: str, seconds: float) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=seconds) as response:
            return response.status, response.read(MAX_PEER_BYTES + 1)
    except urllib.error.HTTPError as error:  # 4xx/5xx still carry a catalog envelope
        return error.code, error.read(MAX_PEER_BYTES + 1)


def _answer(peer: Peer, status: int, body: bytes, ms: int) -> Obj:
    node = {"id": peer.id, "uri": peer.uri, "version": ""}
    if len(body) > MAX_PEER_BYTES:
        return _failed(peer, f"answered more than {MAX_PEER_BYTES} bytes", ms)
    try:
        document = json.loads(body)
        responses = document["responses"]
        version = str(document.get("apiVersion") or "")
    except (ValueError, KeyError, TypeError):
        return _failed(peer, f"answered HTTP {status} without a catalog envelope", ms)
    events = [e for e in document.get("events") or [] if isinstance(e, dict)]
    if not responses:  # an error: the peer's own events say why
        why = "; ".join(str(e.get("message")) for e in events) or "no response"
        return _failed(peer, f"answered HTTP {status}: {why}", ms)
    own = dict(responses[0])
    # The peer's own node version (its OmicsGate version) when it says, else its API's.
    said = own.get("federationNode")
    version = str(said.get("version") or version) if isinstance(said, dict) else version
    own["federationNode"] = {**node, "version": version}
    own["time"] = ms
    own["events"] = [*events, *(own.get("events") or [])]
    return own


def _failed(peer: Peer, why: str, ms: int) -> Obj:
    message = f"federated peer {peer.id!r} ({peer.uri}) {why}"
    return data_result(
        [],
        result_type="",
        num_matches=-1,
        node={"id": peer.id, "uri": peer.uri, "version": ""},
        time_ms=ms,
        events=[event(WARNING, message, id=peer.id, name="federation")],
    )


def ask(targets: Sequence[Peer], path: str, query: Sequence[tuple[str, str]]) -> list[Obj]:
    """One response per peer, in the order configured, within :func:`timeout` seconds."""
    if not targets:
        return []
    seconds = timeout()
    forwarded = [(k, v) for k, v in query if k != "federated"]
    suffix = f"{path}?{urllib.parse.urlencode(forwarded)}" if forwarded else path
    started = time.monotonic()
    pool = ThreadPoolExecutor(max_workers=len(targets), thread_name_prefix="catalog-peer")
    futures: list[Future[tuple[int, bytes, int]]] = []

    def timed(url: str) -> tuple[int, bytes, int]:
        status, body = _fetch(url, seconds)
        return status, body, int((time.monotonic() - started) * 1000)

    for peer in targets:
        futures.append(pool.submit(timed, peer.uri + suffix))
    wait(futures, timeout=seconds)
    pool.shutdown(wait=False, cancel_futures=True)  # a stuck peer's thread is left behind
    out = []
    for peer, future in zip(targets, futures, strict=True):
        ms = int((time.monotonic() - started) * 1000)
        if not future.done():
            out.append(_failed(peer, f"did not answer within {seconds:g} s", ms))
            continue
        try:
            status, body, took = future.result()
        except (OSError, ValueError) as error:
            reason = getattr(error, "reason", None) or error
            out.append(_failed(peer, f"could not be reached: {reason}", ms))
            continue
        out.append(_answer(peer, status, body, took))
    return out
