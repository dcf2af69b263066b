"""The SnapStart before-snapshot hook every handler registers."""

from __future__ import annotations

from pathlib import Path

import pytest

from omicsgate.localapi.devtools import use_store
from omicsgate.localapi.template import Template, load_handler
from omicsgate.storage import get_store
from omicsgate.web.app import warm_data_stack

pytestmark = pytest.mark.integration


def test_every_handler_registers_a_hook_that_builds_the_tiledb_context(
    template: Template, tmp_path: Path
) -> None:
    from snapshot_restore_py import get_before_snapshot

    for function in template.functions.values():
        load_handler(function)
    hooks = get_before_snapshot()
    assert warm_data_stack in [hook for hook, _, _ in hooks]

    store_dir = tmp_path / "not-yet"
    use_store(str(store_dir))
    assert get_store()._ctx is None
    for hook, args, kwargs in hooks:
        hook(*args, **kwargs)
    assert get_store()._ctx is not None
    # Nothing was read or created: no data, and no connection, goes into the snapshot.
    assert not store_dir.exists()
