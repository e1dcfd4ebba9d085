"""A reverse proxy for tests/ci_outputs.rs: forwards every request to the base URL given as the
first argument and replaces the second argument with the third in response bodies, so a test can
see what jira-gate does with values the sandbox never serves (a display name with a trailing
space or line break). Prints http://127.0.0.1:PORT on stdout."""

import http.client
import http.server
import sys
import urllib.parse

target = urllib.parse.urlsplit(sys.argv[1])
old, new = sys.argv[2].encode(), sys.argv[3].encode()


class Rewrite(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read().replace(old, new)
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = forward

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Rewrite)
print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
