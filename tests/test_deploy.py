"""The template deploys: SAM transform offline, then a stack in moto's CloudFormation.

aws-sam-translator turns infra/template.yaml into plain CloudFormation in-process (what
`sam deploy` asks CloudFormation's Serverless transform to do), and the result is created
as a stack in moto (in-process `mock_aws`: boto3 only, no TileDB, no Docker). A template
that cannot deploy (an unknown resource in `Ref`/`!GetAtt`, an attribute a resource does
not have, a parameter or condition that does not resolve) fails here.

moto's CloudFormation silently skips resource types it does not model; the template uses
six of them: the HTTP API and its stage (API Gateway v2), the Cognito user pool and
client, the bucket policy and the CloudWatch alarms. They get stand-ins below that create
the real object in moto's backend for that service (the API imported from the OpenAPI
body SAM generates), so references to and from them are resolved and checked too. The
bucket's versioning, public access block and ownership, which moto's template support
drops, are applied through the S3 API. What moto drops and no stand-in restores (function
architectures and layers, table encryption and TTL) is checked on the transformed
template or in test_template.py.

Roles are checked against what the code calls: every stored event is replayed through its
function's handler against moto (a release on S3, the users and TRS tables in DynamoDB)
while every botocore call and presigned URL is recorded, and each is then evaluated
against the deployed role's statements as IAM would (action, ARN, dynamodb:LeadingKeys).
"""

from __future__ import annotations

import ast
import copy
import io
import json
import os
import re
import subprocess
import sys
import tomllib
import urllib.parse
import urllib.request
import uuid
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.apigatewayv2.models import apigatewayv2_backends
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.cognitoidp.models import cognitoidp_backends
from moto.core.common_models import CloudFormationModel
from moto.s3.models import FakeBucket, s3_backends
from samtranslator.translator.transform import transform
from samtranslator.yaml_helper import yaml_parse

from tests.conftest import ROOT, TEMPLATE

pytestmark = pytest.mark.template

REGION = "us-east-1"
CODE_BUCKET = "omicsgate-sam-artifacts"
STACK = "omicsgate-dev"


# ------------------------------------------------------------------ stand-ins for moto
class _StandIn:
    """A resource type moto's CloudFormation does not model, created in moto's backend.

    Each stand-in also subclasses CloudFormationModel directly: moto finds the types it
    models with CloudFormationModel.__subclasses__(), which lists direct subclasses only.
    """

    TYPE = ""
    ATTRIBUTES: tuple[str, ...] = ()

    def __init__(self, physical_id: str, attributes: dict[str, str]) -> None:
        self.physical_resource_id = physical_id
        self.attributes = attributes

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name not in self.attributes:
            raise UnformattedGetAttTemplateException()
        return self.attributes[attribute_name]

    def is_created(self) -> bool:
        return True


class _UserPool(_StandIn, CloudFormationModel):
    ATTRIBUTES = ("Arn", "ProviderName", "ProviderURL", "UserPoolId")

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Cognito::UserPool"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> _UserPool:
        props = cloudformation_json["Properties"]
        pool = cognitoidp_backends[account_id][region_name].create_user_pool(
            props.get("UserPoolName", resource_name), props
        )
        provider = f"cognito-idp.{region_name}.amazonaws.com/{pool.id}"
        return cls(
            pool.id,
            {
                "Arn": pool.arn,
                "ProviderName": provider,
                "ProviderURL": provider,
                "UserPoolId": pool.id,
            },
        )


class _UserPoolClient(_StandIn, CloudFormationModel):
    ATTRIBUTES = ("ClientId", "Name")

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Cognito::UserPoolClient"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> _UserPoolClient:
        props = cloudformation_json["Properties"]
        client = cognitoidp_backends[account_id][region_name].create_user_pool_client(
            props["UserPoolId"], bool(props.get("GenerateSecret")), props
        )
        return cls(client.id, {"ClientId": client.id, "Name": props.get("ClientName", "")})


class _BucketPolicy(_StandIn, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> _BucketPolicy:
        props = cloudformation_json["Properties"]
        s3_backends[account_id]["aws"].put_bucket_policy(
            props["Bucket"], json.dumps(props["PolicyDocument"]).encode()
        )
        return cls(props["Bucket"], {})


class _Bucket(_StandIn, CloudFormationModel):
    """moto's own bucket, plus the settings its template support drops, set through the
    S3 API (botocore validates their shapes): versioning, public access block, ownership."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::Bucket"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> FakeBucket:
        bucket = FakeBucket.create_from_cloudformation_json(
            resource_name, cloudformation_json, account_id, region_name, **kwargs
        )
        props = cloudformation_json["Properties"]
        s3 = boto3.client("s3", region_name=region_name)
        if "VersioningConfiguration" in props:
            s3.put_bucket_versioning(
                Bucket=bucket.name, VersioningConfiguration=props["VersioningConfiguration"]
            )
        if "PublicAccessBlockConfiguration" in props:
            s3.put_public_access_block(
                Bucket=bucket.name,
                PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"],
            )
        if "OwnershipControls" in props:
            s3.put_bucket_ownership_controls(
                Bucket=bucket.name, OwnershipControls=props["OwnershipControls"]
            )
        return bucket


class _Version(_StandIn, CloudFormationModel):
    """A published function version (moto's own has no attributes for !GetAtt)."""

    ATTRIBUTES = ("FunctionArn", "Version")

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Version"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> _Version:
        props = cloudformation_json["Properties"]
        lam = boto3.client("lambda", region_name=region_name)
        version = lam.publish_version(FunctionName=props["FunctionName"])
        arn = version["FunctionArn"]
        return cls(arn, {"FunctionArn": arn, "Version": version["Version"]})


class _Alias(_StandIn, CloudFormationModel):
    """A function alias (AutoPublishAlias), created through the Lambda API."""

    ATTRIBUTES = ("AliasArn",)

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::Lambda::Alias"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> _Alias:
        props = cloudformation_json["Properties"]
        alias = boto3.client("lambda", region_name=region_name).create_alias(
            FunctionName=props["FunctionName"],
            Name=props["Name"],
            FunctionVersion=str(props["FunctionVersion"]),
        )
        return cls(alias["AliasArn"], {"AliasArn": alias["AliasArn"]})


class _HttpApi(_StandIn, CloudFormationModel):
    ATTRIBUTES = ("ApiEndpoint", "ApiId")

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGatewayV2::Api"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> _HttpApi:
        props = cloudformation_json["Properties"]
        backend = apigatewayv2_backends[account_id][region_name]
        api = backend.create_api(
            api_key_selection_expression="",
            cors_configuration="",
            description=props["Body"]["info"].get("description", ""),
            disable_schema_validation="",
            disable_execute_api_endpoint="",
            name=props["Body"]["info"]["title"],
            protocol_type="HTTP",
            route_selection_expression="",
            tags={},
            version="",
        )
        # The routes and their Lambda integrations, as API Gateway imports them.
        backend.reimport_api(
            api.api_id, yaml.safe_dump(props["Body"]), bool(props.get("FailOnWarnings"))
        )
        return cls(api.api_id, {"ApiId": api.api_id, "ApiEndpoint": api.api_endpoint})


class _HttpApiStage(_StandIn, CloudFormationModel):
    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::ApiGatewayV2::Stage"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> _HttpApiStage:
        props = cloudformation_json["Properties"]
        config = {"stageName": props["StageName"], "autoDeploy": props.get("AutoDeploy")}
        apigatewayv2_backends[account_id][region_name].create_stage(props["ApiId"], config)
        return cls(props["StageName"], {})


class _Alarm(_StandIn, CloudFormationModel):
    """A CloudWatch alarm, created through the CloudWatch API (botocore checks its shape:
    metric math, dimensions, actions) with the name CloudFormation would generate."""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> _Alarm:
        props = {k: v for k, v in cloudformation_json["Properties"].items() if v is not None}
        name = props.pop("AlarmName", f"{STACK}-{resource_name}")
        boto3.client("cloudwatch", region_name=region_name).put_metric_alarm(
            AlarmName=name, **props
        )
        return cls(name, {})


def _register_stand_ins() -> None:
    # moto builds its type map once from CloudFormationModel's subclasses.
    for cache in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cache.cache_clear()
    types = parsing.get_model_map()
    stand_ins = (
        *(_UserPool, _UserPoolClient, _Bucket, _BucketPolicy),
        *(_Version, _Alias, _HttpApi, _HttpApiStage, _Alarm),
    )
    for stand_in in stand_ins:
        assert types[stand_in.cloudformation_type()] is stand_in


# ------------------------------------------------------------------ transform and deploy
class _NoManagedPolicies:
    """Policy loader for the translator: the template names no managed policy, no IAM call."""

    def load(self) -> dict[str, str]:
        return {}


def sam_template() -> dict[str, Any]:
    return yaml_parse(TEMPLATE.read_text())


def artifacts(document: dict[str, Any]) -> dict[str, str]:
    """Point CodeUri/ContentUri at S3 objects, as `sam package` would; key per resource."""
    keys = {}
    for name, resource in document["Resources"].items():
        prop = {
            "AWS::Serverless::Function": "CodeUri",
            "AWS::Serverless::LayerVersion": "ContentUri",
        }.get(resource["Type"])
        if prop:
            keys[name] = f"{name}.zip"
            resource["Properties"][prop] = f"s3://{CODE_BUCKET}/{name}.zip"
    return keys


def to_cloudformation(document: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    values = {"AWS::Region": REGION, "AWS::Partition": "aws", **parameters}
    return transform(document, values, _NoManagedPolicies())


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("placeholder.py", "")
    return buffer.getvalue()


class DeployFailed(AssertionError):
    pass


def deploy(
    document: dict[str, Any], parameters: dict[str, str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Transform, upload placeholder code, create the stack: its description and template."""
    keys = artifacts(document)
    cloudformation = to_cloudformation(document, parameters)
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket=CODE_BUCKET)
    for key in keys.values():
        s3.put_object(Bucket=CODE_BUCKET, Key=key, Body=_zip())
    client = boto3.client("cloudformation", region_name=REGION)
    try:
        client.create_stack(
            StackName=STACK,
            TemplateBody=json.dumps(cloudformation),
            Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
    except ClientError as error:
        raise DeployFailed(str(error)) from error
    stack = client.describe_stacks(StackName=STACK)["Stacks"][0]
    if stack["StackStatus"] != "CREATE_COMPLETE":
        raise DeployFailed(f"{stack['StackStatus']}: {stack.get('StackStatusReason')}")
    return stack, cloudformation


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        _register_stand_ins()
        yield


def _physical_ids() -> dict[str, tuple[str, str]]:
    client = boto3.client("cloudformation", region_name=REGION)
    summaries = client.list_stack_resources(StackName=STACK)["StackResourceSummaries"]
    return {s["LogicalResourceId"]: (s["ResourceType"], s["PhysicalResourceId"]) for s in summaries}


def _policy_statements(role: str) -> list[dict[str, Any]]:
    iam = boto3.client("iam", region_name=REGION)
    statements = []
    for name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        if isinstance(document, str):  # moto keeps a template's policy as the dict's repr
            document = ast.literal_eval(document)
        statements.extend(document["Statement"])
    return statements


# ------------------------------------------------------------------ tests
@pytest.mark.usefixtures("aws")
def test_template_deploys_with_its_resources() -> None:
    document = sam_template()
    functions = [
        name
        for name, r in document["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    ]
    stack, cloudformation = deploy(document, {"Stage": "dev"})
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    resources = _physical_ids()

    # The layer, and the functions: python3.12 with the stack's bucket, table and issuer.
    # moto drops Architectures and Layers from functions it creates from a template, so
    # those are checked on the CloudFormation the transform produced.
    lam = boto3.client("lambda", region_name=REGION)
    (layer,) = lam.list_layers()["Layers"]
    assert layer["LatestMatchingVersion"]["CompatibleRuntimes"] == ["python3.12"]
    (layer_id,) = [k for k, (kind, _) in resources.items() if kind == "AWS::Lambda::LayerVersion"]
    bucket = outputs["DataBucketName"]
    assert resources["DataBucket"][1] == bucket
    for name in functions:
        properties = cloudformation["Resources"][name]["Properties"]
        assert properties["Architectures"] == ["arm64"], name
        assert properties["Layers"] == [{"Ref": layer_id}], name
        config = lam.get_function_configuration(FunctionName=resources[name][1])
        assert config["Runtime"] == "python3.12", name
        env = config["Environment"]["Variables"]
        assert env["OMICSGATE_DATA_URI"] == f"s3://{bucket}/omicsgate", name
        assert env["OMICSGATE_USERS_TABLE"] == outputs["UsersTableName"], name
        assert env["OMICSGATE_JWT_ISSUER"] == outputs["JwtIssuer"], name
        assert env["OMICSGATE_JWT_AUDIENCE"] == outputs["UserPoolClientId"], name
        assert outputs[f"{name}Name"] == config["FunctionName"], name

        # Its role: read-only on the data bucket (RNAget also writes its ticket files),
        # GetItem/UpdateItem on the users table.
        role = config["Role"].rsplit("/", 1)[1]
        statements = _policy_statements(role)
        actions = {action for s in statements for action in _actions(s)}
        writes = [s for s in statements if any(_writes_s3(a) for a in _actions(s))]
        if name == "TrsFunction":
            check_trs_role(statements, bucket, outputs["TrsTableName"])
            continue
        assert {"s3:GetObject", "s3:ListBucket"} <= actions, name
        if name == "RnagetFunction":  # RNAget ticket files (omicsgate.rnaget.tickets), only
            assert len(writes) == 1, writes
            assert writes[0]["Resource"] == f"arn:aws:s3:::{bucket}/*rnaget/tickets/*", writes
            assert not any(a.startswith("s3:Delete") for a in actions), name
        else:
            assert not writes, name
        if name == "CatalogFunction":  # reads tools from the TRS table, writes nothing there
            assert env["OMICSGATE_TRS_TABLE"] == outputs["TrsTableName"]
            tables = _tables(statements)
            assert tables.pop(outputs["TrsTableName"]) == {"dynamodb:GetItem", "dynamodb:Scan"}
            assert list(tables.values()) == [{"dynamodb:GetItem", "dynamodb:UpdateItem"}]
            continue
        if name == "PortalFunction":  # the site's files only; no table at all
            assert not [a for a in actions if a.startswith("dynamodb:")], actions
            assert {r for s in statements for r in _resources(s)} == {
                f"arn:aws:s3:::{bucket}/*portal/*",
                f"arn:aws:s3:::{bucket}",
            }
            continue
        assert {a for a in actions if a.startswith("dynamodb:")} == {
            "dynamodb:GetItem",
            "dynamodb:UpdateItem",
        }, name
        assert f"arn:aws:s3:::{bucket}/*" in json.dumps(statements), name

    # The data bucket: encrypted, versioned, no public access, TLS only.
    s3 = boto3.client("s3", region_name=REGION)
    encryption = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert encryption["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()) and len(block) == 4, block
    policy = json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    assert {s["Sid"] for s in policy["Statement"]} == {"DenyInsecureTransport", "DenyOutdatedTls"}

    # The users table (moto drops SSE and TTL from templates: test_template checks them).
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    table = dynamodb.describe_table(TableName=outputs["UsersTableName"])["Table"]
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"

    # Identity: the functions trust the stack's user pool.
    pool_id = outputs["UserPoolId"]
    assert outputs["JwtIssuer"] == f"https://cognito-idp.{REGION}.amazonaws.com/{pool_id}"

    # The HTTP API: every template route, integrated with its function, at the ApiUrl.
    api_id = resources["HttpApi"][1]
    assert outputs["ApiUrl"] == f"https://{api_id}.execute-api.{REGION}.amazonaws.com"
    apis = boto3.client("apigatewayv2", region_name=REGION)
    routes = {r["RouteKey"]: r for r in apis.get_routes(ApiId=api_id)["Items"]}
    declared = {
        f"{event['Properties']['Method']} {event['Properties']['Path']}": name
        for name in functions
        for event in document["Resources"][name]["Properties"]["Events"].values()
    }
    assert set(routes) == set(declared)
    integrations = {i["IntegrationId"]: i for i in apis.get_integrations(ApiId=api_id)["Items"]}
    for key, route in routes.items():
        target = integrations[route["Target"].split("/", 1)[1]]["IntegrationUri"]
        # The function itself, or one of its aliases (AutoPublishAlias).
        assert re.search(rf":function:{resources[declared[key]][1]}(:\w+)?/", target), key
    assert [s["StageName"] for s in apis.get_stages(ApiId=api_id)["Items"]] == ["$default"]


@pytest.mark.usefixtures("aws")
def test_template_deploys_with_an_external_issuer_and_bucket() -> None:
    boto3.client("s3", region_name=REGION).create_bucket(Bucket="existing-omicsgate-data")
    parameters = {
        "Stage": "prod",
        "ExistingDataBucketName": "existing-omicsgate-data",
        "JwtIssuer": "https://login.example.org",
        "JwtAudience": "omicsgate",
    }
    stack, _ = deploy(sam_template(), parameters)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    assert outputs["DataBucketName"] == "existing-omicsgate-data"
    assert outputs["JwtIssuer"] == "https://login.example.org"
    assert "UserPoolId" not in outputs
    resources = _physical_ids()
    assert not {"DataBucket", "DataBucketPolicy", "UserPool", "UserPoolClient"} & set(resources)
    lam = boto3.client("lambda", region_name=REGION)
    env = lam.get_function_configuration(FunctionName=outputs["ReferenceFunctionName"])[
        "Environment"
    ]["Variables"]
    assert env["OMICSGATE_JWKS_URL"] == "https://login.example.org/.well-known/jwks.json"
    assert env["OMICSGATE_JWT_AUDIENCE"] == "omicsgate"


def stage_configs() -> dict[str, dict[str, Any]]:
    with open(ROOT / "samconfig.toml", "rb") as handle:
        config = tomllib.load(handle)
    return {
        env: sections["deploy"]["parameters"]
        for env, sections in config.items()
        if isinstance(sections, dict) and "deploy" in sections
    }


def test_samconfig_has_a_dev_and_a_prod_stage() -> None:
    configs = stage_configs()
    assert {"dev", "prod"} <= set(configs)
    assert len({c["stack_name"] for c in configs.values()}) == len(configs)
    for env, config in configs.items():
        overrides = dict(pair.split("=", 1) for pair in config["parameter_overrides"].split())
        assert overrides["Stage"] == env
        assert config["resolve_s3"] is True
        assert config["confirm_changeset"] is False
        assert config["fail_on_empty_changeset"] is False
        assert set(config["capabilities"].split()) == {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"}


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("env", ["dev", "prod"])
def test_each_stage_deploys_with_its_samconfig_parameters(env: str) -> None:
    config = stage_configs()[env]
    overrides = dict(pair.split("=", 1) for pair in config["parameter_overrides"].split())
    stack, _ = deploy(sam_template(), overrides)
    parameters = {p["ParameterKey"]: p["ParameterValue"] for p in stack["Parameters"]}
    assert {k: parameters[k] for k in overrides} == overrides


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(
    "break_it",
    [
        pytest.param(
            lambda env: env.update(OMICSGATE_USERS_TABLE={"Fn::GetAtt": ["UserTable", "Arn"]}),
            id="getatt-unknown-resource",
        ),
        pytest.param(
            lambda env: env.update(OMICSGATE_USERS_TABLE={"Fn::GetAtt": ["UsersTable", "Nope"]}),
            id="getatt-unknown-attribute",
        ),
    ],
)
def test_a_template_that_cannot_deploy_fails(break_it: Any) -> None:
    document = copy.deepcopy(sam_template())
    break_it(document["Globals"]["Function"]["Environment"]["Variables"])
    with pytest.raises(DeployFailed, match=r"UserTable|Nope"):
        deploy(document, {"Stage": "dev"})


@pytest.mark.usefixtures("aws")
def test_snapstart_deploys_behind_the_live_alias() -> None:
    stack, cloudformation = deploy(sam_template(), {"SnapStart": "PublishedVersions"})
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    resources = cloudformation["Resources"]
    for name in ("ReferenceFunction", "GwasFunction"):
        props = resources[name]["Properties"]
        assert props["SnapStart"]["Fn::If"][:2] == [
            "UseSnapStart",
            {"ApplyOn": "PublishedVersions"},
        ]
        alias = resources[f"{name}Aliaslive"]
        assert alias["Type"] == "AWS::Lambda::Alias"
    kinds = {kind for kind, _ in _physical_ids().values()}
    assert {"AWS::Lambda::Version", "AWS::Lambda::Alias"} <= kinds


def check_trs_role(statements: list[dict[str, Any]], bucket: str, table: str) -> None:
    """TrsFunction: its files (get and put under */trs/files/*, nothing else of the bucket,
    no delete), its table (conditional writes and scans) and the users table as others."""
    s3 = [s for s in statements if any(a.startswith("s3:") for a in _actions(s))]
    assert len(s3) == 1, s3
    assert sorted(_actions(s3[0])) == ["s3:GetObject", "s3:PutObject"], s3
    assert s3[0]["Resource"] == f"arn:aws:s3:::{bucket}/*trs/files/*", s3
    tables = _tables(statements)
    assert tables.pop(table) == {
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:DeleteItem",
        "dynamodb:Scan",
    }
    assert [set(v) for v in tables.values()] == [{"dynamodb:GetItem", "dynamodb:UpdateItem"}]


def _tables(statements: list[dict[str, Any]]) -> dict[str, set[str]]:
    """DynamoDB actions by the name of the table they are allowed on."""
    tables: dict[str, set[str]] = {}
    for statement in statements:
        for action in _actions(statement):
            if action.startswith("dynamodb:"):
                resource = str(statement["Resource"]).rsplit("/", 1)[-1]
                tables.setdefault(resource, set()).add(action)
    return tables


def _actions(statement: dict[str, Any]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def _resources(statement: dict[str, Any]) -> list[str]:
    resource = statement["Resource"]
    return [resource] if isinstance(resource, str) else list(resource)


def _writes_s3(action: str) -> bool:
    return action.startswith(("s3:Put", "s3:Delete"))


@pytest.mark.usefixtures("aws")
def test_alarms_watch_the_deployed_functions_api_and_table_and_notify_the_topic() -> None:
    topic = boto3.client("sns", region_name=REGION).create_topic(Name="ops")["TopicArn"]
    stack, _ = deploy(sam_template(), {"Stage": "dev", "AlarmTopicArn": topic})
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    resources = _physical_ids()
    functions = {
        resources[name][1]: name
        for name, r in sam_template()["Resources"].items()
        if r["Type"] == "AWS::Serverless::Function"
    }
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    alarms = {a["AlarmName"]: a for a in cloudwatch.describe_alarms()["MetricAlarms"]}
    assert set(alarms) == {
        physical for kind, physical in resources.values() if kind == "AWS::CloudWatch::Alarm"
    }
    for alarm in alarms.values():
        assert alarm["AlarmActions"] == [topic] and alarm["OKActions"] == [topic], alarm
    # Throttles and duration of every deployed function, by its real name.
    watched = {
        (a["MetricName"], a["Dimensions"][0]["Value"])
        for a in alarms.values()
        if a.get("Namespace") == "AWS/Lambda"
    }
    assert watched == {(m, f) for f in functions for m in ("Throttles", "Duration")}
    # The 5xx rate of the deployed API, the errors of the deployed users table.
    metric_dimensions = {
        json.dumps(m["MetricStat"]["Metric"]["Dimensions"][0])
        for a in alarms.values()
        for m in a.get("Metrics", [])
        if "MetricStat" in m
    }
    assert metric_dimensions == {
        json.dumps({"Name": "ApiId", "Value": resources["HttpApi"][1]}),
        json.dumps({"Name": "TableName", "Value": outputs["UsersTableName"]}),
    }


@pytest.mark.usefixtures("aws")
def test_alarms_without_a_topic_notify_no_one() -> None:
    deploy(sam_template(), {"Stage": "dev"})
    alarms = boto3.client("cloudwatch", region_name=REGION).describe_alarms()["MetricAlarms"]
    assert alarms and all(not a["AlarmActions"] and not a["OKActions"] for a in alarms)


# ------------------------------------------------------------------ roles against the code
ACCOUNT = "123456789012"  # moto's
# The IAM action each S3 operation the code calls needs (a presigned URL: its method's).
S3_ACTIONS = {
    "GetObject": "s3:GetObject",
    "HeadObject": "s3:GetObject",
    "PutObject": "s3:PutObject",
    "CreateMultipartUpload": "s3:PutObject",
    "UploadPart": "s3:PutObject",
    "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload",
    "PutObjectTagging": "s3:PutObjectTagging",
    "ListObjectsV2": "s3:ListBucket",
    "DeleteObject": "s3:DeleteObject",
}
# What TileDB's own C++ S3 client does when it reads an array (boto3 never sees it).
TILEDB_READS = {"s3:GetObject", "s3:ListBucket"}


# One function's Lambda environment: a fresh interpreter that replays the stored events
# of its routes through its handler (anonymous and signed in; TRS writes signed in, writes
# first, deletes last) and prints every botocore call and presigned URL it made as JSON.
REPLAY = r"""
import copy, json, os, sys
from pathlib import Path
from botocore import signers
from botocore.client import BaseClient
from omicsgate.localapi.events import LocalContext
from omicsgate.localapi.template import load_handler, load_template

template = load_template(sys.argv[1])
function = sys.argv[3]
handler = load_handler(template.functions[function])
calls = []
make_call, presign = BaseClient._make_api_call, signers.generate_presigned_url

def record(client, operation, params):
    calls.append((client.meta.service_model.service_name, operation, params))
    return make_call(client, operation, params)

def record_presign(client, ClientMethod, Params=None, **kw):
    operation = client.meta.method_to_api_mapping[ClientMethod]
    calls.append((client.meta.service_model.service_name, operation, Params or {}))
    return presign(client, ClientMethod, Params, **kw)

BaseClient._make_api_call = record
signers.generate_presigned_url = record_presign
order = {"PUT": 0, "POST": 1, "GET": 2, "HEAD": 3, "DELETE": 4}
routes = {(r.method, r.path): r.function for r in template.routes}
events = [json.loads(p.read_text()) for p in sorted(Path(sys.argv[2]).rglob("*.json"))]
# (An event of no template route is test_template's to report.)
events = [e for e in events if routes.get(tuple(e["routeKey"].split(" ", 1))) == function]
events.sort(key=lambda e: order[e["requestContext"]["http"]["method"]])
statuses = []
for event in events:
    method = event["requestContext"]["http"]["method"]
    writes = function == "TrsFunction" and method in ("PUT", "POST", "DELETE")
    for signed_in in (True,) if writes else (False, True):
        event["headers"].pop("authorization", None)
        if signed_in:
            event["headers"]["authorization"] = "Bearer " + os.environ["REPLAY_TOKEN"]
        response = handler(copy.deepcopy(event), LocalContext(function))
        statuses.append((event["routeKey"], response["statusCode"]))
print(json.dumps({"calls": calls, "statuses": statuses}, default=str))
"""


def moto_recorder(endpoint: str, action: str) -> str:
    """moto's request recorder: reset-, start-, stop- or download-recording."""
    method = "GET" if action == "download-recording" else "POST"
    request = urllib.request.Request(f"{endpoint}/moto-api/recorder/{action}", method=method)
    with urllib.request.urlopen(request, timeout=30) as answer:
        return str(answer.read().decode())


def replay_function(function: str, env: dict[str, str]) -> list[tuple[str, str, dict]]:
    """Replay a function's events in an environment of its own: its botocore calls."""
    result = subprocess.run(
        [sys.executable, "-c", REPLAY, str(TEMPLATE), str(ROOT / "events"), function],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
        cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    failed = [(route, status) for route, status in report["statuses"] if status >= 500]
    assert not failed, (function, failed)
    return [tuple(call) for call in report["calls"]]  # type: ignore[misc]


def s3_requests(recording: str, bucket: str) -> list[tuple[str, str, dict]]:
    """The S3 requests moto recorded (TileDB's C++ client's too) on ``bucket``, as the
    (service, operation, params) botocore would have named them."""
    calls: list[tuple[str, str, dict]] = []
    for line in recording.splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        url = urllib.parse.urlsplit(entry["url"])
        path = urllib.parse.unquote(url.path).lstrip("/")
        if path.split("/", 1)[0] != bucket:
            continue  # DynamoDB (POST /) and other buckets
        key = path.split("/", 1)[1] if "/" in path else ""
        query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        method = entry["method"]
        if not key:
            assert method == "GET" and "list-type" in query, entry["url"]
            prefix = query.get("prefix", [""])[0]
            calls.append(("s3", "ListObjectsV2", {"Bucket": bucket, "Prefix": prefix}))
            continue
        params = {"Bucket": bucket, "Key": key}
        if method in ("GET", "HEAD"):
            calls.append(("s3", "GetObject" if method == "GET" else "HeadObject", params))
        elif method == "PUT":
            calls.append(("s3", "UploadPart" if "uploadId" in query else "PutObject", params))
        elif method == "POST":
            operation = "CreateMultipartUpload" if "uploads" in query else "CompleteMultipartUpload"
            calls.append(("s3", operation, params))
        else:
            calls.append(("s3", "DeleteObject" if method == "DELETE" else method, params))
    return calls


def _pattern_matches(pattern: str, value: str) -> bool:
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.IGNORECASE if ":" not in value else 0) is not None


def _allows(
    statements: list[dict[str, Any]], action: str, resource: str, context: dict[str, str]
) -> bool:
    """IAM's answer for the statements of the role's inline policies: an Allow matching
    action, resource and conditions (dynamodb:LeadingKeys on the key the call names,
    s3:prefix on a listing), and no matching Deny."""

    def matches(statement: dict[str, Any]) -> bool:
        resources = statement["Resource"]
        resources = [resources] if isinstance(resources, str) else resources
        if not any(_pattern_matches(a.lower(), action.lower()) for a in _actions(statement)):
            return False
        if not any(_pattern_matches(r, resource) for r in resources):
            return False
        for operator, condition in statement.get("Condition", {}).items():
            assert operator in ("ForAllValues:StringLike", "StringLike"), operator
            for name, patterns in condition.items():
                patterns = [patterns] if isinstance(patterns, str) else patterns
                value = context.get(name)
                if value is None:
                    # ForAllValues over no value holds; a plain StringLike on none fails.
                    if operator == "StringLike":
                        return False
                    continue
                if not any(_pattern_matches(p, value) for p in patterns):
                    return False
        return True

    allowed = any(s["Effect"] == "Allow" and matches(s) for s in statements)
    return allowed and not any(s["Effect"] == "Deny" and matches(s) for s in statements)


Need = tuple[str, str, tuple[tuple[str, str], ...]]


def _needs(service: str, operation: str, params: dict[str, Any]) -> list[Need]:
    """The IAM (action, resource, condition context) a recorded call needs."""
    if service == "dynamodb":
        item = params.get("Key") or params.get("Item") or {}
        key = item.get("pk", {}).get("S")
        context = (("dynamodb:LeadingKeys", key),) if key else ()
        return [(f"dynamodb:{operation}", f"table:{params['TableName']}", context)]
    assert service == "s3", f"{service}.{operation}: the test knows S3 and DynamoDB only"
    assert operation in S3_ACTIONS, f"s3.{operation}: add its IAM action to S3_ACTIONS"
    bucket = params["Bucket"]
    if "Key" not in params:  # a listing
        return [
            (
                S3_ACTIONS[operation],
                f"arn:aws:s3:::{bucket}",
                (("s3:prefix", params.get("Prefix", "")),),
            )
        ]
    resource = f"arn:aws:s3:::{bucket}/{params['Key']}"
    needs: list[Need] = [(S3_ACTIONS[operation], resource, ())]
    if params.get("Tagging"):  # tags given with the object need their own action
        needs.append(("s3:PutObjectTagging", resource, ()))
    return needs


def test_every_function_s_role_allows_what_its_code_calls_and_no_more(
    template: Any, s3_data: str, moto_endpoint: str
) -> None:
    """Each function replays every stored event of its routes in an interpreter of its
    own (as a Lambda environment: nothing cached by another function) against moto: a
    release and the GWAS demo on S3, the users and TRS tables in DynamoDB. Its botocore
    calls and presigned URLs are recorded in that interpreter, and moto's request
    recorder adds the S3 requests of TileDB's own C++ client. Then the stack is deployed
    in moto's CloudFormation and every call is checked against the function's role as
    IAM would (action, ARN, dynamodb:LeadingKeys, s3:prefix). The DynamoDB actions a role
    grants must be exactly those its code calls."""
    from tests.trs_data import writer_token

    client = boto3.client("dynamodb", endpoint_url=moto_endpoint)
    tables = {"users": f"users-{uuid.uuid4().hex[:8]}", "trs": f"trs-{uuid.uuid4().hex[:8]}"}
    for table in tables.values():
        client.create_table(
            TableName=table,
            BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        )
    env = {
        "OMICSGATE_DATA_URI": s3_data,
        "OMICSGATE_S3_ENDPOINT": moto_endpoint,
        "OMICSGATE_DYNAMODB_ENDPOINT": moto_endpoint,
        "OMICSGATE_USERS_TABLE": tables["users"],
        "OMICSGATE_TRS_TABLE": tables["trs"],
        "REPLAY_TOKEN": writer_token(),
    }
    data_bucket = s3_data.split("/")[2]
    # RNAget tickets are written once per content: drop earlier tests' so they are written.
    s3 = boto3.resource("s3", endpoint_url=moto_endpoint)
    prefix = s3_data.split("/", 3)[3] + "/rnaget/tickets/"
    s3.Bucket(data_bucket).objects.filter(Prefix=prefix).delete()
    recorded: dict[str, list[tuple[str, str, dict]]] = {}
    for name in template.functions:
        moto_recorder(moto_endpoint, "reset-recording")
        moto_recorder(moto_endpoint, "start-recording")
        try:
            calls = replay_function(name, env)
        finally:
            moto_recorder(moto_endpoint, "stop-recording")
        # botocore's S3 calls appear twice (recorded and in moto's log): once is enough.
        calls = [c for c in calls if c[0] != "s3" or c[1] not in S3_ACTIONS or "Key" not in c[2]]
        recorded[name] = calls + s3_requests(
            moto_recorder(moto_endpoint, "download-recording"), data_bucket
        )

    with mock_aws():
        _register_stand_ins()
        stack, _ = deploy(sam_template(), {"Stage": "dev"})
        outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
        deployed_table = {
            tables["users"]: outputs["UsersTableName"],
            tables["trs"]: outputs["TrsTableName"],
        }
        lam = boto3.client("lambda", region_name=REGION)
        for name in template.functions:
            config = lam.get_function_configuration(FunctionName=outputs[f"{name}Name"])
            statements = _policy_statements(config["Role"].rsplit("/", 1)[1])
            needs: set[Need] = set()
            for service, operation, params in recorded[name]:
                for action, resource, context in _needs(service, operation, params):
                    if resource.startswith("table:"):
                        table = deployed_table[resource.split(":", 1)[1]]
                        resource = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}"
                    resource = resource.replace(
                        f":::{data_bucket}", f":::{outputs['DataBucketName']}"
                    )
                    needs.add((action, resource, context))
            for action, resource, context in sorted(needs):
                assert _allows(statements, action, resource, dict(context)), (
                    name,
                    action,
                    resource,
                    context,
                )
            # Least privilege: the table actions granted are those the code calls.
            called = {action for action, _, _ in needs if action.startswith("dynamodb:")}
            granted = {a for s in statements for a in _actions(s) if a.startswith("dynamodb:")}
            assert granted == called, (name, granted, called)
    # The recording saw what the functions really do (else the checks above prove nothing).
    actions = {
        name: {a for s, o, p in calls for a, _, _ in _needs(s, o, p)}
        for name, calls in recorded.items()
    }
    assert {"dynamodb:GetItem", "dynamodb:UpdateItem"} <= actions["ReferenceFunction"]
    assert {"s3:GetObject", "s3:ListBucket"} <= actions["ReferenceFunction"]  # TileDB's
    assert {"dynamodb:PutItem", "dynamodb:DeleteItem", "s3:PutObject"} <= actions["TrsFunction"]
    assert "s3:PutObject" in actions["RnagetFunction"]
    assert "dynamodb:Scan" in actions["CatalogFunction"]
