"""The AWS metadata store: one DynamoDB item per document (``pk`` = kind#key), written
with a condition on its ``rev`` attribute, so concurrent writers never lose an update."""

from __future__ import annotations

import json
from typing import Any

from omicsgate.settings import Settings, aws_client
from omicsgate.trs._records import Stored, encode


class DynamoMetadata:
    def __init__(self, table: str, settings: Settings) -> None:
        self.table = table
        self.client = aws_client("dynamodb", settings, settings.dynamodb_endpoint)

    def get(self, kind: str, key: str) -> Stored | None:
        item = self.client.get_item(
            TableName=self.table, Key={"pk": {"S": f"{kind}#{key}"}}, ConsistentRead=True
        ).get("Item")
        return _stored(item) if item else None

    def scan(self, kind: str) -> list[tuple[str, Stored]]:
        found: list[tuple[str, Stored]] = []
        arguments: dict[str, Any] = {
            "TableName": self.table,
            "ConsistentRead": True,  # the registry is live: a write is visible to the next read
            "FilterExpression": "kind = :kind",
            "ExpressionAttributeValues": {":kind": {"S": kind}},
        }
        while True:
            page = self.client.scan(**arguments)
            for item in page.get("Items", []):
                found.append((item["pk"]["S"].split("#", 1)[1], _stored(item)))
            if "LastEvaluatedKey" not in page:
                return sorted(found, key=lambda pair: pair[0])
            arguments["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def put(self, kind: str, key: str, doc: dict[str, Any], expected_rev: int | None) -> bool:
        rev = 1 if expected_rev is None else expected_rev + 1
        item = {
            "pk": {"S": f"{kind}#{key}"},
            "kind": {"S": kind},
            "doc": {"S": encode(doc)},
            "rev": {"N": str(rev)},
        }
        if expected_rev is None:
            condition: dict[str, Any] = {"ConditionExpression": "attribute_not_exists(pk)"}
        else:
            condition = {
                "ConditionExpression": "rev = :rev",
                "ExpressionAttributeValues": {":rev": {"N": str(expected_rev)}},
            }
        try:
            self.client.put_item(TableName=self.table, Item=item, **condition)
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def delete(self, kind: str, key: str, expected_rev: int) -> bool:
        try:
            self.client.delete_item(
                TableName=self.table,
                Key={"pk": {"S": f"{kind}#{key}"}},
                ConditionExpression="rev = :rev",
                ExpressionAttributeValues={":rev": {"N": str(expected_rev)}},
            )
        except self.client.exceptions.ConditionalCheckFailedException:
            return False
        return True


def _stored(item: dict[str, Any]) -> Stored:
    return Stored(json.loads(item["doc"]["S"]), int(item["rev"]["N"]))
