#!/usr/bin/env python3
"""Captures the real HTTP/1.1 messages http's parser tests are built from.

    /usr/bin/python3 http/testdata/capture.py

Requests: curl, Python's http.client / urllib and python3-websockets talk to a recording
listener on 127.0.0.1, which keeps every byte they send and answers with a
fixed response. Responses: a recording client sends requests to real servers
on 127.0.0.1 (Python's http.server, Node.js's http module) and keeps every
byte that comes back. Writes http/testdata/captures.hpp (one string_view per
message, do not edit by hand) and seeds for the fuzzers in
http/corpus/http_{request,response}_parser_fuzzer/. Needs curl and node;
everything stays on loopback.
"""

import asyncio
import http.client
import http.server
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import websockets  # Debian's python3-websockets: run with /usr/bin/python3

HERE = pathlib.Path(__file__).resolve().parent
HTTP = HERE.parent
CANNED = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Recorder:
    """Accepts connections and records what each client sends until it goes
    quiet (the request is complete), then answers with CANNED. Clients are
    run without "Expect: 100-continue", so they never wait for us first."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.received = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            data = b""
            conn.settimeout(0.5)
            while True:
                try:
                    piece = conn.recv(65536)
                except socket.timeout:
                    break  # the request is complete: the client waits for us
                if not piece:
                    break
                data += piece
            self.received.append(data)
            try:
                conn.sendall(CANNED)
            except OSError:
                pass
            conn.close()

    def take(self):
        deadline = time.time() + 5
        while not self.received and time.time() < deadline:
            time.sleep(0.05)
        return self.received.pop(0)


def capture_requests(workdir):
    rec = Recorder()
    url = f"http://127.0.0.1:{rec.port}"
    upload = workdir / "upload.txt"
    upload.write_bytes(b"temperature=21.5\nhumidity=40\n" * 3)
    requests = {}

    def curl(*args):
        subprocess.run(["curl", "-s", "-o", "/dev/null", "--max-time", "5", *args], check=False)

    curl(url + "/index.html")
    requests["kCurlGet"] = ("curl 7.88 GET", rec.take())
    curl("-I", url + "/index.html")
    requests["kCurlHead"] = ("curl -I (HEAD)", rec.take())
    curl("-d", "name=sensor-1&value=21.5", url + "/api/devices")
    requests["kCurlPostForm"] = ("curl -d (urlencoded POST with Content-Length)", rec.take())
    curl("-H", "Transfer-Encoding: chunked", "-H", "Expect:", "--data-binary", f"@{upload}",
         url + "/upload")
    requests["kCurlChunkedUpload"] = ("curl chunked upload of a file", rec.take())
    curl("-H", "If-None-Match: \"abc\"", "-r", "0-99", url + "/file.bin")
    requests["kCurlRangeConditional"] = ("curl -r 0-99 with If-None-Match", rec.take())

    conn = http.client.HTTPConnection("127.0.0.1", rec.port, timeout=5)
    conn.request("PUT", "/api/devices/7?force=1", body=b'{"name":"probe"}',
                 headers={"Content-Type": "application/json"})
    requests["kPythonPut"] = ("Python http.client PUT with JSON", rec.take())
    conn.close()

    conn = http.client.HTTPConnection("127.0.0.1", rec.port, timeout=5)
    conn.request("POST", "/ingest", body=iter([b"first,", b"second"]),
                 encode_chunked=True)
    requests["kPythonChunkedPost"] = ("Python http.client chunked POST", rec.take())
    conn.close()

    try:
        urllib.request.urlopen(url + "/status?verbose", timeout=5).read()
    except Exception:
        pass
    requests["kPythonUrllibGet"] = ("Python urllib GET", rec.take())

    async def websocket_handshake():
        try:
            async with websockets.connect(f"ws://127.0.0.1:{rec.port}/ws/telemetry",
                                          open_timeout=5, subprotocols=["mqtt"]):
                pass
        except Exception:
            pass  # the recorder answers 200, which the client refuses

    asyncio.run(websocket_handshake())
    requests["kPythonWebSocketUpgrade"] = (
        "Python websockets 10.4 opening handshake (RFC 6455 §4.1)", rec.take())
    return requests


def read_until_close(port, request):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(request)
        data = b""
        while True:
            piece = s.recv(65536)
            if not piece:
                return data
            data += piece


class Handler(http.server.SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass


def capture_responses(workdir):
    responses = {}
    site = workdir / "site"
    site.mkdir()
    (site / "hello.txt").write_bytes(b"Hello from mote's capture script.\n")
    port = free_port()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", port), lambda *a: Handler(*a, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    host = f"Host: 127.0.0.1:{port}\r\n".encode()
    responses["kPythonFileResponse"] = (
        "Python http.server 200 for a file (Content-Length, Last-Modified)",
        read_until_close(port, b"GET /hello.txt HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n"))
    responses["kPythonNotFound"] = (
        "Python http.server 404 with an HTML body",
        read_until_close(port, b"GET /missing HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n"))
    responses["kPythonHeadResponse"] = (
        "Python http.server answer to HEAD (Content-Length, no body)",
        read_until_close(port, b"HEAD /hello.txt HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n"))
    server.shutdown()

    port = free_port()
    script = """
const http = require('http');
const server = http.createServer((req, res) => {
  if (req.url === '/chunked') { res.write('first chunk,'); res.end(' last chunk'); }
  else if (req.url === '/empty') { res.writeHead(204); res.end(); }
  else if (req.url === '/notmodified') { res.writeHead(304, {ETag: '"v1"'}); res.end(); }
  else { res.setHeader('Content-Type', 'text/plain'); res.end('fixed body'); }
});
server.keepAliveTimeout = 200;
server.listen(%d, '127.0.0.1', () => console.log('ready'));
""" % port
    node = subprocess.Popen(["node", "-e", script], stdout=subprocess.PIPE, text=True)
    try:
        node.stdout.readline()
        host = f"Host: 127.0.0.1:{port}\r\n".encode()
        responses["kNodeChunkedResponse"] = (
            "Node.js 20 http: res.write + res.end (chunked)",
            read_until_close(port, b"GET /chunked HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n"))
        responses["kNodeKeepAlivePair"] = (
            "Node.js 20 http: two pipelined answers on one keep-alive connection",
            read_until_close(port, b"GET /a HTTP/1.1\r\n" + host + b"\r\n"
                             b"GET /chunked HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n"))
        responses["kNodeNoContent"] = (
            "Node.js 20 http: 204",
            read_until_close(port, b"GET /empty HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n"))
        responses["kNodeNotModified"] = (
            "Node.js 20 http: 304 with an ETag",
            read_until_close(port, b"GET /notmodified HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n"))
    finally:
        node.terminate()
        node.wait()
    return responses


def cpp_literal(data):
    """The bytes as C++ string literal pieces, one per line of the message."""
    lines, piece = [], ""
    for byte in data:
        c = chr(byte)
        if c == "\n":
            piece += "\\n"
            lines.append(piece)
            piece = ""
        elif c == "\r":
            piece += "\\r"
        elif c == '"':
            piece += '\\"'
        elif c == "\\":
            piece += "\\\\"
        elif 0x20 <= byte < 0x7F:
            piece += c
        else:
            piece += "\\x%02x\"\"" % byte
    if piece:
        lines.append(piece)
    return "\n".join(f'    "{line}"' for line in lines)


def seed_config(name):
    """The fuzzers' first byte (see http/fuzz/*_parser_fuzzer.cpp): 1 KiB
    heads, no other limits; responses answer GET, or HEAD for the HEAD one."""
    if name.startswith("kCurl") or name in ("kPythonPut", "kPythonChunkedPost", "kPythonUrllibGet",
                                            "kPythonWebSocketUpgrade"):
        return 0x0F
    return 0x3D if name == "kPythonHeadResponse" else 0x3C


def main():
    for tool in ("curl", "node"):
        if subprocess.run(["which", tool], capture_output=True).returncode != 0:
            sys.exit(f"{tool} is needed")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = pathlib.Path(tmp)
        requests = capture_requests(workdir)
        responses = capture_responses(workdir)
    out = [
        "#pragma once",
        "// Real HTTP/1.1 messages captured on loopback by capture.py: do not edit",
        "// by hand. Requests from curl 7.88, Python 3.11's http.client/urllib and",
        "// python3-websockets 10.4; responses from Python's http.server and Node.js",
        "// 20's http module.",
        "",
        "#include <string_view>",
        "",
        "namespace mote::http::testdata {",
        "",
        "using namespace std::string_view_literals;",
        "",
    ]
    for kind, messages in (("request", requests), ("response", responses)):
        corpus = HTTP / "corpus" / f"http_{kind}_parser_fuzzer"
        corpus.mkdir(parents=True, exist_ok=True)
        for name, (what, data) in messages.items():
            out.append(f"// {what}")
            out.append(f"inline constexpr std::string_view {name} =")
            out.append(cpp_literal(data) + "sv;")
            out.append("")
            (corpus / (name[1:] + ".http")).write_bytes(bytes([seed_config(name)]) + data)
    out.append("}  // namespace mote::http::testdata")
    (HERE / "captures.hpp").write_text("\n".join(out) + "\n")
    print(f"{len(requests)} requests, {len(responses)} responses")


if __name__ == "__main__":
    main()
