"""infra/template.yaml is the single source of truth: the apps and events must follow it."""

from __future__ import annotations

import importlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from fastapi.routing import APIRoute

from omicsgate.localapi.template import Template, _CfnLoader, load_handler, load_template
from tests.conftest import ROOT, TEMPLATE

pytestmark = pytest.mark.template
EVENTS = ROOT / "events"


def app_routes(template: Template, function: str) -> set[tuple[str, str]]:
    spec = template.functions[function]
    load_handler(spec)  # puts the code on sys.path as Lambda does
    app = importlib.import_module(spec.handler.rsplit(".", 1)[0]).app  # the handler module's app
    # The OpenAPI document lists every route the app serves, however routers are nested.
    paths = app.openapi()["paths"]
    # A {name:path} parameter (slashes allowed) is API Gateway's greedy {name+}.
    greedy = {
        re.sub(r"\{(\w+):path\}", r"{\1}", path): re.sub(r"\{(\w+):path\}", r"{\1+}", path)
        for path in _route_paths(app.routes)
        if ":path}" in path
    }
    # Routes left out of the OpenAPI (the catalog's hidden and removed endpoints) still answer.
    unlisted = {
        (method, path)
        for path, route in _api_routes(app.routes)
        if not route.include_in_schema
        for method in route.methods
    }
    return {
        (method.upper(), greedy.get(path, path)) for path, item in paths.items() for method in item
    } | unlisted


def _api_routes(routes: list, prefix: str = "") -> list[tuple[str, APIRoute]]:
    """Every APIRoute with its full path, through included routers."""
    found = []
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            found += _api_routes(nested.routes, prefix + route.include_context.prefix)
        elif isinstance(route, APIRoute):
            found.append((prefix + route.path, route))
    return found


def _route_paths(routes: list, prefix: str = "") -> list[str]:
    """Every route's path as declared (converters included), through included routers."""
    found = []
    for route in routes:
        nested = getattr(route, "original_router", None)
        if nested is not None:
            found += _route_paths(nested.routes, prefix + route.include_context.prefix)
        elif hasattr(route, "path"):
            found.append(prefix + route.path)
    return found


def test_every_template_route_is_served_and_nothing_else(template: Template) -> None:
    assert template.functions, "the template declares no function"
    for name in template.functions:
        declared = {(r.method, r.path) for r in template.routes if r.function == name}
        assert declared, f"{name} has no HttpApi route"
        assert app_routes(template, name) == declared, name


def test_every_route_has_a_replayable_event(template: Template) -> None:
    events = [json.loads(p.read_text()) for p in EVENTS.rglob("*.json")]
    covered = {e["routeKey"] for e in events}
    for route in template.routes:
        assert f"{route.method} {route.path}" in covered, f"no event for {route}"
    for event in events:
        assert event["version"] == "2.0"
        assert template.route_for(event["requestContext"]["http"]["method"], event["rawPath"])


def _resources(kind: str) -> dict[str, dict]:
    with open(TEMPLATE) as handle:
        document = yaml.load(handle, Loader=_CfnLoader)
    return {k: v for k, v in document["Resources"].items() if v["Type"] == kind}


def test_functions_run_python312_on_arm64_with_the_common_layer() -> None:
    with open(TEMPLATE) as handle:
        document = yaml.load(handle, Loader=_CfnLoader)
    defaults = document["Globals"]["Function"]
    for name, function in _resources("AWS::Serverless::Function").items():
        props = {**defaults, **function["Properties"]}
        assert props["Runtime"] == "python3.12", name
        assert props["Architectures"] == ["arm64"], name
        assert props.get("Layers"), name


def test_data_bucket_is_private_encrypted_and_versioned() -> None:
    for name, bucket in _resources("AWS::S3::Bucket").items():
        props = bucket["Properties"]
        block = props["PublicAccessBlockConfiguration"]
        assert all(
            block[k]
            for k in (
                "BlockPublicAcls",
                "BlockPublicPolicy",
                "IgnorePublicAcls",
                "RestrictPublicBuckets",
            )
        ), name
        assert props["BucketEncryption"]["ServerSideEncryptionConfiguration"], name
        assert props["VersioningConfiguration"]["Status"] == "Enabled", name


# The data each function reads (GetObject), under any data URI prefix of the bucket.
READS = {
    "ReferenceFunction": {"current.json", "releases/*"},
    "ExpressionFunction": {"current.json", "releases/*"},
    "XqtlFunction": {"current.json", "releases/*"},
    "GwasFunction": {"gwas/*"},
    "RnagetFunction": {"current.json", "releases/*", "rnaget/*"},
    "CatalogFunction": {"current.json", "releases/*", "gwas/*", "rnaget/*"},
    "PortalFunction": {"portal/*"},  # the site's files (omicsgate.web.static)
}


def _s3_statements(function: dict) -> list[dict]:
    return [s for s in _statements(function) if "s3:" in json.dumps(s["Action"])]


def test_functions_may_only_read_the_data_they_serve() -> None:
    """Each function gets what it serves and lists names; writes: RNAget's ticket files
    under rnaget/tickets/, TRS's files under trs/files/ (tests/test_deploy.py checks
    every object the code reads and writes against the deployed roles)."""
    functions = _resources("AWS::Serverless::Function")
    check_trs_files_policy(functions.pop("TrsFunction"))
    assert set(functions) == set(READS)
    text = json.dumps([f["Properties"]["Policies"] for f in functions.values()])
    for managed in ("S3ReadPolicy", "S3CrudPolicy", "S3WritePolicy", "S3FullAccessPolicy"):
        assert managed not in text, managed
    for name, function in functions.items():
        statements = {s["Sid"]: s for s in _s3_statements(function)}
        reads = statements.pop(next(sid for sid in statements if sid.startswith("Read")))
        assert reads["Action"] == "s3:GetObject", name
        prefixes = set()
        for resource in reads["Resource"]:
            template, _ = resource["Sub"]
            assert template.startswith("arn:${AWS::Partition}:s3:::${Bucket}/*"), template
            prefixes.add(template.removeprefix("arn:${AWS::Partition}:s3:::${Bucket}/*"))
        assert prefixes == READS[name], name
        listing = statements.pop("ListDataBucket")
        assert listing["Action"] == "s3:ListBucket", name
        assert listing["Resource"]["Sub"][0] == "arn:${AWS::Partition}:s3:::${Bucket}", name
        if name == "RnagetFunction":
            writes = statements.pop("WriteTicketFiles")
            assert sorted(writes["Action"]) == ["s3:PutObject", "s3:PutObjectTagging"]
            resource = json.dumps(writes["Resource"])
            assert '"arn:${AWS::Partition}:s3:::${Bucket}/*rnaget/tickets/*"' in resource
        assert not statements, (name, list(statements))


def check_trs_files_policy(trs: dict) -> None:
    """TrsFunction reads and writes its files under trs/files/ and nothing else in S3."""
    (statement,) = [s for s in _statements(trs) if "s3:" in json.dumps(s["Action"])]
    assert sorted(statement["Action"]) == ["s3:GetObject", "s3:PutObject"]
    resource = json.dumps(statement["Resource"])
    assert '"arn:${AWS::Partition}:s3:::${Bucket}/*trs/files/*"' in resource, resource
    assert "S3" not in json.dumps(trs["Properties"]["Policies"]).replace('"s3:', "")


def test_rnaget_ticket_files_expire_after_a_day() -> None:
    """Ticket files are tagged by omicsgate.rnaget.tickets; the bucket deletes them."""
    from omicsgate.rnaget.tickets import LIFECYCLE_TAG

    key, value = LIFECYCLE_TAG.split("=")
    (bucket,) = _resources("AWS::S3::Bucket").values()
    rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    (rule,) = [r for r in rules if r["Id"] == "expire-rnaget-tickets"]
    assert rule["TagFilters"] == [{"Key": key, "Value": value}]
    assert rule["ExpirationInDays"] == 1 and rule["Status"] == "Enabled"


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: run the tests with `make test`")
    return found


def test_sam_validate_lint_passes() -> None:
    env = {**os.environ, "SAM_CLI_TELEMETRY": "0", "AWS_DEFAULT_REGION": "us-east-1"}
    result = subprocess.run(
        [_tool("sam"), "validate", "--lint", "--template-file", str(TEMPLATE)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_passes() -> None:
    result = subprocess.run(
        [_tool("cfn-lint"), str(TEMPLATE)], capture_output=True, text=True, cwd=ROOT, timeout=300
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_layer_build_ships_the_package() -> None:
    makefile = (ROOT / "layers" / "common" / "Makefile").read_text()
    assert "build-CommonLayer" in makefile
    assert Path(ROOT / "layers" / "common" / "python" / "omicsgate" / "py.typed").exists()


def test_rnaget_function_ships_h5py_as_pinned_for_development() -> None:
    """RnagetFunction builds with its Makefile: h5py from functions/rnaget/requirements.txt
    without dependencies (numpy is the layer's), at the version the tests run."""
    from importlib.metadata import version

    requirements = (ROOT / "functions" / "rnaget" / "requirements.txt").read_text()
    pins = [line for line in requirements.splitlines() if line and not line.startswith("#")]
    assert pins == [f"h5py=={version('h5py')}"]
    assert f'"{pins[0]}"' in (ROOT / "pyproject.toml").read_text()
    makefile = (ROOT / "functions" / "rnaget" / "Makefile").read_text()
    assert "build-RnagetFunction:" in makefile and "--no-deps" in makefile
    function = _resources("AWS::Serverless::Function")["RnagetFunction"]
    assert function["Metadata"]["BuildMethod"] == "makefile"


def _statements(function: dict) -> list[dict]:
    found = []
    for policy in function["Properties"].get("Policies", []):
        if isinstance(policy, dict) and "Statement" in policy:
            found.extend(policy["Statement"])
    return found


def test_functions_use_only_the_table_actions_they_need() -> None:
    """GetItem (users, zero-cost allowance reads) and UpdateItem (atomic charge), on
    the users table only; UpdateItem only on allowance counters, never on user records."""
    functions = _resources("AWS::Serverless::Function")
    for name, function in functions.items():
        actions: dict[str, dict] = {}
        for statement in _statements(function):
            for action in (
                [statement["Action"]]
                if isinstance(statement["Action"], str)
                else statement["Action"]
            ):
                if action.startswith("dynamodb:"):
                    actions[action] = statement
        if name == "TrsFunction":
            check_trs_table_actions(function)
            continue
        if name == "CatalogFunction":
            check_catalog_table_actions(function)
            continue
        if name == "PortalFunction":  # static files: no caller, no allowance, no table
            assert not actions, actions
            continue
        assert set(actions) == {"dynamodb:GetItem", "dynamodb:UpdateItem"}, name
        for statement in actions.values():
            assert statement["Resource"] == {"GetAtt": "UsersTable.Arn"}, name
        assert "allowance#*" in json.dumps(actions["dynamodb:UpdateItem"]["Condition"]), name


def check_trs_table_actions(function: dict) -> None:
    """The users table as every function; on its own table, what the registry needs:
    GetItem, conditional PutItem and DeleteItem, Scan (listing). Never another table."""
    assert _table_actions(function) == {
        json.dumps({"GetAtt": "UsersTable.Arn"}): {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        json.dumps({"GetAtt": "TrsTable.Arn"}): {
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:DeleteItem",
            "dynamodb:Scan",
        },
    }


def _table_actions(function: dict) -> dict[str, set[str]]:
    """DynamoDB actions by the table (its JSON) they are allowed on."""
    by_table: dict[str, set[str]] = {}
    for statement in _statements(function):
        actions = (
            [statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"]
        )
        for action in actions:
            if action.startswith("dynamodb:"):
                by_table.setdefault(json.dumps(statement["Resource"]), set()).add(action)
    return by_table


def check_catalog_table_actions(function: dict) -> None:
    """The users table as every function; the TRS table read only (tools are listed)."""
    assert _table_actions(function) == {
        json.dumps({"GetAtt": "UsersTable.Arn"}): {"dynamodb:GetItem", "dynamodb:UpdateItem"},
        json.dumps({"GetAtt": "TrsTable.Arn"}): {"dynamodb:GetItem", "dynamodb:Scan"},
    }


def test_users_table_is_encrypted_with_expiring_counters() -> None:
    table = _resources("AWS::DynamoDB::Table")["UsersTable"]
    props = table["Properties"]
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expires", "Enabled": True}
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]


def test_trs_table_is_encrypted_and_recoverable() -> None:
    tables = _resources("AWS::DynamoDB::Table")
    assert set(tables) == {"UsersTable", "TrsTable"}
    props = tables["TrsTable"]["Properties"]
    assert props["SSESpecification"]["SSEEnabled"] is True
    assert props["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True
    assert props["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    function = _resources("AWS::Serverless::Function")["TrsFunction"]
    env = function["Properties"]["Environment"]["Variables"]
    assert env["OMICSGATE_TRS_TABLE"] == {"Ref": "TrsTable"}


def test_trs_function_ships_the_validators_pinned_for_development() -> None:
    """TrsFunction builds with its Makefile: the validators of
    functions/trs/requirements.txt, at the versions the tests run and the dev extras pin."""
    from importlib.metadata import version

    requirements = (ROOT / "functions" / "trs" / "requirements.txt").read_text()
    pins = [line for line in requirements.splitlines() if line and not line.startswith("#")]
    names = [pin.split("==")[0] for pin in pins]
    assert names == ["cwltool", "cwl-utils", "miniwdl", "gxformat2"]
    pyproject = (ROOT / "pyproject.toml").read_text()
    for pin, name in zip(pins, names, strict=True):
        assert pin == f"{name}=={version(name)}"
        assert f'"{pin}"' in pyproject, pin
    makefile = (ROOT / "functions" / "trs" / "Makefile").read_text()
    assert "build-TrsFunction:" in makefile
    function = _resources("AWS::Serverless::Function")["TrsFunction"]
    assert function["Metadata"]["BuildMethod"] == "makefile"


# ---------------------------------------------------------------- checkov
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
OFFLINE_JSON = ("--skip-download", "--output", "json")


def checkov(template: Path) -> dict:
    """checkov's JSON report on one template, offline (no Prisma Cloud download)."""
    if not CHECKOV.exists():
        pytest.fail(f"{CHECKOV} is missing: `make test` creates it")
    result = subprocess.run(
        [str(CHECKOV), "-f", str(template), "--framework", "cloudformation", *OFFLINE_JSON],
        capture_output=True,
        text=True,
        cwd=template.parent,
        timeout=300,
    )
    assert result.returncode in (0, 1), result.stderr[-2000:]
    return json.loads(result.stdout)


def test_checkov_passes_and_every_skip_says_why() -> None:
    report = checkov(TEMPLATE)
    summary, results = report["summary"], report["results"]
    failed = [(c["check_id"], c["resource"]) for c in results["failed_checks"]]
    assert not failed and summary["failed"] == 0, failed
    assert summary["parsing_errors"] == 0 and summary["passed"] > 0, summary
    # Every resource checkov has checks for was scanned: the functions, log groups,
    # tables, bucket and API, the alarms' topic included.
    scanned = {c["resource"].split(".", 1)[1] for c in results["passed_checks"]}
    scanned |= {c["resource"].split(".", 1)[1] for c in results["skipped_checks"]}
    for kind in (
        "AWS::Serverless::Function",
        "AWS::Logs::LogGroup",
        "AWS::DynamoDB::Table",
        "AWS::S3::Bucket",
        "AWS::Serverless::HttpApi",
    ):
        assert set(_resources(kind)) <= scanned, kind
    # A skip is a decision written beside the resource: its reason is in the template.
    for check in results["skipped_checks"]:
        reason = check["check_result"].get("suppress_comment", "")
        assert len(reason.split()) >= 5, (check["check_id"], check["resource"], reason)
        assert reason.split()[0] in TEMPLATE.read_text(), reason


def test_checkov_fails_a_public_bucket(tmp_path: Path) -> None:
    """The check above can fail: the same template without the bucket's public access
    block (and encryption) is refused."""
    text = TEMPLATE.read_text()
    start = text.index("      BucketEncryption:")
    end = text.index("      OwnershipControls:")
    broken = tmp_path / "template.yaml"
    broken.write_text(text[:start] + text[end:])
    failed = {c["check_id"] for c in checkov(broken)["results"]["failed_checks"]}
    assert {"CKV_AWS_53", "CKV_AWS_54", "CKV_AWS_55", "CKV_AWS_56"} <= failed


# ---------------------------------------------------------------- observability
def _document() -> dict:
    with open(TEMPLATE) as handle:
        return yaml.load(handle, Loader=_CfnLoader)


def _notifies_the_topic(alarm: dict) -> bool:
    topic = {"If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    props = alarm["Properties"]
    return props["AlarmActions"] == topic and props["OKActions"] == topic


def test_every_function_has_throttle_and_near_timeout_alarms() -> None:
    document = _document()
    timeout = document["Globals"]["Function"]["Timeout"]
    alarms = _resources("AWS::CloudWatch::Alarm")
    by_metric: dict[tuple[str, str], dict] = {}
    for alarm in alarms.values():
        props = alarm["Properties"]
        if props.get("Namespace") == "AWS/Lambda":
            ((dimension,),) = [props["Dimensions"]]
            assert dimension["Name"] == "FunctionName"
            key = (props["MetricName"], dimension["Value"]["Ref"])
            assert key not in by_metric, key
            by_metric[key] = props
    for name, function in _resources("AWS::Serverless::Function").items():
        throttles = by_metric.pop(("Throttles", name))
        assert throttles["Statistic"] == "Sum" and throttles["Threshold"] == 0, name
        assert throttles["ComparisonOperator"] == "GreaterThanThreshold", name
        duration = by_metric.pop(("Duration", name))
        limit = function["Properties"].get("Timeout", timeout) * 1000
        assert duration["Statistic"] == "Maximum", name
        assert duration["Threshold"] == 0.9 * limit, (name, duration["Threshold"], limit)
    assert not by_metric, f"alarms on functions the template lacks: {list(by_metric)}"
    for name, alarm in alarms.items():
        assert _notifies_the_topic(alarm), name
        assert alarm["Properties"]["TreatMissingData"] == "notBreaching", name
    parameter = document["Parameters"]["AlarmTopicArn"]
    assert re.fullmatch(parameter["AllowedPattern"], "arn:aws:sns:eu-west-1:123456789012:ops")
    assert not re.fullmatch(parameter["AllowedPattern"], "ops")


def test_api_5xx_rate_and_allowance_table_errors_alarm() -> None:
    alarms = _resources("AWS::CloudWatch::Alarm")
    rate = alarms["ApiServerErrorRateAlarm"]["Properties"]
    metrics = {m["Id"]: m for m in rate["Metrics"]}
    for metric_id, metric_name in (("errors", "5xx"), ("requests", "Count")):
        stat = metrics[metric_id]["MetricStat"]
        assert stat["Metric"]["Namespace"] == "AWS/ApiGateway"
        assert stat["Metric"]["MetricName"] == metric_name
        assert stat["Metric"]["Dimensions"] == [{"Name": "ApiId", "Value": {"Ref": "HttpApi"}}]
    assert metrics["rate"]["Expression"] == "IF(requests >= 20, 100 * errors / requests, 0)"
    assert [m["Id"] for m in rate["Metrics"] if m["ReturnData"]] == ["rate"]
    assert rate["Threshold"] == {"Ref": "ApiServerErrorRatePercent"}

    # The allowance table is the one the functions charge (OMICSGATE_USERS_TABLE).
    env = _document()["Globals"]["Function"]["Environment"]["Variables"]
    assert env["OMICSGATE_USERS_TABLE"] == {"Ref": "UsersTable"}
    table = alarms["AllowanceTableErrorsAlarm"]["Properties"]
    watched = {
        (
            m["MetricStat"]["Metric"]["MetricName"],
            json.dumps(m["MetricStat"]["Metric"]["Dimensions"]),
        )
        for m in table["Metrics"]
        if "MetricStat" in m
    }
    assert watched == {
        (
            metric,
            json.dumps(
                [
                    {"Name": "TableName", "Value": {"Ref": "UsersTable"}},
                    {"Name": "Operation", "Value": operation},
                ]
            ),
        )
        for metric in ("SystemErrors", "ThrottledRequests")
        for operation in ("GetItem", "UpdateItem")  # what omicsgate.auth calls on it
    }
    assert [m["Expression"] for m in table["Metrics"] if m["ReturnData"]] == ["SUM(METRICS())"]
    assert table["Threshold"] == 0


def test_every_function_and_the_api_log_to_a_group_with_retention() -> None:
    groups = _resources("AWS::Logs::LogGroup")
    used = []
    for function in _resources("AWS::Serverless::Function").values():
        used.append(function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"])
    api = _resources("AWS::Serverless::HttpApi")["HttpApi"]["Properties"]
    used.append(api["AccessLogSettings"]["DestinationArn"]["GetAtt"].split(".")[0])
    assert sorted(used) == sorted(groups), "a log group per function and one for the API"
    for name in used:
        retention = groups[name]["Properties"]["RetentionInDays"]
        assert retention == {"Ref": "LogRetentionInDays"}, name


def test_every_table_has_point_in_time_recovery() -> None:
    for name, table in _resources("AWS::DynamoDB::Table").items():
        recovery = table["Properties"]["PointInTimeRecoverySpecification"]
        assert recovery["PointInTimeRecoveryEnabled"] is True, name


def test_the_data_bucket_refuses_requests_without_tls() -> None:
    (policy,) = _resources("AWS::S3::BucketPolicy").values()
    props = policy["Properties"]
    assert props["Bucket"] == {"Ref": "DataBucket"}
    statements = {s["Sid"]: s for s in props["PolicyDocument"]["Statement"]}
    insecure = statements["DenyInsecureTransport"]
    assert insecure["Effect"] == "Deny" and insecure["Principal"] == "*"
    assert insecure["Action"] == "s3:*"
    assert insecure["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert json.dumps(insecure["Resource"]) == json.dumps(
        [{"GetAtt": "DataBucket.Arn"}, {"Sub": "${DataBucket.Arn}/*"}]
    )


# ---------------------------------------------------------------- CORS
# Response headers a browser may read without being told (CORS-safelisted), and those
# API Gateway or CORS itself sets.
SAFELISTED = {
    "cache-control",
    "content-language",
    "content-length",
    "content-type",
    "expires",
    "last-modified",
    "pragma",
}
# Headers of the standards the functions set, besides their own X- headers.
STANDARD_RESPONSE_HEADERS = (
    "Retry-After",
    "Deprecation",
    "Sunset",
    "Link",
    "Content-Disposition",
    "WWW-Authenticate",
    "next_page",
    "last_page",
    "self_link",
    "current_offset",
    "current_limit",
)

# X- headers the code reads from requests (API Gateway's), never sets.
READ_NOT_SET = {"x-forwarded-proto", "x-forwarded-for"}


def headers_the_code_sets() -> set[str]:
    """Every X- header named in the serving code, and the standard ones it names."""
    served = [ROOT / "functions", ROOT / "layers" / "common" / "python" / "omicsgate"]
    skipped = ("ingest", "localapi")
    names = "|".join(STANDARD_RESPONSE_HEADERS)
    pattern = re.compile(rf"""["'](X-[A-Za-z0-9-]+|{names})["']""", re.IGNORECASE)
    found = set()
    for root in served:
        for path in root.rglob("*.py"):
            if any(part in skipped for part in path.relative_to(root).parts):
                continue
            found |= {m.lower() for m in pattern.findall(path.read_text())}
    return found


def test_cors_lets_browsers_call_every_route_and_read_every_header() -> None:
    api = _resources("AWS::Serverless::HttpApi")["HttpApi"]["Properties"]
    cors = api["CorsConfiguration"]
    assert cors["AllowOrigins"] == ["*"] and not cors.get("AllowCredentials")
    # Every method a route uses (OPTIONS: API Gateway answers the preflight itself).
    methods = {route.method for route in load_template(str(TEMPLATE)).routes}
    assert methods | {"OPTIONS"} == set(cors["AllowMethods"])
    # Tokens (Authorization) and JSON bodies (Content-Type) need a preflight.
    assert {"authorization", "content-type"} <= {h.lower() for h in cors["AllowHeaders"]}
    exposed = {h.lower() for h in cors["ExposeHeaders"]}
    assert not exposed & SAFELISTED
    needed = headers_the_code_sets() - READ_NOT_SET
    # The code's own X- headers (the scan itself is checked: these are known to be set).
    assert {"x-allowance-remaining", "x-request-id", "x-next-cursor", "next_page"} <= needed
    assert needed <= exposed, f"set by the functions, unreadable in a browser: {needed - exposed}"
