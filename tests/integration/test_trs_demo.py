"""The demo registry (`omicsgate demo trs`, run by `make data`): registered through the
write API, so every descriptor passed the validators; CWL read from the installed cwl-utils."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest

from omicsgate.ingest.demo_trs import IMAGE, seed_registry
from omicsgate.localapi.devtools import reset_settings, use_store
from tests.conftest import TEMPLATE, Caller
from tests.trs_data import trs

pytestmark = pytest.mark.integration


def test_the_demo_registry_is_seeded_through_the_write_api(tmp_path: Path, call: Caller) -> None:
    use_store(str(tmp_path / "data"))
    try:
        registered = seed_registry(str(TEMPLATE))
        assert seed_registry(str(TEMPLATE)) == registered  # idempotent: PUT
        tools = {t["id"]: t for t in json.loads(trs(call, "GET", "/tools")[2])}
        assert set(tools) == set(registered) and len(tools) == 5
        (ingest,) = tools["omicsgate-ingest-gwas"]["versions"]
        assert ingest["descriptor_type"] == ["CWL", "GALAXY", "NFL", "SMK", "WDL"]
        assert ingest["descriptor_type_version"] == {
            "CWL": ["v1.2"],
            "WDL": ["1.0"],
            "GALAXY": ["gxformat2"],
        }
        # One image named by CWL, WDL, Nextflow and Snakemake alike.
        assert [i["image_name"] for i in ingest["images"]] == [IMAGE]
        # Real CWL from the installed package, served as registered.
        md5sum = (files("cwl_utils") / "testdata" / "dockstore-tool-md5sum.cwl").read_text()
        path = "/tools/cwl-utils-md5sum/versions/1/PLAIN_CWL/descriptor"
        assert trs(call, "GET", path)[2].decode() == md5sum
        (revsort,) = tools["cwl-utils-revsort"]["versions"]
        assert revsort["descriptor_type_version"] == {"CWL": ["v1.2"]}  # a packed $graph
        tests = json.loads(trs(call, "GET", "/tools/cwl-utils-revsort/versions/1/CWL/tests")[2])
        assert len(tests) == 1 and "input" in json.loads(tests[0]["content"])
    finally:
        reset_settings()
