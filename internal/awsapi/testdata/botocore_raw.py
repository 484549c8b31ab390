"""Send requests signed by botocore's own SigV4 signer, with paths exactly as
given (http.client sends them verbatim), and print each answer as JSON.

Usage: botocore_raw.py ENDPOINT < requests.json
requests.json is a list of {"method", "path", "body"}; the output a list of
{"status", "headers", "body"} in the same order. Credentials come from
AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, the region from AWS_REGION.
Also: botocore_raw.py --normalize < paths.json prints botocore's canonical
URI (SigV4Auth._normalize_url_path) of each path.
"""
import http.client
import json
import os
import sys
from urllib.parse import urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


def signer():
    creds = Credentials(os.environ["AWS_ACCESS_KEY_ID"], os.environ["AWS_SECRET_ACCESS_KEY"])
    return SigV4Auth(creds, "backup", os.environ.get("AWS_REGION", "us-east-1"))


def main():
    if sys.argv[1] == "--normalize":
        auth = signer()
        print(json.dumps([auth._normalize_url_path(p) for p in json.load(sys.stdin)]))
        return
    endpoint = sys.argv[1]
    host = urlsplit(endpoint).netloc
    auth = signer()
    out = []
    for r in json.load(sys.stdin):
        body = r.get("body", "").encode()
        req = AWSRequest(method=r["method"], url=endpoint + r["path"], data=body,
                         headers={"Content-Type": "application/json"})
        auth.add_auth(req)
        conn = http.client.HTTPConnection(host, timeout=30)
        conn.request(r["method"], r["path"], body=body, headers=dict(req.headers.items()))
        resp = conn.getresponse()
        out.append({"status": resp.status, "headers": {k.lower(): v for k, v in resp.getheaders()},
                    "body": resp.read().decode("utf-8", "replace")})
        conn.close()
    print(json.dumps(out))


main()
