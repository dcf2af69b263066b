"""Users and allowance counters in one DynamoDB table (key ``pk``; TTL on ``expires``)."""

from __future__ import annotations

from typing import Any

from omicsgate.auth._records import UserRecord
from omicsgate.settings import Settings, aws_client


class DynamoBackend:
    """A DynamoDB that cannot be reached raises botocore's errors, which every app answers
    with a 503 (``omicsgate.web.app``): nobody is let in uncharged, nobody is refused as
    if their allowance were spent."""

    def __init__(self, table: str, settings: Settings) -> None:
        self.table = table
        self.client = aws_client("dynamodb", settings, settings.dynamodb_endpoint)

    def get_user(self, uid: str) -> UserRecord | None:
        item = self.client.get_item(
            TableName=self.table, Key={"pk": {"S": f"user#{uid}"}}, ConsistentRead=True
        ).get("Item")
        if item is None:
            return None
        groups = item.get("groups", {}).get("L", [])
        return UserRecord(
            uid,
            frozenset(g["S"] for g in groups),
            item["tier"]["S"],
            int(item.get("valid_after", {}).get("N", "0")),
        )

    def put_user(self, user: UserRecord) -> None:
        item: dict[str, Any] = {
            "pk": {"S": f"user#{user.uid}"},
            "groups": {"L": [{"S": g} for g in sorted(user.groups)]},
            "tier": {"S": user.tier},
            "valid_after": {"N": str(user.valid_after)},
        }
        self.client.put_item(TableName=self.table, Item=item)

    def spend(
        self, subject: str, window: int, cost: int, limit: int, expires: int
    ) -> tuple[bool, int]:
        key = {"pk": {"S": f"allowance#{subject}#{window}"}}
        if cost == 0:
            item = (
                self.client.get_item(TableName=self.table, Key=key, ConsistentRead=True).get("Item")
                or {}
            )
            return True, int(item.get("used", {}).get("N", "0"))
        try:
            # The condition and the increment are one atomic write: no read-modify-write race.
            result = self.client.update_item(
                TableName=self.table,
                Key=key,
                UpdateExpression="ADD used :cost SET expires = :expires",
                ConditionExpression="attribute_not_exists(used) OR used <= :room",
                ExpressionAttributeValues={
                    ":cost": {"N": str(cost)},
                    ":room": {"N": str(limit - cost)},
                    ":expires": {"N": str(expires)},
                },
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except self.client.exceptions.ConditionalCheckFailedException as error:
            old = error.response.get("Item") or {}
            return False, int(old.get("used", {}).get("N", "0"))
        return True, int(result["Attributes"]["used"]["N"])
