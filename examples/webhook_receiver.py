#!/usr/bin/env python3
"""A stand-alone receiver for Plan Change Portal's webhooks: verifies each delivery's Standard
Webhooks signature and prints the event.

    pip install standardwebhooks
    WEBHOOK_SECRET=whsec_... python examples/webhook_receiver.py --port 8001

Add http://127.0.0.1:8001/ under Settings > Webhooks (a loopback URL needs PORTAL_WEBHOOKS_ALLOW_PRIVATE=1
on the portal, which `make run` has). A delivery with a bad or missing signature, or one signed more than
5 minutes ago, is answered 401; a good one 204. The same webhook-id can arrive more than once (retries,
Resend): act on each id once.
"""

import argparse
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks import Webhook, WebhookVerificationError

MAX_BODY = 1_000_000


def make_handler(webhook: Webhook, seen: set, out=sys.stdout):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.send_response(413)
                self.end_headers()
                return
            body = self.rfile.read(length)
            try:
                event = webhook.verify(body, dict(self.headers.items()))
            except (WebhookVerificationError, ValueError) as exc:
                self.send_response(401)
                self.end_headers()
                print(f"refused: {exc}", file=out, flush=True)
                return
            self.send_response(204)
            self.end_headers()
            if event["id"] in seen:
                return  # a retry or a resend of a message already handled
            seen.add(event["id"])
            print(json.dumps({"id": event["id"], "type": event["type"], "created_at": event["created_at"],
                              "data": event["data"]}), file=out, flush=True)

        def log_message(self, *args):
            pass

    return Handler


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    args = parser.parse_args(argv)
    secret = os.environ.get("WEBHOOK_SECRET", "")
    if not secret.startswith("whsec_"):
        parser.error("set WEBHOOK_SECRET to the endpoint's signing secret (whsec_…)")
    server = ThreadingHTTPServer((args.host, args.port), make_handler(Webhook(secret), set()))
    print(f"listening on http://{args.host}:{server.server_address[1]}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
