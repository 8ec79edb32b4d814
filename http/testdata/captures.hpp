#pragma once
// Real HTTP/1.1 messages captured on loopback by capture.py: do not edit
// by hand. Requests from curl 7.88, Python 3.11's http.client/urllib and
// python3-websockets 10.4; responses from Python's http.server and Node.js
// 20's http module.

#include <string_view>

namespace mote::http::testdata {

using namespace std::string_view_literals;

// curl 7.88 GET
inline constexpr std::string_view kCurlGet =
    "GET /index.html HTTP/1.1\r\n"
    "Host: 127.0.0.1:33183\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "\r\n"sv;

// curl -I (HEAD)
inline constexpr std::string_view kCurlHead =
    "HEAD /index.html HTTP/1.1\r\n"
    "Host: 127.0.0.1:33183\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "\r\n"sv;

// curl -d (urlencoded POST with Content-Length)
inline constexpr std::string_view kCurlPostForm =
    "POST /api/devices HTTP/1.1\r\n"
    "Host: 127.0.0.1:33183\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "Content-Length: 24\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\n"
    "\r\n"
    "name=sensor-1&value=21.5"sv;

// curl chunked upload of a file
inline constexpr std::string_view kCurlChunkedUpload =
    "POST /upload HTTP/1.1\r\n"
    "Host: 127.0.0.1:33183\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "Transfer-Encoding: chunked\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\n"
    "\r\n"
    "57\r\n"
    "temperature=21.5\n"
    "humidity=40\n"
    "temperature=21.5\n"
    "humidity=40\n"
    "temperature=21.5\n"
    "humidity=40\n"
    "\r\n"
    "0\r\n"
    "\r\n"sv;

// curl -r 0-99 with If-None-Match
inline constexpr std::string_view kCurlRangeConditional =
    "GET /file.bin HTTP/1.1\r\n"
    "Host: 127.0.0.1:33183\r\n"
    "Range: bytes=0-99\r\n"
    "User-Agent: curl/7.88.1\r\n"
    "Accept: */*\r\n"
    "If-None-Match: \"abc\"\r\n"
    "\r\n"sv;

// Python http.client PUT with JSON
inline constexpr std::string_view kPythonPut =
    "PUT /api/devices/7?force=1 HTTP/1.1\r\n"
    "Host: 127.0.0.1:33183\r\n"
    "Accept-Encoding: identity\r\n"
    "Content-Length: 16\r\n"
    "Content-Type: application/json\r\n"
    "\r\n"
    "{\"name\":\"probe\"}"sv;

// Python http.client chunked POST
inline constexpr std::string_view kPythonChunkedPost =
    "POST /ingest HTTP/1.1\r\n"
    "Host: 127.0.0.1:33183\r\n"
    "Accept-Encoding: identity\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n"
    "6\r\n"
    "first,\r\n"
    "6\r\n"
    "second\r\n"
    "0\r\n"
    "\r\n"sv;

// Python urllib GET
inline constexpr std::string_view kPythonUrllibGet =
    "GET /status?verbose HTTP/1.1\r\n"
    "Accept-Encoding: identity\r\n"
    "Host: 127.0.0.1:33183\r\n"
    "User-Agent: Python-urllib/3.11\r\n"
    "Connection: close\r\n"
    "\r\n"sv;

// Python websockets 10.4 opening handshake (RFC 6455 §4.1)
inline constexpr std::string_view kPythonWebSocketUpgrade =
    "GET /ws/telemetry HTTP/1.1\r\n"
    "Host: 127.0.0.1:33183\r\n"
    "Upgrade: websocket\r\n"
    "Connection: Upgrade\r\n"
    "Sec-WebSocket-Key: 28+QPddnDG9Yr1NL3djt7g==\r\n"
    "Sec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"
    "Sec-WebSocket-Protocol: mqtt\r\n"
    "User-Agent: Python/3.11 websockets/10.4\r\n"
    "\r\n"sv;

// Python http.server 200 for a file (Content-Length, Last-Modified)
inline constexpr std::string_view kPythonFileResponse =
    "HTTP/1.1 200 OK\r\n"
    "Server: SimpleHTTP/0.6 Python/3.11.2\r\n"
    "Date: Sat, 21 Nov 2026 08:59:25 GMT\r\n"
    "Content-type: text/plain\r\n"
    "Content-Length: 34\r\n"
    "Last-Modified: Sat, 21 Nov 2026 08:59:25 GMT\r\n"
    "\r\n"
    "Hello from mote's capture script.\n"sv;

// Python http.server 404 with an HTML body
inline constexpr std::string_view kPythonNotFound =
    "HTTP/1.1 404 File not found\r\n"
    "Server: SimpleHTTP/0.6 Python/3.11.2\r\n"
    "Date: Sat, 21 Nov 2026 08:59:25 GMT\r\n"
    "Connection: close\r\n"
    "Content-Type: text/html;charset=utf-8\r\n"
    "Content-Length: 335\r\n"
    "\r\n"
    "<!DOCTYPE HTML>\n"
    "<html lang=\"en\">\n"
    "    <head>\n"
    "        <meta charset=\"utf-8\">\n"
    "        <title>Error response</title>\n"
    "    </head>\n"
    "    <body>\n"
    "        <h1>Error response</h1>\n"
    "        <p>Error code: 404</p>\n"
    "        <p>Message: File not found.</p>\n"
    "        <p>Error code explanation: 404 - Nothing matches the given URI.</p>\n"
    "    </body>\n"
    "</html>\n"sv;

// Python http.server answer to HEAD (Content-Length, no body)
inline constexpr std::string_view kPythonHeadResponse =
    "HTTP/1.1 200 OK\r\n"
    "Server: SimpleHTTP/0.6 Python/3.11.2\r\n"
    "Date: Sat, 21 Nov 2026 08:59:25 GMT\r\n"
    "Content-type: text/plain\r\n"
    "Content-Length: 34\r\n"
    "Last-Modified: Sat, 21 Nov 2026 08:59:25 GMT\r\n"
    "\r\n"sv;

// Node.js 20 http: res.write + res.end (chunked)
inline constexpr std::string_view kNodeChunkedResponse =
    "HTTP/1.1 200 OK\r\n"
    "Date: Sat, 21 Nov 2026 08:59:26 GMT\r\n"
    "Connection: close\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n"
    "c\r\n"
    "first chunk,\r\n"
    "b\r\n"
    " last chunk\r\n"
    "0\r\n"
    "\r\n"sv;

// Node.js 20 http: two pipelined answers on one keep-alive connection
inline constexpr std::string_view kNodeKeepAlivePair =
    "HTTP/1.1 200 OK\r\n"
    "Content-Type: text/plain\r\n"
    "Date: Sat, 21 Nov 2026 08:59:26 GMT\r\n"
    "Connection: keep-alive\r\n"
    "Keep-Alive: timeout=0\r\n"
    "Content-Length: 10\r\n"
    "\r\n"
    "fixed bodyHTTP/1.1 200 OK\r\n"
    "Date: Sat, 21 Nov 2026 08:59:26 GMT\r\n"
    "Connection: close\r\n"
    "Transfer-Encoding: chunked\r\n"
    "\r\n"
    "c\r\n"
    "first chunk,\r\n"
    "b\r\n"
    " last chunk\r\n"
    "0\r\n"
    "\r\n"sv;

// Node.js 20 http: 204
inline constexpr std::string_view kNodeNoContent =
    "HTTP/1.1 204 No Content\r\n"
    "Date: Sat, 21 Nov 2026 08:59:26 GMT\r\n"
    "Connection: close\r\n"
    "\r\n"sv;

// Node.js 20 http: 304 with an ETag
inline constexpr std::string_view kNodeNotModified =
    "HTTP/1.1 304 Not Modified\r\n"
    "ETag: \"v1\"\r\n"
    "Date: Sat, 21 Nov 2026 08:59:26 GMT\r\n"
    "Connection: close\r\n"
    "\r\n"sv;

}  // namespace mote::http::testdata
