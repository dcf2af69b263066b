"""GA4GH TRS 2.1 through the real TrsFunction handler with API Gateway events: on a local
directory with the embedded SQLite registry, and on S3 + DynamoDB on a moto server."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import os
import threading
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from omicsgate.localapi.devtools import reset_settings, use_store
from tests.conftest import BUCKET, Caller
from tests.tokens import user_token
from tests.trs_data import BASE, DEMO_ID, LEGACY_BASE, demo_tool, put_demo, trs, writer_token

pytestmark = pytest.mark.integration
VERSION = f"/tools/{DEMO_ID}/versions/1.0"


@pytest.fixture(params=["local", "s3"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty registry: its own directory, or its own S3 prefix and DynamoDB table."""
    if request.param == "local":
        use_store(str(tmp_path / "data"))
        yield request.param
        reset_settings()
        return
    endpoint = request.getfixturevalue("moto_endpoint")
    table = f"trs-{uuid.uuid4().hex[:8]}"
    boto3.client("dynamodb", endpoint_url=endpoint).create_table(
        TableName=table,
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    )
    os.environ.update(OMICSGATE_TRS_TABLE=table, OMICSGATE_DYNAMODB_ENDPOINT=endpoint)
    use_store(f"s3://{BUCKET}/{table}", endpoint)
    yield request.param
    for name in ("OMICSGATE_TRS_TABLE", "OMICSGATE_DYNAMODB_ENDPOINT"):
        os.environ.pop(name)
    reset_settings()


def get_json(
    call: Caller, path: str, query: str = "", token: str | None = None, base: str = BASE
) -> tuple[int, object]:
    status, headers, body = trs(call, "GET", path, query, token=token, base=base)
    assert headers["content-type"].startswith("application/json"), headers
    return status, json.loads(body)


def demo_file(path: str) -> str:
    (found,) = [
        f["file_wrapper"]["content"]
        for f in demo_tool()["versions"][0]["files"]
        if f["tool_file"]["path"] == path
    ]
    return str(found)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_a_registered_tool_is_described_from_its_descriptors(registry: str, call: Caller) -> None:
    put_demo(call)
    status, tools = get_json(call, "/tools")
    assert status == 200
    (tool,) = tools  # type: ignore[misc]
    assert tool["id"] == DEMO_ID and tool["url"].endswith(f"/ga4gh/trs/v2/tools/{DEMO_ID}")
    (version,) = tool["versions"]
    assert version["descriptor_type"] == ["CWL", "WDL"]
    # From the files, not the body: cwlVersion of the primary CWL, WDL's version line.
    assert version["descriptor_type_version"] == {"CWL": ["v1.2"], "WDL": ["1.0"]}
    # DockerRequirement of tools/echo.cwl and runtime.docker of echo.wdl: one image.
    assert [i["image_name"] for i in version["images"]] == ["debian:bookworm-slim"]
    assert version["containerfile"] is True


def test_every_read_route_answers_get_and_head(registry: str, call: Caller) -> None:
    put_demo(call)
    routes = [
        "/service-info",
        "/toolClasses",
        "/tools",
        f"/tools/{DEMO_ID}",
        f"/tools/{DEMO_ID}/versions",
        VERSION,
        f"{VERSION}/CWL/descriptor",
        f"{VERSION}/PLAIN_CWL/descriptor/tools/echo.cwl",
        f"{VERSION}/CWL/tests",
        f"{VERSION}/WDL/files",
        f"{VERSION}/containerfile",
    ]
    for path in routes:
        got, _, body = trs(call, "GET", path)
        head, _, _ = trs(call, "HEAD", path)
        assert (got, head) == (200, 200), (path, body)


def test_descriptors_carry_sha256_and_plain_types_are_text(registry: str, call: Caller) -> None:
    put_demo(call)
    status, wrapper = get_json(call, f"{VERSION}/CWL/descriptor")
    workflow = demo_file("workflow.cwl")
    assert status == 200 and wrapper["content"] == workflow  # type: ignore[index]
    assert wrapper["checksum"] == [{"checksum": sha256(workflow), "type": "sha-256"}]  # type: ignore[index]
    for plain in ("PLAIN_CWL", "plain-CWL"):  # TRS's name and cwltool's
        status, headers, body = trs(call, "GET", f"{VERSION}/{plain}/descriptor/tools/echo.cwl")
        assert status == 200 and headers["content-type"].startswith("text/plain")
        assert body.decode() == demo_file("tools/echo.cwl")
    status, wdl = get_json(call, f"{VERSION}/WDL/descriptor")
    assert wdl["content"] == demo_file("echo.wdl")  # type: ignore[index]
    status, tests = get_json(call, f"{VERSION}/CWL/tests")
    assert [t["content"] for t in tests] == [demo_file("test.json")]  # type: ignore[attr-defined]
    status, files = get_json(call, f"{VERSION}/CWL/files")
    listed = {f["path"]: f for f in files}  # type: ignore[attr-defined]
    assert set(listed) == {"workflow.cwl", "tools/echo.cwl", "test.json", "Dockerfile"}
    for path, entry in listed.items():
        assert entry["checksum"] == {"checksum": sha256(demo_file(path)), "type": "sha-256"}
    status, containerfiles = get_json(call, f"{VERSION}/containerfile")
    assert [c["content"] for c in containerfiles] == [demo_file("Dockerfile")]  # type: ignore[attr-defined]


def _without(answer: object, field: str) -> object:
    """``answer`` (an object or a list of them) without ``field``."""
    if isinstance(answer, list):
        return [_without(item, field) for item in answer]
    assert isinstance(answer, dict)
    return {k: v for k, v in answer.items() if k != field}


def test_the_legacy_base_path_answers_in_trs_2_0_1(registry: str, call: Caller) -> None:
    """/api/ga4gh/v2 gives each answer of /ga4gh/trs/v2 without the fields TRS 2.1 added
    (tests/integration/test_trs_cli.py checks them against trs-cli's 2.0.1 models)."""
    put_demo(call)

    def both(path: str) -> tuple[Any, Any]:
        status, current = get_json(call, path)
        legacy_status, legacy = get_json(call, path, base=LEGACY_BASE)
        assert (status, legacy_status) == (200, 200), (path, current, legacy)
        return current, legacy

    for path in ("/tools", f"/tools/{DEMO_ID}"):
        current, legacy = both(path)
        tools = current if isinstance(current, list) else [current]
        assert all("descriptor_type_version" in v for t in tools for v in t["versions"])
        expected = [
            {**t, "versions": _without(t["versions"], "descriptor_type_version")} for t in tools
        ]
        assert legacy == (expected if isinstance(current, list) else expected[0])
    for path in (f"/tools/{DEMO_ID}/versions", VERSION):
        current, legacy = both(path)
        assert "descriptor_type_version" in json.dumps(current)
        assert legacy == _without(current, "descriptor_type_version")
    for path, added in [
        (f"{VERSION}/CWL/descriptor", "image_type"),
        (f"{VERSION}/CWL/descriptor/tools/echo.cwl", "image_type"),
        (f"{VERSION}/CWL/tests", "image_type"),
        (f"{VERSION}/containerfile", "image_type"),
        (f"{VERSION}/CWL/files", "checksum"),
    ]:
        current, legacy = both(path)
        assert f'"{added}"' in json.dumps(current), path
        assert legacy == _without(current, added), path
    current, legacy = both("/toolClasses")
    assert legacy == current
    current, legacy = both("/service-info")
    assert current["type"]["version"] == "2.1.0"
    assert legacy == {**current, "type": {**current["type"], "version": "2.0.1"}}


def test_files_as_zip_hold_every_file_at_its_path(registry: str, call: Caller) -> None:
    put_demo(call)
    status, headers, body = trs(call, "GET", f"{VERSION}/CWL/files", "format=zip")
    assert status == 200 and headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(body))
    assert sorted(archive.namelist()) == [
        "Dockerfile",
        "test.json",
        "tools/echo.cwl",
        "workflow.cwl",
    ]
    for name in archive.namelist():
        assert archive.read(name).decode() == demo_file(name)


def test_relative_paths_are_normalised_and_cannot_escape(registry: str, call: Caller) -> None:
    put_demo(call)
    status, _, body = trs(call, "GET", f"{VERSION}/PLAIN_CWL/descriptor/tools/../workflow.cwl")
    assert status == 200 and body.decode() == demo_file("workflow.cwl")
    for escaping in ("../../../etc/passwd", "tools/../../x.cwl", "%2E%2E/x.cwl"):
        status, _, body = trs(call, "GET", f"{VERSION}/CWL/descriptor/{escaping}")
        assert status == 400, (escaping, body)
        error = json.loads(body)
        assert error["code"] == 400 and "escapes" in error["message"], error
    tool = demo_tool()
    tool["versions"][0]["files"][1]["tool_file"]["path"] = "../echo.cwl"
    status, _, body = trs(call, "PUT", "/tools/escaping", body=tool, token=writer_token())
    assert status == 400 and b"escapes" in body
    assert trs(call, "GET", "/tools/escaping")[0] == 404


def _stored_objects(registry: str) -> set[str]:
    from omicsgate.settings import get_settings

    root = f"{get_settings().data_uri}/trs/files"
    if registry == "local":
        return set(os.listdir(root)) if os.path.isdir(root) else set()
    bucket, _, prefix = root.removeprefix("s3://").partition("/")
    client = boto3.client("s3", endpoint_url=get_settings().s3_endpoint)
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix + "/").get("Contents", [])
    return {o["Key"].rsplit("/", 1)[1] for o in listed}


WORKFLOW_CWL = demo_file("workflow.cwl")
ECHO_CWL = demo_file("tools/echo.cwl")


@pytest.mark.parametrize(
    ("path", "content", "kind", "line", "message"),
    [
        (
            "tools/echo.cwl",
            "cwlVersion: v1.2\nclass: CommandLineTool\ninptus: []\noutputs: []\n",
            "CWL",
            3,
            "invalid field 'inptus'",
        ),
        (
            "echo.wdl",
            "version 1.0\ntask echo {\n  command { echo }\n  output { Int n = }\n}\n",
            "WDL",
            4,
            "",
        ),
        (  # an unknown type name: cwl-utils' parser accepts it, cwltool's loader does not
            "tools/echo.cwl",
            ECHO_CWL.replace("type: string", "type: strnig"),
            "CWL",
            10,
            "references unknown identifier 'strnig'",
        ),
        (  # validation reads no network: a step's run must be one of the version's files
            "workflow.cwl",
            WORKFLOW_CWL.replace("run: tools/echo.cwl", "run: https://example.org/echo.cwl"),
            "CWL",
            12,
            "'https://example.org/echo.cwl' is not among the version's files",
        ),
        (  # ... nor a file of the server's
            "workflow.cwl",
            WORKFLOW_CWL.replace("run: tools/echo.cwl", "run: ../../../../etc/hostname"),
            "CWL",
            12,
            "'file:///etc/hostname' is not among the version's files",
        ),
        (  # ... nor the function's environment (its AWS credentials)
            "tools/echo.cwl",
            ECHO_CWL.replace(
                "baseCommand: echo",
                "requirements:\n  InitialWorkDirRequirement:\n    listing:\n"
                "      - {entryname: env.txt, entry: {$include: /proc/self/environ}}\n"
                "baseCommand: echo",
            ),
            "CWL",
            None,
            "'file:///proc/self/environ' is not among the version's files",
        ),
    ],
    ids=["CWL", "WDL", "CWL-unknown-type", "CWL-remote-run", "CWL-run-outside", "CWL-include"],
)
def test_an_invalid_descriptor_is_refused_and_nothing_is_stored(
    registry: str, call: Caller, path: str, content: str, kind: str, line: int | None, message: str
) -> None:
    tool = demo_tool()
    for entry in tool["versions"][0]["files"]:
        if entry["tool_file"]["path"] == path:
            entry["file_wrapper"]["content"] = content
    before = _stored_objects(registry)
    status, _, body = trs(call, "PUT", "/tools/broken", body=tool, token=writer_token())
    answer = json.loads(body)
    assert status == 400 and answer["code"] == 400, answer
    assert set(answer) == {"code", "message", "errors", "requestId"}, answer
    located = [(p["file"], p["line"]) for p in answer["errors"] if message in p["message"]]
    assert (path, line) in located and path in answer["message"], answer
    assert trs(call, "GET", "/tools/broken")[0] == 404
    assert _stored_objects(registry) == before  # not even the valid files


def test_an_unknown_type_name_passes_cwl_utils_but_not_registration(
    registry: str, call: Caller, tmp_path: Path
) -> None:
    """Why registration validates with cwltool's loader: cwl-utils' parser (the validator
    before) accepts a misspelt type; cwltool resolves every identifier and refuses it."""
    from cwl_utils.parser import load_document_by_uri

    misspelt = ECHO_CWL.replace("type: string", "type: strnig")
    (tmp_path / "echo.cwl").write_text(misspelt)
    load_document_by_uri(str(tmp_path / "echo.cwl"), load_all=True)  # no error
    tool = demo_tool()
    for entry in tool["versions"][0]["files"]:
        if entry["tool_file"]["path"] == "tools/echo.cwl":
            entry["file_wrapper"]["content"] = misspelt
    status, _, body = trs(call, "PUT", "/tools/misspelt", body=tool, token=writer_token())
    answer = json.loads(body)
    assert status == 400, answer
    assert answer["message"] == (
        "invalid descriptor tools/echo.cwl:10: Field 'type' references unknown identifier "
        "'strnig', tried tools/echo.cwl#strnig"
    )


FRAGMENTS_TOOL = """cwlVersion: v1.2
class: CommandLineTool
requirements:
  SchemaDefRequirement:
    types:
      - $import: types/sample.yml
  InlineJavascriptRequirement:
    expressionLib:
      - $include: lib/helpers.js
baseCommand: echo
arguments: [$(greet(inputs.sample.name))]
inputs:
  sample: types/sample.yml#Sample
outputs: []
"""
SAMPLE_TYPE = "type: record\nname: Sample\nfields:\n  name: string\n"


def _fragments_tool(sample_type: str) -> dict[str, object]:
    def file(path: str, file_type: str, content: str) -> dict[str, object]:
        return {
            "tool_file": {"path": path, "file_type": file_type},
            "file_wrapper": {"content": content},
            "type": "CWL",
        }

    files = [
        file("tool.cwl", "PRIMARY_DESCRIPTOR", FRAGMENTS_TOOL),
        file("types/sample.yml", "SECONDARY_DESCRIPTOR", sample_type),
        file("lib/helpers.js", "OTHER", "function greet(n) { return 'hi ' + n; }\n"),
    ]
    return {
        "organization": "OmicsGate tests",
        "toolclass": {"name": "CommandLineTool"},
        "versions": [{"id": "1", "files": files}],
    }


def test_cwl_fragments_are_checked_where_they_are_imported(registry: str, call: Caller) -> None:
    """A record type in a file of its own ($import) and a JavaScript library ($include):
    not processes, so not loaded alone, but a mistake in them is found through the tool."""
    token = writer_token()
    status, _, body = trs(
        call, "PUT", "/tools/fragments", body=_fragments_tool(SAMPLE_TYPE), token=token
    )
    assert status == 200, body
    broken = _fragments_tool(SAMPLE_TYPE.replace("string", "strng"))
    status, _, body = trs(call, "PUT", "/tools/fragments", body=broken, token=token)
    answer = json.loads(body)
    assert status == 400 and answer["errors"][-1] == {
        "file": "types/sample.yml",
        "line": 4,
        "message": "checking object 'types/sample.yml#Sample/name' Field 'type' references "
        "unknown identifier 'strng', tried types/sample.yml#strng",
    }, answer


def _item_bytes(tool_id: str) -> int:
    """What DynamoDB counts for the tool's stored item."""
    from omicsgate.trs import get_registry
    from omicsgate.trs._records import TOOL, item_bytes

    stored = get_registry().metadata.get(TOOL, tool_id)
    assert stored is not None
    return item_bytes(TOOL, tool_id, stored.doc)


def test_a_tool_past_dynamodb_s_item_limit_is_refused_and_nothing_is_stored(
    registry: str, call: Caller
) -> None:
    """Metadata at the limit is stored (by DynamoDB on moto too); one byte more is a 400
    that stores neither the metadata nor the files."""
    from omicsgate.trs._records import ITEM_LIMIT

    put_demo(call, "big", description="")
    room = ITEM_LIMIT - _item_bytes("big")
    put_demo(call, "big", description="x" * room)  # exactly at the limit: stored
    assert _item_bytes("big") == ITEM_LIMIT
    tool = {**demo_tool(), "description": "x" * (room + 1)}
    for entry in tool["versions"][0]["files"]:  # new files, so their absence can be seen
        entry["file_wrapper"]["content"] += "\n# changed\n"
    before = _stored_objects(registry)
    status, _, body = trs(call, "PUT", "/tools/big", body=tool, token=writer_token())
    answer = json.loads(body)
    assert status == 400 and answer == {
        "code": 400,
        "message": f"tool 'big' would hold {ITEM_LIMIT + 1:,} bytes of metadata, past the "
        "registry's 400,000 (one DynamoDB item per tool; files are stored apart and do not "
        "count): register fewer versions or shorter fields, or split the tool",
        "requestId": answer.get("requestId"),
    }
    assert _stored_objects(registry) == before
    status, stored = get_json(call, "/tools/big")
    assert status == 200 and len(stored["description"]) == room  # type: ignore[index]


def test_versions_are_added_until_the_tool_s_metadata_would_not_fit(
    registry: str, call: Caller
) -> None:
    """Each version names the same files (stored once) and 90 KB of authors: the fifth
    does not fit; the four before it stay, whole."""
    put_demo(call, "many")
    version = demo_tool()["versions"][0]
    authors = [f"Author {n:04d} " + "y" * 80 for n in range(1000)]
    answers = []
    for n in range(2, 8):
        body = {**version, "id": f"v{n}", "author": authors}
        answers.append(trs(call, "POST", "/tools/many/versions", body=body, token=writer_token()))
    assert [status for status, _, _ in answers] == [200, 200, 200, 200, 400, 400]
    assert b"past the registry's 400,000" in answers[4][2]
    status, versions = get_json(call, "/tools/many/versions")
    assert status == 200
    assert [v["id"] for v in versions] == ["1.0", "v2", "v3", "v4", "v5"]  # type: ignore[attr-defined]
    assert all(len(v.get("author", authors)) == 1000 for v in versions[1:])  # type: ignore[index]


def test_concurrent_puts_of_one_version_leave_one_of_them_whole(
    registry: str, call: Caller
) -> None:
    put_demo(call)
    token = writer_token()
    bodies = []
    for n in range(8):
        version = json.loads(json.dumps(demo_tool()["versions"][0]))
        version["name"] = f"writer {n}"
        for entry in version["files"]:
            if entry["tool_file"]["path"] == "test.json":
                entry["file_wrapper"]["content"] = json.dumps({"message": f"writer {n}"})
            if entry["tool_file"]["path"] == "Dockerfile":
                entry["file_wrapper"]["content"] = f"FROM debian:bookworm-slim\n# writer {n}\n"
        bodies.append(version)
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = []

    def put(body: dict[str, object]) -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())  # Mangum runs on the thread's loop
        barrier.wait()
        statuses.append(trs(call, "PUT", VERSION, body=body, token=token)[0])

    threads = [threading.Thread(target=put, args=(b,)) for b in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * len(bodies)
    _, version = get_json(call, VERSION)
    winner = version["name"]  # type: ignore[index]
    _, tests = get_json(call, f"{VERSION}/CWL/tests")
    _, containerfiles = get_json(call, f"{VERSION}/containerfile")
    # Every file and the metadata come from the same PUT: no mix of two writers.
    assert json.loads(tests[0]["content"]) == {"message": winner}  # type: ignore[index]
    assert containerfiles[0]["content"].endswith(f"# {winner}\n")  # type: ignore[index]
    _, versions = get_json(call, f"/tools/{DEMO_ID}/versions")
    assert [v["id"] for v in versions] == ["1.0"]  # type: ignore[attr-defined]


def test_tools_pages_with_trs_headers(registry: str, call: Caller, template: object) -> None:
    for n in range(5):
        put_demo(call, f"tool-{n}")
    status, headers, body = trs(call, "GET", "/tools", "limit=2&organization=OmicsGate")
    assert status == 200 and [t["id"] for t in json.loads(body)] == ["tool-0", "tool-1"]
    assert headers["current_offset"] == "0" and headers["current_limit"] == "2"
    assert headers["next_page"].endswith(
        "/ga4gh/trs/v2/tools?limit=2&organization=OmicsGate&offset=2"
    )
    assert headers["last_page"].endswith("offset=4") and headers["self_link"].endswith("offset=0")
    status, headers, body = trs(call, "GET", "/tools", "limit=2&offset=4")
    assert [t["id"] for t in json.loads(body)] == ["tool-4"] and "next_page" not in headers
    assert json.loads(trs(call, "GET", "/tools", "offset=99")[2]) == []
    # Browsers may read them: the HTTP API exposes them through CORS.
    exposed = set(template.cors.expose_headers)  # type: ignore[attr-defined]
    assert {"next_page", "last_page", "self_link", "current_offset", "current_limit"} <= exposed


def test_a_tools_page_holds_at_most_5_mb_of_json(registry: str, call: Caller) -> None:
    """A Lambda answer must stay under 6 MB: 14 tools of 390 KB of metadata are two pages
    of /tools whatever ``limit`` says, ``next_page`` starting at the first left out."""
    body = {"organization": "OmicsGate tests", "toolclass": {"name": "Workflow"}, "versions": []}
    ids = [f"large-{n:02d}" for n in range(14)]
    for tool_id in ids:
        tool = {**body, "description": "x" * 390_000}
        status, _, answer = trs(call, "PUT", f"/tools/{tool_id}", body=tool, token=writer_token())
        assert status == 200, answer
    status, headers, page = trs(call, "GET", "/tools")
    assert status == 200 and len(page) <= 5_000_000
    assert [t["id"] for t in json.loads(page)] == ids[:12]
    assert headers["current_limit"] == "1000" and headers["next_page"].endswith("offset=12")
    status, headers, page = trs(call, "GET", "/tools", "offset=12")
    assert [t["id"] for t in json.loads(page)] == ids[12:] and "next_page" not in headers


def test_tools_filters(registry: str, call: Caller) -> None:
    put_demo(call, "echo-a")
    put_demo(call, "echo-b", name="other", organization="Elsewhere")

    def ids(query: str) -> list[str]:
        return [t["id"] for t in json.loads(trs(call, "GET", "/tools", query)[2])]

    assert ids("toolname=echo") == ["echo-a"]
    assert ids("organization=elsewhere") == ["echo-b"]
    assert ids("descriptorType=WDL") == ["echo-a", "echo-b"]
    assert ids("descriptorType=NFL") == []
    assert ids("toolClass=Workflow&id=echo-b") == ["echo-b"]
    assert ids("name=debian") == ["echo-a", "echo-b"]  # the image name
    assert ids("author=omicsgate") == ["echo-a", "echo-b"]


def test_a_restricted_tool_is_invisible_outside_its_groups(registry: str, call: Caller) -> None:
    put_demo(call, "private-echo", groups=["cohort-a"])
    outsider = user_token("olga", {"cohort-b"})
    for token in (None, outsider):
        assert trs(call, "GET", "/tools/private-echo", token=token)[:1] == (404,)
        assert json.loads(trs(call, "GET", "/tools", token=token)[2]) == []
        secret = trs(
            call, "GET", "/tools/private-echo/versions/1.0/CWL/files", "format=zip", token=token
        )
        absent = trs(
            call, "GET", "/tools/no-such-tool/versions/1.0/CWL/files", "format=zip", token=token
        )
        assert secret[0] == absent[0] == 404
        assert _without_request_id(secret[2], "private-echo") == _without_request_id(
            absent[2], "no-such-tool"
        )
    member = user_token("anna", {"cohort-a"})
    assert trs(call, "GET", "/tools/private-echo", token=member)[0] == 200
    # A writer outside the groups cannot overwrite (or learn of) it either.
    status, _, _ = trs(
        call,
        "PUT",
        "/tools/private-echo",
        body=demo_tool(),
        token=writer_token("walt", ["cohort-b"]),
    )
    assert status == 404
    assert trs(call, "GET", "/tools/private-echo", token=member)[0] == 200


def _without_request_id(body: bytes, tool_id: str) -> dict[str, object]:
    error: dict[str, object] = json.loads(body.replace(tool_id.encode(), b"?"))
    error.pop("requestId")
    return error


def test_writes_need_a_token_with_the_writer_role(registry: str, call: Caller) -> None:
    status, _, body = trs(call, "PUT", "/tools/nope", body=demo_tool())
    assert status == 401 and json.loads(body)["code"] == 401
    status, _, body = trs(call, "PUT", "/tools/nope", body=demo_tool(), token=user_token("olga"))
    assert status == 403 and "trs-writer" in json.loads(body)["message"]
    assert trs(call, "GET", "/tools/nope")[0] == 404


def test_the_write_api_round_trip(registry: str, call: Caller) -> None:
    token = writer_token()
    status, _, body = trs(call, "POST", "/tools", body=demo_tool(), token=token)
    tool_id = json.loads(body)
    assert status == 200 and trs(call, "GET", f"/tools/{tool_id}")[0] == 200
    _, classes = get_json(call, "/toolClasses")
    assert {c["id"] for c in classes} == {"Workflow"}  # type: ignore[attr-defined]
    version = {k: v for k, v in demo_tool()["versions"][0].items() if k != "id"}
    status, _, body = trs(call, "POST", f"/tools/{tool_id}/versions", body=version, token=token)
    assert status == 200 and json.loads(body) == "1"  # the first free number
    assert trs(call, "DELETE", f"/tools/{tool_id}/versions/1.0", token=token)[0] == 200
    _, versions = get_json(call, f"/tools/{tool_id}/versions")
    assert [v["id"] for v in versions] == ["1"]  # type: ignore[attr-defined]
    assert trs(call, "DELETE", f"/tools/{tool_id}", token=token)[0] == 200
    assert trs(call, "GET", f"/tools/{tool_id}")[0] == 404
    # Tool classes: a tool's own is listed while the tool is; CRUD on a registered one.
    _, classes = get_json(call, "/toolClasses")
    assert classes == []
    cls = {"name": "Command line tool", "description": "one command"}
    status, _, body = trs(call, "POST", "/toolClasses", body=cls, token=token)
    assert json.loads(body) == "command-line-tool"
    assert (
        trs(
            call,
            "PUT",
            "/toolClasses/command-line-tool",
            body={**cls, "description": "x"},
            token=token,
        )[0]
        == 200
    )
    _, classes = get_json(call, "/toolClasses")
    assert {c["id"]: c.get("description") for c in classes}["command-line-tool"] == "x"  # type: ignore[attr-defined]
    assert trs(call, "DELETE", "/toolClasses/command-line-tool", token=token)[0] == 200
    assert trs(call, "DELETE", "/toolClasses/command-line-tool", token=token)[0] == 404


def test_the_local_registry_survives_a_restart(tmp_path: Path, call: Caller) -> None:
    use_store(str(tmp_path / "data"))
    try:
        put_demo(call)
        reset_settings()  # a new process: settings, stores and registry forgotten
        assert trs(call, "GET", f"/tools/{DEMO_ID}")[0] == 200
        assert (tmp_path / "data" / "trs" / "registry.sqlite").exists()
    finally:
        reset_settings()
