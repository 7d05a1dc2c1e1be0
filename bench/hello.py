"""The smallest HTTP server Python has: the baseline for the bare endpoint's own cost.

``python -m bench.hello PORT`` answers every GET with a 16-byte JSON body from the standard
library's threading HTTP server (HTTP/1.1, keep-alive), as a PHP hello file is the baseline for
a PHP application: what any request costs here before the application does anything.
"""

from __future__ import annotations

import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BODY = b'{"status":"ok"}\n'


class Hello(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one write (flushed after each request), without Nagle's delay:
    # written apart, a kept-alive connection waits 40 ms for the client's delayed ACK.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True

    def do_GET(self) -> None:  # noqa: N802 - the standard library's method name
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def log_message(self, *args: object) -> None:
        """Log nothing: the benchmark times requests, not the terminal."""


if __name__ == "__main__":
    ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Hello).serve_forever()
