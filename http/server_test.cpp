// The server on kernel sockets against real clients on 127.0.0.1: curl for
// GET/HEAD/keep-alive/uploads/ranges/conditionals/errors, python3 for what
// curl cannot do (a slow client, raw pipelining, an upgrade).

#include "mote/http/server.hpp"

#include <array>
#include <cstdio>
#include <gtest/gtest.h>
#include <optional>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "fuzz/parse_stream.hpp"
#include "mote/http/static_files.hpp"
#include "mote/platform/kernel_sockets.hpp"
#include "mote/testing/process.hpp"

namespace mote::http {
namespace {

using namespace std::chrono_literals;
using platform::KernelTcpListener;
using platform::KernelTcpStream;
using testing::ChildProcess;

struct Exchange {
  int exit_code = -1;
  std::string output;  // stdout
  std::string errors;  // stderr
};

class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MOTE_SKIP_UNLESS_PROGRAM("curl");
    files_dir = dir.path() + "/site";
    ASSERT_EQ(::mkdir(files_dir.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((files_dir + "/css").c_str(), 0755), 0);
    dir.write("site/index.html", "<h1>mote</h1>\n");
    dir.write("site/css/site.css", "body { color: red; }\n");
    std::string data;
    for (int i = 0; i < 5000; ++i) data += static_cast<char>('a' + i % 26);
    dir.write("site/data.bin", data);
    dir.write("secret.txt", "outside the site\n");
    ASSERT_EQ(::symlink((dir.path() + "/secret.txt").c_str(), (files_dir + "/escape.txt").c_str()),
              0);

    ASSERT_TRUE(
        router
            .add("GET", "/hello",
                 [](Request&, ResponseWriter& response) { return response.send(200, "hello\n"); })
            .ok());
    ASSERT_TRUE(router
                    .add("GET", "/whoami",
                         // A coroutine itself: the text must outlive the send.
                         [this](Request& request, ResponseWriter& response) -> async::Task<Status> {
                           remote_ports.push_back(request.remote.port);
                           co_return co_await response.send(
                               200, std::to_string(request.remote.port) + "\n");
                         })
                    .ok());
    ASSERT_TRUE(router.add("GET", "/api/devices/{id}", &ServerTest::device).ok());
    ASSERT_TRUE(router.add("POST", "/echo", &ServerTest::echo).ok());
    ASSERT_TRUE(router.add("PUT", "/firmware", &ServerTest::digest, BodyHandling::stream).ok());
    ASSERT_TRUE(router.add("GET", "/stream", &ServerTest::stream).ok());
    ASSERT_TRUE(router
                    .add("GET", "/static/{path...}",
                         [this](Request& request, ResponseWriter& response) {
                           return files->serve(request, response, request.param("path"));
                         })
                    .ok());
    files.emplace(files_dir);
    ASSERT_TRUE(files->status().ok());
  }

  static async::Task<Status> device(Request& request, ResponseWriter& response) {
    response.set_header("X-Device", request.param("id"));
    co_return co_await response.send(200, R"({"id":")" + std::string(request.param("id")) + "\"}",
                                     "application/json");
  }

  // Answers with the body's size and a checksum, so big uploads need not
  // come back.
  static async::Task<Status> echo(Request& request, ResponseWriter& response) {
    std::uint64_t sum = 0;
    for (char c : request.body) sum = sum * 31 + static_cast<unsigned char>(c);
    co_return co_await response.send(
        200, std::to_string(request.body.size()) + " " + std::to_string(sum) + "\n");
  }

  // Reads the body piece by piece (a streaming route): its size, checksum
  // and how many pieces it came in.
  static async::Task<Status> digest(Request& request, ResponseWriter& response) {
    std::uint64_t size = 0;
    std::uint64_t sum = 0;
    std::size_t pieces = 0;
    for (;;) {
      MOTE_CO_TRY_ASSIGN(ConstByteSpan piece, co_await request.body_reader->read());
      if (piece.empty()) break;
      ++pieces;
      size += piece.size();
      for (std::byte b : piece) sum = sum * 31 + std::to_integer<unsigned char>(b);
    }
    co_return co_await response.send(200, std::to_string(size) + " " + std::to_string(sum) +
                                              (pieces > 1 ? " pieces\n" : " piece\n"));
  }

  // A chunked response in three writes.
  static async::Task<Status> stream(Request&, ResponseWriter& response) {
    MOTE_CO_TRY(co_await response.start(200, std::nullopt));
    for (std::string_view piece : {"one,", "two,", "three\n"}) {
      MOTE_CO_TRY(co_await response.write(piece));
    }
    co_return co_await response.finish();
  }

  void start_server() {
    port = testing::unused_port(SOCK_STREAM);
    Result<KernelTcpListener> listening =
        KernelTcpListener::listen(driver, io::Endpoint{io::Ipv4Address(127, 0, 0, 1), port});
    ASSERT_TRUE(listening.ok()) << listening.status().str();
    listener.emplace(std::move(*listening));
    server.emplace(*listener, router, options);
    ASSERT_TRUE(server->start(executor).ok());
  }

  // Starts the server on first use, so a test sets options before.
  std::string url(std::string_view path) {
    if (!server) start_server();
    return "http://127.0.0.1:" + std::to_string(port) + std::string(path);
  }

  // Runs a client while the executor serves; bounded to 20 s.
  Exchange run(std::vector<std::string> argv) {
    if (!server) start_server();
    ChildProcess child(std::move(argv));
    EXPECT_TRUE(child.started()) << child.describe();
    for (int i = 0; i < 1000 && child.running(); ++i) {
      static_cast<void>(executor.run_for(20ms));
    }
    Exchange exchange;
    exchange.exit_code = child.wait_for_exit(1s).value_or(-1);
    exchange.output = child.stdout_text();
    exchange.errors = child.stderr_text();
    return exchange;
  }

  Exchange curl(std::vector<std::string> args) {
    std::vector<std::string> argv = {"curl", "-sS", "--max-time", "10"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(std::move(argv));
  }

  // Python's raw sockets: `script` gets the port as sys.argv[1], then `args`.
  // read_all(s) is defined for it: everything until the server closes.
  Exchange python(const std::string& script, std::vector<std::string> args = {}) {
    if (!server) start_server();
    static const std::string kPrelude = R"(
import socket, sys, time
def read_all(s):
    data = b""
    while True:
        try:
            piece = s.recv(65536)
        except OSError:
            return data
        if not piece:
            return data
        data += piece
)";
    std::vector<std::string> argv = {"/usr/bin/python3", "-c", kPrelude + script,
                                     std::to_string(port)};
    argv.insert(argv.end(), args.begin(), args.end());
    return run(std::move(argv));
  }

  // Sends `request` over a raw connection (one byte every `delay_seconds`
  // if not 0) and returns everything received until the server closes.
  Exchange send_raw(const std::string& request, double delay_seconds = 0) {
    return python(R"(
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
payload, delay = sys.argv[2].encode("latin-1"), float(sys.argv[3])
try:
    if delay == 0:
        s.sendall(payload)
    else:
        for b in payload:
            s.sendall(bytes([b]))
            time.sleep(delay)
except OSError:
    pass
sys.stdout.buffer.write(read_all(s))
)",
                  {request, std::to_string(delay_seconds)});
  }

  testing::TempDir dir;
  std::string files_dir;
  platform::EpollDriver driver;
  async::Executor executor{driver};
  Router router;
  std::optional<StaticFiles> files;
  ServerOptions options;
  std::uint16_t port = 0;
  std::optional<KernelTcpListener> listener;
  std::optional<Server<KernelTcpListener>> server;
  std::vector<std::uint16_t> remote_ports;
};

// The responses in a raw byte stream, parsed by mote's own parser.
fuzz::StreamOutcome responses_in(std::string_view bytes) {
  std::array<Header, 32> fields;
  ResponseParser parser(fields);
  return fuzz::parse_stream(bytes, {}, parser);
}

std::string field_of(const fuzz::ParsedMessage& message, std::string_view name) {
  for (const auto& [key, value] : message.headers) {
    if (equals_ignore_case(key, name)) return value;
  }
  return "";
}

// The responses curl -i printed (heads and bodies, in order).
fuzz::StreamOutcome curl_responses(const Exchange& exchange) {
  return responses_in(exchange.output);
}

TEST_F(ServerTest, GetAndHead) {
  Exchange get = curl({"-i", url("/hello")});
  ASSERT_EQ(get.exit_code, 0) << get.errors;
  fuzz::StreamOutcome parsed = curl_responses(get);
  ASSERT_EQ(parsed.messages.size(), 1u) << get.output;
  EXPECT_EQ(parsed.messages[0].start, "200 OK 1.1");
  EXPECT_EQ(parsed.messages[0].body, "hello\n");
  EXPECT_EQ(field_of(parsed.messages[0], "Content-Type"), "text/plain; charset=utf-8");
  EXPECT_FALSE(field_of(parsed.messages[0], "Date").empty());

  Exchange head = curl({"-I", url("/hello")});
  ASSERT_EQ(head.exit_code, 0) << head.errors;
  EXPECT_NE(head.output.find("Content-Length: 6"), std::string::npos) << head.output;
  EXPECT_EQ(head.output.find("hello"), std::string::npos);

  // A request in absolute-form, as sent to a proxy (RFC 9112 §3.2.2).
  Exchange absolute = send_raw(
      "GET http://127.0.0.1/hello HTTP/1.1\r\nHost: x\r\n"
      "Connection: close\r\n\r\n");
  EXPECT_EQ(responses_in(absolute.output).messages.at(0).body, "hello\n") << absolute.output;

  Exchange device = curl({"-i", url("/api/devices/sensor%2D7")});
  parsed = curl_responses(device);
  ASSERT_EQ(parsed.messages.size(), 1u) << device.output;
  EXPECT_EQ(parsed.messages[0].body, R"({"id":"sensor-7"})");
  EXPECT_EQ(field_of(parsed.messages[0], "X-Device"), "sensor-7");
}

TEST_F(ServerTest, KeepAliveServesSeveralUrlsOnOneConnection) {
  Exchange exchange = curl({"-w", "connects=%{num_connects}\n", url("/whoami"), url("/hello"),
                            url("/whoami"), url("/static/index.html")});
  ASSERT_EQ(exchange.exit_code, 0) << exchange.errors;
  EXPECT_NE(exchange.output.find("hello\n"), std::string::npos);
  EXPECT_NE(exchange.output.find("<h1>mote</h1>"), std::string::npos);
  // curl opened one connection and reused it for the other three.
  EXPECT_EQ(exchange.output.find("connects=1"), exchange.output.rfind("connects=1"));
  ASSERT_EQ(remote_ports.size(), 2u);
  EXPECT_EQ(remote_ports[0], remote_ports[1]);
  // Static files and handlers ran within the connection's frame storage.
  EXPECT_GT(server->connection_frame_high_water(), 0u);
  EXPECT_LT(server->connection_frame_high_water(), kConnectionFrameBytes);
  std::printf("connection frame high water: %zu bytes\n", server->connection_frame_high_water());
}

TEST_F(ServerTest, ChunkedUploadOfAFile) {
  std::string data;
  for (int i = 0; i < 200000; ++i) data += static_cast<char>(i * 7 % 251);
  const std::string path = dir.write("upload.bin", data);
  std::uint64_t sum = 0;
  for (char c : data) sum = sum * 31 + static_cast<unsigned char>(c);
  Exchange exchange =
      curl({"-H", "Transfer-Encoding: chunked", "--data-binary", "@" + path, url("/echo")});
  ASSERT_EQ(exchange.exit_code, 0) << exchange.errors;
  EXPECT_EQ(exchange.output, "200000 " + std::to_string(sum) + "\n");
}

TEST_F(ServerTest, ContentLengthUploadAndChunkedResponse) {
  Exchange upload = curl({"--data-binary", "temperature=21.5", url("/echo")});
  ASSERT_EQ(upload.exit_code, 0) << upload.errors;
  std::uint64_t sum = 0;
  for (char c : std::string_view("temperature=21.5"))
    sum = sum * 31 + static_cast<unsigned char>(c);
  EXPECT_EQ(upload.output, "16 " + std::to_string(sum) + "\n");

  Exchange streamed = curl({"-i", "--raw", url("/stream")});  // --raw: chunks as sent
  fuzz::StreamOutcome parsed = curl_responses(streamed);
  ASSERT_EQ(parsed.messages.size(), 1u) << streamed.output;
  EXPECT_EQ(parsed.messages[0].framing, BodyFraming::chunked);
  EXPECT_EQ(parsed.messages[0].body, "one,two,three\n");

  // HTTP/1.0 has no chunked coding: the body runs until the server closes.
  Exchange old = curl({"-0", "-i", url("/stream")});
  ASSERT_EQ(old.exit_code, 0) << old.errors;
  EXPECT_EQ(old.output.find("chunked"), std::string::npos) << old.output;
  EXPECT_NE(old.output.find("Connection: close\r\n\r\none,two,three\n"), std::string::npos)
      << old.output;
}

TEST_F(ServerTest, StaticFilesWithTypesAndRanges) {
  Exchange css = curl({"-i", url("/static/css/site.css")});
  fuzz::StreamOutcome parsed = curl_responses(css);
  ASSERT_EQ(parsed.messages.size(), 1u) << css.output;
  EXPECT_EQ(field_of(parsed.messages[0], "Content-Type"), "text/css; charset=utf-8");
  EXPECT_EQ(parsed.messages[0].body, "body { color: red; }\n");

  Exchange index = curl({url("/static/")});
  EXPECT_EQ(index.output, "<h1>mote</h1>\n");

  Exchange range = curl({"-i", "-r", "26-51", url("/static/data.bin")});
  parsed = curl_responses(range);
  ASSERT_EQ(parsed.messages.size(), 1u) << range.output;
  EXPECT_EQ(parsed.messages[0].start, "206 Partial Content 1.1");
  EXPECT_EQ(field_of(parsed.messages[0], "Content-Range"), "bytes 26-51/5000");
  EXPECT_EQ(parsed.messages[0].body, "abcdefghijklmnopqrstuvwxyz");

  Exchange suffix = curl({"-r", "-4", url("/static/data.bin")});
  EXPECT_EQ(suffix.output, "efgh");  // bytes 4996..4999: 4996 % 26 == 4

  Exchange beyond = curl({"-i", "-r", "6000-7000", url("/static/data.bin")});
  parsed = curl_responses(beyond);
  ASSERT_EQ(parsed.messages.size(), 1u) << beyond.output;
  EXPECT_EQ(parsed.messages[0].start, "416 Range Not Satisfiable 1.1");
  EXPECT_EQ(field_of(parsed.messages[0], "Content-Range"), "bytes */5000");
}

TEST_F(ServerTest, ConditionalRequestsGetNotModified) {
  Exchange first = curl({"-i", url("/static/index.html")});
  fuzz::StreamOutcome parsed = curl_responses(first);
  ASSERT_EQ(parsed.messages.size(), 1u) << first.output;
  const std::string etag = field_of(parsed.messages[0], "ETag");
  const std::string last_modified = field_of(parsed.messages[0], "Last-Modified");
  ASSERT_FALSE(etag.empty());
  ASSERT_TRUE(parse_http_date(last_modified).has_value()) << last_modified;

  Exchange again =
      curl({"-i", "-H", "If-None-Match: \"other\", " + etag, url("/static/index.html")});
  parsed = curl_responses(again);
  ASSERT_EQ(parsed.messages.size(), 1u) << again.output;
  EXPECT_EQ(parsed.messages[0].start, "304 Not Modified 1.1");
  EXPECT_EQ(field_of(parsed.messages[0], "ETag"), etag);
  EXPECT_TRUE(parsed.messages[0].body.empty());

  Exchange changed = curl({"-i", "-H", "If-None-Match: \"other\"", url("/static/index.html")});
  EXPECT_EQ(curl_responses(changed).messages.at(0).start, "200 OK 1.1");

  Exchange since =
      curl({"-i", "-H", "If-Modified-Since: " + last_modified, url("/static/index.html")});
  EXPECT_EQ(curl_responses(since).messages.at(0).start, "304 Not Modified 1.1");
  Exchange old = curl(
      {"-i", "-H", "If-Modified-Since: Sun, 06 Nov 1994 08:49:37 GMT", url("/static/index.html")});
  EXPECT_EQ(curl_responses(old).messages.at(0).start, "200 OK 1.1");

  // If-Range with a stale validator: the whole file instead of the range.
  Exchange stale = curl({"-i", "-r", "0-3", "-H", "If-Range: \"stale\"", url("/static/data.bin")});
  EXPECT_EQ(curl_responses(stale).messages.at(0).start, "200 OK 1.1");
  Exchange fresh = curl({"-i", "-r", "0-3", "-H", "If-Range: " + etag, url("/static/index.html")});
  EXPECT_EQ(curl_responses(fresh).messages.at(0).body, "<h1>");
}

TEST_F(ServerTest, PathTraversalIsRefused) {
  for (const char* path :
       {"/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/css/..%2f..%2fsecret.txt",
        "/static/escape.txt", "/static/%00", "/static//etc/passwd"}) {
    Exchange exchange = curl({"--path-as-is", "-o", "/dev/null", "-w", "%{http_code}", url(path)});
    EXPECT_NE(exchange.output, "200") << path;
    EXPECT_EQ(exchange.output.find("outside"), std::string::npos) << path;
    EXPECT_TRUE(exchange.output == "404" || exchange.output == "400")
        << path << ": " << exchange.output;
  }
}

// Links that stay inside the root are followed: a relative one (openat2
// resolves it below the root), an absolute one and one that leaves a
// directory and comes back (openat2 refuses to judge those, realpath does);
// a relative one that leaves the root is not.
TEST_F(ServerTest, SymbolicLinksInsideTheRootAreServed) {
  ASSERT_EQ(::symlink("css/site.css", (files_dir + "/relative.css").c_str()), 0);
  ASSERT_EQ(::symlink((files_dir + "/index.html").c_str(), (files_dir + "/absolute.html").c_str()),
            0);
  ASSERT_EQ(::symlink("../index.html", (files_dir + "/css/up.html").c_str()), 0);
  ASSERT_EQ(::symlink("../secret.txt", (files_dir + "/up-and-out.txt").c_str()), 0);
  EXPECT_EQ(curl({url("/static/relative.css")}).output, "body { color: red; }\n");
  EXPECT_EQ(curl({url("/static/absolute.html")}).output, "<h1>mote</h1>\n");
  EXPECT_EQ(curl({url("/static/css/up.html")}).output, "<h1>mote</h1>\n");
  Exchange out = curl({"-o", "/dev/null", "-w", "%{http_code}", url("/static/up-and-out.txt")});
  EXPECT_EQ(out.output, "404");
  // A directory is answered with its index.html.
  EXPECT_EQ(curl({url("/static/")}).output, "<h1>mote</h1>\n");
}

TEST_F(ServerTest, NotFoundMethodNotAllowedAndTooLarge) {
  options.max_body_size = 1000;
  Exchange missing = curl({"-i", url("/nothing/here")});
  EXPECT_EQ(curl_responses(missing).messages.at(0).start, "404 Not Found 1.1");

  // A body for a path nobody handles is not read (nor invited with 100 Continue).
  const std::string upload = dir.write("upload.txt", std::string(3000, 'u'));
  Exchange unrouted = curl(
      {"-i", "-H", "Expect: 100-continue", "--data-binary", "@" + upload, url("/nothing/here")});
  EXPECT_EQ(curl_responses(unrouted).messages.at(0).start, "404 Not Found 1.1") << unrouted.output;
  EXPECT_EQ(unrouted.output.find("100 Continue"), std::string::npos);

  Exchange wrong = curl({"-i", "-X", "DELETE", url("/hello")});
  fuzz::StreamOutcome parsed = curl_responses(wrong);
  ASSERT_EQ(parsed.messages.size(), 1u) << wrong.output;
  EXPECT_EQ(parsed.messages[0].start, "405 Method Not Allowed 1.1");
  EXPECT_EQ(field_of(parsed.messages[0], "Allow"), "GET, HEAD");

  const std::string big = dir.write("big.txt", std::string(5000, 'x'));
  Exchange large = curl({"-i", "--data-binary", "@" + big, url("/echo")});
  EXPECT_EQ(curl_responses(large).messages.at(0).start, "413 Content Too Large 1.1")
      << large.output;

  Exchange chunked =
      curl({"-i", "-H", "Transfer-Encoding: chunked", "--data-binary", "@" + big, url("/echo")});
  EXPECT_EQ(curl_responses(chunked).messages.at(0).start, "413 Content Too Large 1.1")
      << chunked.output;
}

TEST_F(ServerTest, StreamingRoutesTakeBodiesLargerThanTheBufferedLimit) {
  options.max_body_size = 1000;
  options.max_streamed_body_size = 4 << 20;
  std::string data;
  for (int i = 0; i < (3 << 20); ++i) data += static_cast<char>(i * 13 % 253);
  const std::string path = dir.write("firmware.bin", data);
  std::uint64_t sum = 0;
  for (char c : data) sum = sum * 31 + static_cast<unsigned char>(c);
  const std::string expected =
      std::to_string(data.size()) + " " + std::to_string(sum) + " pieces\n";

  Exchange length = curl({"-T", path, url("/firmware")});  // PUT with Content-Length
  ASSERT_EQ(length.exit_code, 0) << length.errors;
  EXPECT_EQ(length.output, expected);
  Exchange chunked = curl({"-T", path, "-H", "Transfer-Encoding: chunked", url("/firmware")});
  ASSERT_EQ(chunked.exit_code, 0) << chunked.errors;
  EXPECT_EQ(chunked.output, expected);

  // The buffered route keeps its own limit; the streaming one its own.
  Exchange buffered =
      curl({"-o", "/dev/null", "-w", "%{http_code}", "--data-binary", "@" + path, url("/echo")});
  EXPECT_EQ(buffered.output, "413");
  const std::string huge = dir.write("huge.bin", std::string((4 << 20) + 1, 'h'));
  Exchange too_big = curl({"-o", "/dev/null", "-w", "%{http_code}", "-T", huge, url("/firmware")});
  EXPECT_EQ(too_big.output, "413");
  Exchange too_big_chunked = curl({"-o", "/dev/null", "-w", "%{http_code}", "-T", huge, "-H",
                                   "Transfer-Encoding: chunked", url("/firmware")});
  EXPECT_EQ(too_big_chunked.output, "413");
}

TEST_F(ServerTest, PipelinedRequestsAreAnsweredInOrder) {
  const Exchange exchange = send_raw(
      "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
      "GET /api/devices/2 HTTP/1.1\r\nHost: x\r\n\r\n"
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nz\r\n0\r\n\r\n"
      "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(exchange.exit_code, 0) << exchange.errors;
  fuzz::StreamOutcome parsed = responses_in(exchange.output);
  EXPECT_EQ(parsed.error, ParseError::none);
  ASSERT_EQ(parsed.messages.size(), 5u) << exchange.output;
  EXPECT_EQ(parsed.messages[0].body, "hello\n");
  EXPECT_EQ(parsed.messages[1].body, "3 " + std::to_string((97 * 31 + 98) * 31 + 99) + "\n");
  EXPECT_EQ(parsed.messages[2].body, R"({"id":"2"})");
  EXPECT_EQ(parsed.messages[3].body, "1 122\n");
  EXPECT_EQ(parsed.messages[4].body, "hello\n");
  EXPECT_FALSE(parsed.messages[4].keep_alive);
}

// Heads larger than the connection's first buffer (2 KiB), pipelined with a
// body and with small requests: the buffer grows and the head is parsed again.
TEST_F(ServerTest, HeadsLargerThanTheFirstBufferArePipelined) {
  const std::string cookie(5000, 'c');
  const Exchange exchange =
      send_raw("GET /api/devices/big HTTP/1.1\r\nHost: x\r\nCookie: " + cookie + "\r\n\r\n" +
               "POST /echo HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(1500, 'p') +
               "\r\nContent-Length: 3\r\n\r\nabc"
               "GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(exchange.exit_code, 0) << exchange.errors;
  fuzz::StreamOutcome parsed = responses_in(exchange.output);
  EXPECT_EQ(parsed.error, ParseError::none);
  ASSERT_EQ(parsed.messages.size(), 3u) << exchange.output;
  EXPECT_EQ(parsed.messages[0].body, R"({"id":"big"})");
  EXPECT_EQ(parsed.messages[1].body, "3 " + std::to_string((97 * 31 + 98) * 31 + 99) + "\n");
  EXPECT_EQ(parsed.messages[2].body, "hello\n");
}

TEST_F(ServerTest, ManyConcurrentKeepAliveClients) {
  // 20 connections open at once, each with 10 requests answered in turn.
  const Exchange exchange = python(R"(
import http.client, threading
results = []
def client(i):
    c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=10)
    for j in range(10):
        c.request("GET", "/api/devices/%d-%d" % (i, j))
        r = c.getresponse()
        results.append(r.read() == b'{"id":"%d-%d"}' % (i, j))
    c.close()
threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
for t in threads: t.start()
for t in threads: t.join()
print(sum(results), len(results))
)");
  ASSERT_EQ(exchange.exit_code, 0) << exchange.errors;
  EXPECT_EQ(exchange.output, "200 200\n");
}

TEST_F(ServerTest, ConnectionsBeyondTheLimitAreClosed) {
  options.max_connections = 2;
  const Exchange exchange = python(R"(
port = int(sys.argv[1])
held = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(2)]
time.sleep(0.2)
extra = socket.create_connection(("127.0.0.1", port), timeout=5)
try:
    refused = extra.recv(100) == b""
except ConnectionResetError:
    refused = True
answers = []
for s in held:
    s.sendall(b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    answers.append(read_all(s).endswith(b"hello\n"))
print(refused, answers)
)");
  ASSERT_EQ(exchange.exit_code, 0) << exchange.errors;
  EXPECT_EQ(exchange.output, "True [True, True]\n");
}

TEST_F(ServerTest, ExpectContinueAndHttp10KeepAlive) {
  // The client waits for "100 Continue" before it sends the body.
  const Exchange expect = python(R"(
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nExpect: 100-continue\r\n"
          b"Connection: close\r\n\r\n")
interim = s.recv(65536)
s.sendall(b"abc")
sys.stdout.buffer.write(interim + read_all(s).split(b"\r\n\r\n")[1])
)");
  ASSERT_EQ(expect.exit_code, 0) << expect.errors;
  EXPECT_EQ(expect.output,
            "HTTP/1.1 100 Continue\r\n\r\n3 " + std::to_string((97 * 31 + 98) * 31 + 99) + "\n");

  // HTTP/1.0 keeps the connection only when asked to, and says so.
  const Exchange old = send_raw(
      "GET /hello HTTP/1.0\r\nConnection: keep-alive\r\n\r\n"
      "GET /hello HTTP/1.0\r\n\r\n");
  ASSERT_EQ(old.exit_code, 0) << old.errors;
  fuzz::StreamOutcome parsed = responses_in(old.output);
  ASSERT_EQ(parsed.messages.size(), 2u) << old.output;
  EXPECT_EQ(field_of(parsed.messages[0], "Connection"), "keep-alive");
  EXPECT_EQ(field_of(parsed.messages[1], "Connection"), "close");
  EXPECT_EQ(parsed.messages[1].body, "hello\n");
}

TEST_F(ServerTest, SlowAndIdleClientsAreTimedOut) {
  options.head_timeout = 300ms;
  options.idle_timeout = 300ms;
  // Half a head, then nothing: 408 and the connection closes.
  const Exchange slow = send_raw("GET /hello HTTP/1.1\r\nHost: x\r\n");
  ASSERT_EQ(slow.exit_code, 0) << slow.errors;
  EXPECT_EQ(responses_in(slow.output).messages.at(0).start, "408 Request Timeout 1.1")
      << slow.output;

  // A byte at a time, slower than the head timeout allows in total.
  const Exchange dribble = send_raw("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 0.05);
  ASSERT_EQ(dribble.exit_code, 0) << dribble.errors;
  EXPECT_NE(dribble.output.find("408 Request Timeout"), std::string::npos) << dribble.output;

  // A request, then silence: answered, then closed without a word.
  const Exchange idle = send_raw("GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  ASSERT_EQ(idle.exit_code, 0) << idle.errors;
  fuzz::StreamOutcome parsed = responses_in(idle.output);
  ASSERT_EQ(parsed.messages.size(), 1u) << idle.output;
  EXPECT_EQ(parsed.messages[0].body, "hello\n");
  EXPECT_EQ(server->connections(), 0u);
}

TEST_F(ServerTest, MalformedRequestsGetTheirStatusAndAClose) {
  const std::pair<std::string, std::string> cases[] = {
      {"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
       "0\r\n\r\n",
       "400 Bad Request"},
      {"GET /hello HTTP/1.1\r\nHost : x\r\n\r\n", "400 Bad Request"},
      {"GET /hello HTTP/1.1\r\nHost: x\r\nX: " + std::string(9000, 'y') + "\r\n\r\n",
       "431 Request Header Fields Too Large"},
      {"GET /" + std::string(9000, 'y') + " HTTP/1.1\r\n\r\n", "414 URI Too Long"},
      {"GET /hello HTTP/2.0\r\nHost: x\r\n\r\n", "505 HTTP Version Not Supported"},
      {"GET /hello HTTP/1.1\r\n\r\n", "400 Bad Request"},
      {"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       "501 Not Implemented"},
  };
  for (const auto& [request, status] : cases) {
    const Exchange exchange = send_raw(request);
    ASSERT_EQ(exchange.exit_code, 0) << exchange.errors;
    const fuzz::StreamOutcome parsed = responses_in(exchange.output);
    ASSERT_EQ(parsed.messages.size(), 1u) << exchange.output;
    EXPECT_EQ(parsed.messages[0].start, status + " 1.1");
    EXPECT_FALSE(parsed.messages[0].keep_alive);
  }
}

// RFC 9110 §9.3.2: no content in the answer to HEAD, even when the head is
// rejected after its request line (a client that believed the
// Content-Length would take the body for the next response).
TEST_F(ServerTest, RejectedHeadRequestsGetTheirStatusWithoutContent) {
  const std::pair<std::string, std::string> cases[] = {
      {"HEAD /hello HTTP/1.1\r\nHost: x\r\nX: " + std::string(9000, 'y') + "\r\n\r\n",
       "431 Request Header Fields Too Large"},
      {"HEAD /hello HTTP/1.1\r\nHost : x\r\n\r\n", "400 Bad Request"},
  };
  for (const auto& [request, status] : cases) {
    const Exchange exchange = send_raw(request);
    ASSERT_EQ(exchange.exit_code, 0) << exchange.errors;
    EXPECT_TRUE(exchange.output.starts_with("HTTP/1.1 " + status + "\r\n")) << exchange.output;
    const std::size_t head_end = exchange.output.find("\r\n\r\n");
    ASSERT_NE(head_end, std::string::npos) << exchange.output;
    EXPECT_EQ(head_end + 4, exchange.output.size()) << exchange.output;
  }
  // Without a request line the method is unknown: the error has its text.
  const Exchange garbled = send_raw("HEAD\r\n\r\n");
  ASSERT_EQ(garbled.exit_code, 0) << garbled.errors;
  const fuzz::StreamOutcome parsed = responses_in(garbled.output);
  ASSERT_EQ(parsed.messages.size(), 1u) << garbled.output;
  EXPECT_EQ(parsed.messages[0].body, "Bad Request\n");
}

// An upgrade handler that echoes bytes after a 101, the way a WebSocket
// handler takes over its connection.
async::Task<void> echo_protocol(Request& request, KernelTcpStream& stream, ConstByteSpan received) {
  StreamSink sink(stream);
  ResponseWriter response(sink, *request.head, true);
  if (!request.headers().has_token("Upgrade", "echo")) {
    static_cast<void>(co_await response.send(400, "echo only\n"));
    co_return;
  }
  MOTE_LOG_INFO("upgrade to echo with %zu early bytes", received.size());
  response.set_header("Upgrade", "echo");
  response.set_header("Connection", "Upgrade");
  if (!(co_await response.send(101)).ok()) co_return;
  if (!(co_await stream.write(received)).ok()) co_return;
  std::array<std::byte, 256> buffer;
  for (;;) {
    Result<std::size_t> n = co_await stream.read(buffer);
    if (!n.ok() || *n == 0) co_return;
    if (!(co_await stream.write(ConstByteSpan(buffer.data(), *n))).ok()) co_return;
  }
}

TEST_F(ServerTest, UpgradeHandsTheConnectionOver) {
  start_server();
  ASSERT_TRUE(server->on_upgrade("/ws/{channel}", echo_protocol).ok());
  const Exchange exchange = python(R"(
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
s.sendall(b"GET /ws/telemetry HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nearly;")
data = b""
while b"early;" not in data:
    data += s.recv(65536)
s.sendall(b"later")
while not data.endswith(b"later"):
    data += s.recv(65536)
s.shutdown(socket.SHUT_WR)
sys.stdout.buffer.write(data)
)");
  ASSERT_EQ(exchange.exit_code, 0) << exchange.errors;
  fuzz::StreamOutcome parsed = responses_in(exchange.output);
  ASSERT_EQ(parsed.messages.size(), 1u) << exchange.output;
  EXPECT_EQ(parsed.messages[0].start, "101 Switching Protocols 1.1");
  EXPECT_TRUE(parsed.messages[0].flag);  // switches protocol
  EXPECT_EQ(field_of(parsed.messages[0], "Upgrade"), "echo");
  EXPECT_EQ(exchange.output.substr(parsed.consumed), "early;later");
  // Without "Connection: upgrade" the same path goes to the router (404).
  Exchange plain = curl({"-o", "/dev/null", "-w", "%{http_code}", url("/ws/telemetry")});
  EXPECT_EQ(plain.output, "404");
}

}  // namespace
}  // namespace mote::http
