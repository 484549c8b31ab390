#!/usr/bin/env python3
"""Read a DynamoDB export the way a third-party tool does, knowing nothing of
cairn: manifest-summary.json -> manifest-files.json -> every dataFileS3Key,
each fetched with If-Match on the etag the manifest records and checked
against its md5Checksum, then decompressed and read line by line.

usage: read_export.py ENDPOINT BUCKET SUMMARY_KEY OUT_FILE
(credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)

Writes every item's DynamoDB JSON (the value of "Item"), one per line, to
OUT_FILE and a JSON report on stdout.
"""
import base64
import gzip
import hashlib
import json
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError


def main():
    endpoint, bucket, summary_key, out_file = sys.argv[1:5]
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      config=Config(s3={"addressing_style": "path"}))
    summary = json.loads(s3.get_object(Bucket=bucket, Key=summary_key)["Body"].read())
    # From here on only what the summary says: its bucket and full keys.
    bucket = summary["s3Bucket"]
    manifest = s3.get_object(Bucket=bucket, Key=summary["manifestFilesS3Key"])["Body"].read()
    report = {"files": 0, "items": 0, "multipart": 0, "bytes": 0, "if_match_enforced": None,
              "summary_items": summary["itemCount"], "s3Prefix": summary["s3Prefix"]}
    with open(out_file, "w") as out:
        for line in manifest.decode().splitlines():
            entry = json.loads(line)
            key, etag = entry["dataFileS3Key"], entry["etag"]
            body = s3.get_object(Bucket=bucket, Key=key, IfMatch=etag)["Body"].read()
            if base64.b64encode(hashlib.md5(body).digest()).decode() != entry["md5Checksum"]:
                raise SystemExit(f"{key}: md5Checksum does not match")
            if report["if_match_enforced"] is None:
                try:
                    s3.get_object(Bucket=bucket, Key=key, IfMatch='"0123456789abcdef0123456789abcdef"')
                    report["if_match_enforced"] = False
                except ClientError as e:
                    report["if_match_enforced"] = e.response["ResponseMetadata"]["HTTPStatusCode"] == 412
            if "-" in etag:
                report["multipart"] += 1
            report["files"] += 1
            report["bytes"] += len(body)
            data = gzip.decompress(body) if key.endswith(".gz") else body
            n = 0
            for item_line in data.decode().splitlines():
                out.write(json.dumps(json.loads(item_line)["Item"], separators=(",", ":")) + "\n")
                n += 1
            if n != entry["itemCount"]:
                raise SystemExit(f"{key}: {n} items, the manifest says {entry['itemCount']}")
            report["items"] += n
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main()
