#!/usr/bin/env python3
"""A minimal OAuth 2 provider on Python's standard library, for the connection tests.

It speaks HTTP the way small and old servers do, chosen with --mode:

  http10  BaseHTTPRequestHandler's default: answers in HTTP/1.0 and closes the connection after
          each answer, without a `Connection` header (as Python's http.server, some embedded
          identity servers and old OAuth 1.0a services do).
  close   HTTP/1.1 with `Connection: close` on every answer.
  idle    HTTP/1.1 keep-alive; a connection left idle for --idle seconds (default 1) is closed.
  stale   HTTP/1.1 keep-alive, but the second request on any connection is read and the
          connection closed without an answer: a pooled connection gone stale.

With --cert/--key it serves HTTPS (HTTP/1.1 keep-alive, ALPN `http/1.1` only).

Endpoints: POST /token (authorization_code grant; each code is redeemed once, a second
redemption is `invalid_grant`), GET /userinfo (bearer), GET /api/... (JSON naming the HTTP
version and ALPN protocol), POST /api/... (counts), any request to /api/drop is read and the
connection closed without an answer, GET /stats (counters as JSON).

It prints `PORT <n>` once listening on 127.0.0.1, and exits when its standard input closes
(the test process went away) or after --lifetime seconds.
"""

import argparse
import json
import os
import socket
import ssl
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
STATS = {
    "connections": 0,
    "token_requests": 0,
    "redeemed_twice": 0,
    "userinfo": 0,
    "api_get": 0,
    "api_post": 0,
    "dropped": 0,
}
REDEEMED = set()


def count(key, n=1):
    with LOCK:
        STATS[key] += n


class Handler(BaseHTTPRequestHandler):
    mode = "http10"
    server_version = "PyProvider/1"

    def setup(self):
        super().setup()
        count("connections")
        self.handled = 0
        if isinstance(self.connection, ssl.SSLSocket):
            self.connection.do_handshake()

    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (ConnectionError, socket.timeout, ssl.SSLError):
            self.close_connection = True

    def parse_request(self):
        ok = super().parse_request()
        self.handled += 1
        if ok and self.mode == "stale" and self.handled == 2:
            self.read_body()
            count("dropped")
            self.close_connection = True
            return False
        return ok

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        if self.mode == "close":
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(data)

    def drop(self):
        self.read_body()
        count("dropped")
        self.close_connection = True

    def describe(self):
        alpn = None
        if isinstance(self.connection, ssl.SSLSocket):
            alpn = self.connection.selected_alpn_protocol()
        return {"http_version": self.request_version, "answered_in": self.protocol_version, "alpn": alpn}

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/api/drop"):
            return self.drop()
        if path == "/stats":
            with LOCK:
                return self.answer(200, dict(STATS))
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer tok-"):
            return self.answer(401, {"error": "invalid_token"})
        if path == "/userinfo":
            count("userinfo")
            return self.answer(200, dict(sub="py-user", name="Py User", **self.describe()))
        if path.startswith("/api/"):
            count("api_get")
            return self.answer(200, dict(ok=True, path=path, **self.describe()))
        self.answer(404, {"error": "not_found"})

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path.startswith("/api/drop"):
            return self.drop()
        form = urllib.parse.parse_qs(self.read_body().decode())
        if path == "/token":
            count("token_requests")
            code = (form.get("code") or [""])[0]
            if form.get("grant_type") != ["authorization_code"] or not code:
                return self.answer(400, {"error": "invalid_request"})
            with LOCK:
                again = code in REDEEMED
                REDEEMED.add(code)
                if again:
                    STATS["redeemed_twice"] += 1
            if again:
                return self.answer(400, {"error": "invalid_grant"})
            return self.answer(
                200, {"access_token": "tok-" + code, "token_type": "bearer", "expires_in": 3600}
            )
        if path.startswith("/api/"):
            count("api_post")
            return self.answer(200, dict(posted=True, **self.describe()))
        self.answer(404, {"error": "not_found"})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    # Python's default of 5 refuses connections under a burst of fresh ones.
    request_queue_size = 128


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--mode", choices=["http10", "close", "idle", "stale"], default="http10")
    parser.add_argument("--idle", type=float, default=1.0)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--lifetime", type=float, default=300.0)
    args = parser.parse_args()

    Handler.mode = args.mode
    if args.mode in ("close", "idle", "stale") or args.cert:
        Handler.protocol_version = "HTTP/1.1"
    if args.mode == "idle":
        # StreamRequestHandler applies it to the socket: a read waiting longer ends the connection.
        Handler.timeout = args.idle

    server = Server(("127.0.0.1", 0), Handler)
    if args.cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.cert, args.key)
        context.set_alpn_protocols(["http/1.1"])
        # The handshake runs in each connection's thread (setup), not in the accepting one.
        server.socket = context.wrap_socket(
            server.socket, server_side=True, do_handshake_on_connect=False
        )

    def watch_stdin():
        sys.stdin.read()
        os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    threading.Timer(args.lifetime, lambda: os._exit(0)).start()
    print("PORT", server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
