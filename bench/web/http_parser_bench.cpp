// mote_http_parser_bench: RequestParser::parse_head on a 703-byte browser
// request, the size of picohttpparser's own benchmark request (about 6.7M
// parses/s measured on this kind of machine; docs/benchmarks.md). The
// request is mote's own: a dashboard page load
// with the fields a current browser sends. Each iteration parses the whole
// head from one buffer (the usual case: a request arrives in one read),
// then reset()s.
//   build/release/bench/web/mote_http_parser_bench
//   --benchmark_filter=whole|split   (split: the head arrives in two reads)

#include <array>
#include <benchmark/benchmark.h>
#include <string_view>

#include "mote/http/parser.hpp"

namespace {

using namespace mote;
using namespace mote::http;

constexpr std::string_view kRequest =
    "GET /dashboard/devices/greenhouse-7/readings?metric=temperature&from=2026-11-20T00:00:00Z "
    "HTTP/1.1\r\n"
    "Host: gateway.example.net:8080\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/"
    "*;q=0.8\r\n"
    "Accept-Language: en-GB,en;q=0.7,de;q=0.3\r\n"
    "Accept-Encoding: gzip, deflate, br, zstd\r\n"
    "Referer: http://gateway.example.net:8080/dashboard/devices\r\n"
    "Connection: keep-alive\r\n"
    "Cookie: session=7f3a9c2e41d84b0fa6e1c5d2b8e9f017a1b2c3; theme=dark; chart-range=24h\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "Sec-Fetch-Dest: document\r\n"
    "Sec-Fetch-Mode: navigate\r\n"
    "Sec-Fetch-Site: same-origin\r\n"
    "Cache-Control: max-age=0\r\n"
    "\r\n";
static_assert(kRequest.size() == 703);

// Parses the request `state.iterations()` times; with `first_read` > 0 the
// head comes in two reads, the first `first_read` bytes and then all of it
// (what the server does when a head straddles two reads).
void parse(benchmark::State& state, std::size_t first_read) {
  std::array<Header, 32> fields;
  RequestParser parser(fields);
  const ConstByteSpan bytes = bytes_of(kRequest);
  for (auto _ : state) {
    parser.reset();
    if (first_read != 0) {
      const Result<std::size_t> partial = parser.parse_head(bytes.first(first_read));
      if (!partial.ok() || *partial != 0) {
        state.SkipWithError("the first part did not wait for more");
        break;
      }
    }
    const Result<std::size_t> parsed = parser.parse_head(bytes);
    if (!parsed.ok() || *parsed != kRequest.size() || parser.head().headers.size() != 13) {
      state.SkipWithError("the request did not parse");
      break;
    }
    benchmark::DoNotOptimize(parser.head());
  }
  state.counters["parses/s"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * kRequest.size()));
}

void whole(benchmark::State& state) { parse(state, 0); }
BENCHMARK(whole);

void split(benchmark::State& state) { parse(state, 400); }
BENCHMARK(split);

}  // namespace

BENCHMARK_MAIN();
