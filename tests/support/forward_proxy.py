"""A plain-HTTP forward proxy for tests/proxy.rs: forwards absolute-URI requests and appends
"METHOD URL" to the log file given as its argument. Prints http://127.0.0.1:PORT on stdout."""

import http.client
import http.server
import sys
import urllib.parse

log_path = sys.argv[1]


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self):
        target = urllib.parse.urlsplit(self.path)
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"{self.command} {self.path}\n")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        conn = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        path = target.path + (f"?{target.query}" if target.query else "")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("proxy-connection", "connection")}
        conn.request(self.command, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
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


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
server.serve_forever()
