"""Loopback receivers for the hook and plugin tests: an HTTP server that records every
request (method, path, headers, body) and answers a chosen status, and TCP / UDP listeners
that record what they get. All bind 127.0.0.1 on a free port and stop with the test."""
import json
import socket
import socketserver
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HTTPReceiver:
    def __init__(self, status=200, answer=None):
        self.requests = []
        self.status = status
        self.answer = answer  # a function(path, body) -> (status, bytes), or None
        rec = self

        class H(BaseHTTPRequestHandler):
            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                rec.requests.append({"method": self.command, "path": self.path,
                                     "headers": {k.lower(): v for k, v in self.headers.items()},
                                     "body": body})
                status, out = rec.status, b'{"ok":true}'
                if rec.answer is not None:
                    status, out = rec.answer(self.path, body)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self, prefix=""):
        return [r["body"] for r in self.requests if r["path"].startswith(prefix)]

    def json_bodies(self, prefix=""):
        return [json.loads(b) for b in self.bodies(prefix)]

    def all_bytes(self):
        return b"".join(r["body"] + json.dumps(r["headers"]).encode() + r["path"].encode()
                        for r in self.requests)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class TCPReceiver:
    """Records the bytes of every connection (as one bytes object per connection)."""

    def __init__(self):
        self.data = []
        rec = self

        class H(socketserver.BaseRequestHandler):
            def handle(self):
                chunks = []
                self.request.settimeout(10)
                while True:
                    try:
                        b = self.request.recv(65536)
                    except OSError:
                        break
                    if not b:
                        break
                    chunks.append(b)
                rec.data.append(b"".join(chunks))

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


class UDPReceiver:
    def __init__(self):
        self.data = []
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.running = True
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while self.running:
            try:
                b, _ = self.sock.recvfrom(65536)
                self.data.append(b)
            except socket.timeout:
                pass
            except OSError:
                break

    def stop(self):
        self.running = False
        self.sock.close()
