#!/usr/bin/env python3
"""A webhook receiver written only from docs/notifications.md's recipe.

It listens on 127.0.0.1 (port 0), prints "PORT <n>" once ready, and for
each POST prints one JSON line: the verdict and the event it got. It
answers 204 when the signature is good, 401 when it is not.
Usage: receiver.py SECRET
"""
import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

SECRET = sys.argv[1].encode()
TOLERANCE = 300  # seconds


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        ts = self.headers.get("Cairn-Timestamp", "")
        sig = self.headers.get("Cairn-Signature", "")
        # The recipe: HMAC-SHA256 with the secret over timestamp "." body,
        # hex, after "sha256="; compare in constant time; reject old ones.
        expected = "sha256=" + hmac.new(SECRET, ts.encode() + b"." + body, hashlib.sha256).hexdigest()
        ok = hmac.compare_digest(expected, sig)
        fresh = ts.isdigit() and abs(time.time() - int(ts)) <= TOLERANCE
        event = json.loads(body)
        verdict = "valid" if ok and fresh else ("stale" if ok else "bad-signature")
        print(json.dumps({"verdict": verdict, "event": event,
                          "event_id_header": self.headers.get("Cairn-Event-Id")}), flush=True)
        self.send_response(204 if verdict == "valid" else 401)
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
print("PORT %d" % server.server_address[1], flush=True)
server.serve_forever()
