"""Drive cairn's tagging API with boto3 and print what it saw as JSON.

Usage: tags_boto3.py ENDPOINT VAULT_ARN PLAN_ARN POINT_ARN
Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""
import json
import sys

import boto3
from botocore.exceptions import ClientError

endpoint, vault_arn, plan_arn, point_arn = sys.argv[1:5]
c = boto3.client("backup", endpoint_url=endpoint, region_name="us-east-1")
out = {}


def error_code(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


out["vault"] = c.list_tags(ResourceArn=vault_arn)["Tags"]
out["plan"] = c.list_tags(ResourceArn=plan_arn)["Tags"]
out["point"] = c.list_tags(ResourceArn=point_arn)["Tags"]

c.tag_resource(ResourceArn=plan_arn, Tags={"boto": "yes", "cost centre": "42"})
c.untag_resource(ResourceArn=plan_arn, TagKeyList=["owner", "not-there"])
out["plan_after"] = c.list_tags(ResourceArn=plan_arn)["Tags"]

# Pages of two, followed by NextToken.
keys, token = [], None
while True:
    kw = {"ResourceArn": point_arn, "MaxResults": 2}
    if token:
        kw["NextToken"] = token
    page = c.list_tags(**kw)
    keys += sorted(page["Tags"])
    token = page.get("NextToken")
    if not token:
        break
out["point_keys_paged"] = keys

out["errors"] = {
    "reserved_prefix": error_code(c.tag_resource, ResourceArn=plan_arn, Tags={"aws:x": "1"}),
    "change_storage": error_code(c.tag_resource, ResourceArn=vault_arn, Tags={"cairn:storage": "/tmp/elsewhere"}),
    "remove_storage": error_code(c.untag_resource, ResourceArn=vault_arn, TagKeyList=["cairn:storage"]),
    "unknown_vault": error_code(c.list_tags, ResourceArn=vault_arn + "-nope"),
    "table_arn": error_code(c.list_tags, ResourceArn="arn:aws:dynamodb:us-east-1:000000000000:table/orders"),
    "too_many": error_code(c.tag_resource, ResourceArn=plan_arn, Tags={"k%02d" % i: "v" for i in range(50)}),
}
out["plan_final"] = c.list_tags(ResourceArn=plan_arn)["Tags"]
print(json.dumps(out))
