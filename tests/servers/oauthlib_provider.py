#!/usr/bin/env python3
"""An OAuth 1.0a provider built on Python's oauthlib (its RFC 5849 server endpoints, with the
request validator's defaults: nonce and token lengths, safe characters, timestamp window), on a
free loopback port. The interoperability tests sign in against it and make signed API calls:
proof that our signatures and parameters satisfy an implementation that is not ours.

    python3 oauthlib_provider.py '<config JSON>'

config: {"clients": {"<key>": {"secret": "...", "callback": "<callback URI prefix>"}},
         "user": "alice"}

Prints `PORT <n>` once listening; exits when its standard input closes.

Endpoints: POST /request_token, GET /authorize (approves at once, as the configured user),
POST /access_token, and any other path as a protected resource answering JSON
{"user", "method", "path", "query", "form"} once oauthlib validated the request, or 401.
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from oauthlib.oauth1 import (
    AccessTokenEndpoint,
    AuthorizationEndpoint,
    RequestTokenEndpoint,
    RequestValidator,
    ResourceEndpoint,
)

CONFIG = json.loads(sys.argv[1] if len(sys.argv) > 1 else "{}")
CLIENTS = CONFIG.get("clients", {})
USER = CONFIG.get("user", "alice")


class Validator(RequestValidator):
    """In memory, oauthlib's defaults otherwise; only TLS is not enforced (plain loopback)."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()
        self.request_tokens = {}
        self.access_tokens = {}
        self.nonces = set()

    enforce_ssl = False

    # Dummies: oauthlib runs the same checks for unknown keys, to take the same time.
    dummy_client = "dummyclientkeyxxxxxxxxxx"
    dummy_request_token = "dummyrequesttokenxxxxxxx"
    dummy_access_token = "dummyaccesstokenxxxxxxxx"

    def get_client_secret(self, client_key, request):
        return CLIENTS.get(client_key, {}).get("secret", "dummy-secret")

    def validate_client_key(self, client_key, request):
        return client_key in CLIENTS

    def validate_timestamp_and_nonce(self, client_key, timestamp, nonce, request,
                                     request_token=None, access_token=None):
        key = (client_key, timestamp, nonce, request_token or access_token)
        with self.lock:
            if key in self.nonces:
                return False
            self.nonces.add(key)
            return True

    def validate_redirect_uri(self, client_key, redirect_uri, request):
        prefix = CLIENTS.get(client_key, {}).get("callback", "")
        return bool(prefix) and redirect_uri.startswith(prefix)

    def validate_requested_realms(self, client_key, realms, request):
        return True

    def get_default_realms(self, client_key, request):
        return []

    def save_request_token(self, token, request):
        with self.lock:
            self.request_tokens[token["oauth_token"]] = {
                "secret": token["oauth_token_secret"],
                "client": request.client_key,
                "callback": request.redirect_uri,
                "verifier": None,
            }

    # The authorization step.
    def verify_request_token(self, token, request):
        return token in self.request_tokens

    def get_realms(self, token, request):
        return []

    def verify_realms(self, token, realms, request):
        return True

    def get_redirect_uri(self, token, request):
        return self.request_tokens[token]["callback"]

    def save_verifier(self, token, verifier, request):
        with self.lock:
            self.request_tokens[token]["verifier"] = verifier["oauth_verifier"]

    # The access token step.
    def validate_request_token(self, client_key, token, request):
        entry = self.request_tokens.get(token)
        return entry is not None and entry["client"] == client_key

    def get_request_token_secret(self, client_key, token, request):
        entry = self.request_tokens.get(token)
        return entry["secret"] if entry else "dummy-secret"

    def validate_verifier(self, client_key, token, verifier, request):
        entry = self.request_tokens.get(token)
        return entry is not None and entry["verifier"] == verifier

    def invalidate_request_token(self, client_key, request_token, request):
        with self.lock:
            self.request_tokens.pop(request_token, None)

    def save_access_token(self, token, request):
        with self.lock:
            self.access_tokens[token["oauth_token"]] = {
                "secret": token["oauth_token_secret"],
                "client": request.client_key,
                "user": USER,
            }

    # Protected resources.
    def validate_access_token(self, client_key, token, request):
        entry = self.access_tokens.get(token)
        return entry is not None and entry["client"] == client_key

    def get_access_token_secret(self, client_key, token, request):
        entry = self.access_tokens.get(token)
        return entry["secret"] if entry else "dummy-secret"

    def validate_realms(self, client_key, token, request, uri=None, realms=None):
        return True


VALIDATOR = Validator()
REQUEST_TOKEN = RequestTokenEndpoint(VALIDATOR)
AUTHORIZE = AuthorizationEndpoint(VALIDATOR)
ACCESS_TOKEN = AccessTokenEndpoint(VALIDATOR)
RESOURCE = ResourceEndpoint(VALIDATOR)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, headers, body):
        body = (body or "").encode() if isinstance(body, (str, type(None))) else body
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def handle_one(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode() if length else None
        uri = f"http://127.0.0.1:{self.server.server_port}{self.path}"
        headers = dict(self.headers.items())
        path = urlsplit(self.path).path
        if path == "/request_token":
            h, b, s = REQUEST_TOKEN.create_request_token_response(uri, self.command, body, headers)
        elif path == "/authorize":
            h, b, s = AUTHORIZE.create_authorization_response(uri, self.command, body, headers)
        elif path == "/access_token":
            h, b, s = ACCESS_TOKEN.create_access_token_response(
                uri, self.command, body, headers, credentials={"screen_name": USER})
        else:
            valid, request = RESOURCE.validate_protected_resource_request(
                uri, self.command, body, headers)
            if not valid:
                return self.answer(401, {"Content-Type": "application/json"},
                                   json.dumps({"error": "invalid signature or token"}))
            form = parse_qsl(body or "", keep_blank_values=True)
            query = parse_qsl(urlsplit(self.path).query, keep_blank_values=True)
            user = VALIDATOR.access_tokens[request.resource_owner_key]["user"]
            return self.answer(200, {"Content-Type": "application/json"}, json.dumps({
                "user": user, "id": "42", "screen_name": user, "method": self.command,
                "path": path, "query": query, "form": form,
            }))
        self.answer(s, h, b)

    def do_GET(self):
        self.handle_one()

    def do_POST(self):
        self.handle_one()


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"PORT {server.server_port}", flush=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sys.stdin.read()  # until the test goes away


if __name__ == "__main__":
    main()
