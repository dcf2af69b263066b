"""The demo TRS registry, registered through the TRS write API (the TrsFunction's own
handler, invoked in-process with API Gateway events and a local writer token, as
`make serve` invokes it): real CWL tools and workflows read from the installed cwl-utils
package at seed time, and OmicsGate's own `omicsgate ingest gwas` described in CWL, WDL,
Nextflow, Snakemake and Galaxy, with a Dockerfile and test parameters. Never deployed:
cwl-utils' test data is not shipped in the Lambda."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

# (tool ID, primary descriptor, [secondary files], test file) from cwl_utils/testdata.
CWL_UTILS_TOOLS: list[tuple[str, str, list[str], str | None]] = [
    ("cwl-utils-md5sum", "dockstore-tool-md5sum.cwl", [], None),
    ("cwl-utils-echo", "echo_v1_2.cwl", [], None),
    ("cwl-utils-revsort", "revsort-packed.cwl", [], "revsort-job.json"),
    ("cwl-utils-bwa-mem", "bwa-mem-tool.cwl", [], "bwa-mem-job.json"),
]
IMAGE = "ghcr.io/omicsgate/omicsgate:0.1.0"

INGEST_GWAS_CWL = f"""cwlVersion: v1.2
class: CommandLineTool
label: omicsgate ingest gwas
doc: Ingest one GWAS-VCF study into an OmicsGate store (local directory or s3:// URI).
hints:
  DockerRequirement:
    dockerPull: {IMAGE}
baseCommand: [omicsgate, ingest, gwas]
inputs:
  study_id:
    type: string
    inputBinding: {{prefix: --study, position: 1}}
  metadata:
    type: File
    doc: The study's metadata (JSON, e.g. trait, population, sample_size).
    inputBinding: {{prefix: --metadata, position: 2}}
  vcf:
    type: File
    inputBinding: {{position: 3}}
outputs:
  log:
    type: stdout
stdout: ingest.log
"""

INGEST_GWAS_WDL = f"""version 1.0

task ingest_gwas {{
  input {{
    String study_id
    File metadata
    File vcf
  }}
  command <<<
    omicsgate ingest gwas --study ~{{study_id}} --metadata ~{{metadata}} ~{{vcf}}
  >>>
  runtime {{
    docker: "{IMAGE}"
  }}
  output {{
    File log = stdout()
  }}
}}
"""

INGEST_GWAS_NFL = f"""nextflow.enable.dsl = 2

params.vcf = null
params.study_id = null
params.metadata = null

process INGEST_GWAS {{
    container '{IMAGE}'

    input:
    path vcf
    path metadata

    output:
    stdout

    script:
    \"\"\"
    omicsgate ingest gwas --study ${{params.study_id}} --metadata $metadata $vcf
    \"\"\"
}}

workflow {{
    INGEST_GWAS(Channel.fromPath(params.vcf), Channel.fromPath(params.metadata))
}}
"""

INGEST_GWAS_SMK = f"""rule ingest_gwas:
    input:
        vcf=config["vcf"],
        metadata=config["metadata"],
    output:
        log="ingest.log",
    container:
        "docker://{IMAGE}"
    shell:
        "omicsgate ingest gwas --study {{config[study_id]}} --metadata {{input.metadata}} "
        "{{input.vcf}} > {{output.log}}"
"""

INGEST_GWAS_GALAXY = """class: GalaxyWorkflow
label: OmicsGate GWAS ingest
doc: Ingest GWAS-VCF summary statistics into an OmicsGate store
inputs:
  summary_statistics:
    type: data
    format: vcf_bgzip
outputs:
  ingested:
    outputSource: ingest/report
steps:
  ingest:
    tool_id: omicsgate_ingest_gwas
    tool_version: "0.1.0"
    in:
      vcf: summary_statistics
"""

DOCKERFILE = """FROM python:3.12-slim
RUN pip install --no-cache-dir omicsgate==0.1.0
ENTRYPOINT []
"""

TEST_PARAMETERS = {
    "study_id": "ieu-a-2",
    "metadata": {"class": "File", "path": "ieu-a-2.json"},
    "vcf": {"class": "File", "path": "data.vcf.gz"},
}


def _file(path: str, file_type: str, content: str, kind: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "tool_file": {"path": path, "file_type": file_type},
        "file_wrapper": {"content": content},
    }
    if kind:
        entry["type"] = kind
    return entry


def cwl_utils_tools() -> dict[str, dict[str, Any]]:
    """Registration bodies of real CWL from the installed cwl-utils package."""
    testdata = files("cwl_utils") / "testdata"
    bodies = {}
    for tool_id, primary, secondaries, test in CWL_UTILS_TOOLS:
        content = (testdata / primary).read_text()
        toolclass = "Workflow" if "class: Workflow" in content else "CommandLineTool"
        entries = [_file(primary, "PRIMARY_DESCRIPTOR", content, "CWL")]
        entries += [
            _file(s, "SECONDARY_DESCRIPTOR", (testdata / s).read_text(), "CWL") for s in secondaries
        ]
        if test:
            entries.append(_file(test, "TEST_FILE", (testdata / test).read_text(), "CWL"))
        bodies[tool_id] = {
            "organization": "Common Workflow Language (cwl-utils test data)",
            "name": primary.removesuffix(".cwl"),
            "description": f"cwl_utils/testdata/{primary}, as shipped in cwl-utils",
            "toolclass": {"id": toolclass, "name": toolclass},
            "versions": [{"id": "1", "name": primary, "files": entries}],
        }
    return bodies


def omicsgate_tools() -> dict[str, dict[str, Any]]:
    """`omicsgate ingest gwas` in every descriptor language TRS names."""
    tests = json.dumps(TEST_PARAMETERS, indent=2) + "\n"
    files_ = [
        _file("ingest-gwas.cwl", "PRIMARY_DESCRIPTOR", INGEST_GWAS_CWL, "CWL"),
        _file("ingest-gwas.wdl", "PRIMARY_DESCRIPTOR", INGEST_GWAS_WDL, "WDL"),
        _file("main.nf", "PRIMARY_DESCRIPTOR", INGEST_GWAS_NFL, "NFL"),
        _file("Snakefile", "PRIMARY_DESCRIPTOR", INGEST_GWAS_SMK, "SMK"),
        _file("ingest-gwas.gxwf.yml", "PRIMARY_DESCRIPTOR", INGEST_GWAS_GALAXY, "GALAXY"),
        _file("test.json", "TEST_FILE", tests, "CWL"),
        _file("inputs.json", "TEST_FILE", tests, "WDL"),
        _file("Dockerfile", "CONTAINERFILE", DOCKERFILE),
    ]
    return {
        "omicsgate-ingest-gwas": {
            "organization": "OmicsGate",
            "name": "omicsgate ingest gwas",
            "description": "Ingest one GWAS-VCF study into an OmicsGate store",
            "aliases": ["omicsgate:ingest-gwas"],
            "toolclass": {"id": "CommandLineTool", "name": "CommandLineTool"},
            "versions": [
                {"id": "0.1.0", "name": "0.1.0", "author": ["OmicsGate"], "files": files_}
            ],
        }
    }


def seed_registry(template_path: str) -> list[str]:
    """PUT every demo tool through the TrsFunction's handler (idempotent); their IDs."""
    import os

    from omicsgate.auth import get_auth
    from omicsgate.localapi.events import LocalContext, http_api_event, response_body
    from omicsgate.localapi.template import load_handler, load_template
    from omicsgate.localapi.tokens import issue_token

    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")  # no EMF lines on a terminal
    template = load_template(template_path)
    handler = load_handler(template.functions["TrsFunction"])
    token = issue_token(
        get_auth(), "demo-seed", frozenset(), "trusted", 3600, frozenset({"trs-writer"})
    )
    registered = []
    for tool_id, body in {**omicsgate_tools(), **cwl_utils_tools()}.items():
        event = http_api_event(
            "PUT",
            f"/ga4gh/trs/v2/tools/{tool_id}",
            headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
            body=json.dumps(body).encode(),
        )
        response = handler(event, LocalContext())
        if response["statusCode"] != 200:
            raise RuntimeError(f"{tool_id}: {response_body(response).decode()}")
        registered.append(tool_id)
    return registered
