"""Drive cairn's protected-resource and Audit Manager framework operations
with boto3 and print what it saw as JSON.

Usage: audit_boto3.py ENDPOINT TABLE_ARN UNPROTECTED_TABLE_ARN
Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.
"""
import json
import sys

import boto3
from botocore.exceptions import ClientError

endpoint, table_arn, other_arn = sys.argv[1:4]
c = boto3.client("backup", endpoint_url=endpoint, region_name="us-east-1")
out = {}


def error_code(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def jsonable(d):
    return json.loads(json.dumps(d, default=str))


r = c.describe_protected_resource(ResourceArn=table_arn)
r.pop("ResponseMetadata")
out["describe"] = jsonable(r)
out["last_backup_time_type"] = type(r["LastBackupTime"]).__name__
out["listed"] = [x["ResourceArn"] for p in c.get_paginator("list_protected_resources").paginate(PaginationConfig={"PageSize": 1})
                 for x in p["Results"]]
out["by_vault"] = [x["ResourceArn"] for p in c.get_paginator("list_protected_resources_by_backup_vault").paginate(
    BackupVaultName="Default", PaginationConfig={"PageSize": 1}) for x in p["Results"]]

controls = [
    {"ControlName": "BACKUP_LAST_RECOVERY_POINT_CREATED",
     "ControlInputParameters": [{"ParameterName": "recoveryPointAgeUnit", "ParameterValue": "hours"},
                                {"ParameterName": "recoveryPointAgeValue", "ParameterValue": "12"}],
     "ControlScope": {"ComplianceResourceTypes": ["DynamoDB"]}},
    {"ControlName": "BACKUP_RECOVERY_POINT_MINIMUM_RETENTION_CHECK",
     "ControlInputParameters": [{"ParameterName": "requiredRetentionDays", "ParameterValue": "7"}]},
]
created = c.create_framework(FrameworkName="boto_fw", FrameworkDescription="from boto3", FrameworkControls=controls,
                             IdempotencyToken="boto-token-1")
again = c.create_framework(FrameworkName="boto_fw", FrameworkDescription="from boto3", FrameworkControls=controls,
                           IdempotencyToken="boto-token-1")
out["create_arn"] = created["FrameworkArn"]
out["retry_same_arn"] = again["FrameworkArn"] == created["FrameworkArn"]
d = c.describe_framework(FrameworkName="boto_fw")
out["describe_framework"] = {k: d[k] for k in ("FrameworkName", "FrameworkDescription", "FrameworkControls",
                                                "DeploymentStatus", "FrameworkStatus", "IdempotencyToken")}
out["creation_time_type"] = type(d["CreationTime"]).__name__
upd = c.update_framework(FrameworkName="boto_fw", FrameworkControls=controls[:1], IdempotencyToken="boto-token-2")
out["update_arn_same"] = upd["FrameworkArn"] == created["FrameworkArn"]
# ListFrameworks has no paginator in botocore: follow NextToken by hand.
listed, kw = [], {"MaxResults": 1}
while True:
    page = c.list_frameworks(**kw)
    listed += [(f["FrameworkName"], f["NumberOfControls"], f["DeploymentStatus"]) for f in page["Frameworks"]]
    if not page.get("NextToken"):
        break
    kw["NextToken"] = page["NextToken"]
out["listed_frameworks"] = listed
out["errors"] = {
    "unprotected": error_code(c.describe_protected_resource, ResourceArn=other_arn),
    "not_an_arn": error_code(c.describe_protected_resource, ResourceArn="orders"),
    "unknown_vault": error_code(c.list_protected_resources_by_backup_vault, BackupVaultName="nope"),
    "taken_name": error_code(c.create_framework, FrameworkName="boto_fw", FrameworkControls=controls),
    "unknown_control": error_code(c.create_framework, FrameworkName="bad_fw",
                                  FrameworkControls=[{"ControlName": "BACKUP_NOPE"}]),
    "bad_value": error_code(c.create_framework, FrameworkName="bad_fw", FrameworkControls=[
        {"ControlName": "BACKUP_LAST_RECOVERY_POINT_CREATED",
         "ControlInputParameters": [{"ParameterName": "recoveryPointAgeUnit", "ParameterValue": "weeks"}]}]),
    "no_controls": error_code(c.create_framework, FrameworkName="bad_fw", FrameworkControls=[]),
    "bad_name": error_code(c.create_framework, FrameworkName="1bad", FrameworkControls=controls),
    "unknown_framework": error_code(c.describe_framework, FrameworkName="nope"),
}
c.delete_framework(FrameworkName="boto_fw")
out["errors"]["deleted"] = error_code(c.describe_framework, FrameworkName="boto_fw")
out["errors"]["delete_twice"] = error_code(c.delete_framework, FrameworkName="boto_fw")
print(json.dumps(out))
