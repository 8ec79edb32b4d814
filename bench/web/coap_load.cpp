// mote_coap_load: a CoAP load generator for bench/web/run, the same one for
// every server it compares. Confirmable GETs over UDP from --sockets
// sockets, --window requests outstanding on each (a closed loop: every
// answer sends the next request on its slot), on one thread with epoll,
// recvmmsg and sendmmsg. Each request has its own message ID and token;
// an answer counts only if it parses (mote's codec), is an ACK with the
// request's message ID and token, and carries 2.05 Content. A request
// unanswered for --timeout-ms counts as lost and its slot sends a new one
// (no retransmission: a loaded server's losses show up as `lost`).
//
// Runs --warmup seconds unmeasured, then --duration seconds or --requests
// answers, whichever comes first; prints one line of JSON:
//   {"requests":N,"seconds":S,"rps":R,"p50_us":..,"p90_us":..,"p99_us":..,
//    "max_us":..,"lost":N,"bad":N,"payload_bytes":N}
// Latency is from the sendmmsg that carried a request to the recvmmsg that
// returned its answer.

#include <algorithm>
#include <arpa/inet.h>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <netinet/in.h>
#include <string_view>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "mote/coap/message.hpp"

namespace {

using namespace mote;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kBatch = 64;
constexpr std::size_t kTokenSize = 4;

struct Options {
  std::string_view host = "127.0.0.1";
  unsigned port = 5683;
  unsigned sockets = 8;
  unsigned window = 16;
  double warmup = 1;
  double duration = 10;
  std::uint64_t requests = 0;  // 0: no limit besides the duration
  unsigned timeout_ms = 1000;
};

struct Slot {
  std::uint16_t message_id = 0;
  std::uint16_t generation = 0;  // goes into the token with the slot number
  Clock::time_point sent;
  bool busy = false;
};

struct Socket {
  int fd = -1;
  std::uint16_t next_message_id = 0;
  std::vector<Slot> slots;
  std::vector<std::uint32_t> to_send;  // slot numbers with a request to send
};

struct Totals {
  std::uint64_t answered = 0;
  std::uint64_t lost = 0;
  std::uint64_t bad = 0;
  std::size_t payload_bytes = 0;
  std::vector<std::uint32_t> latencies_ns;  // while measuring
};

bool parse_flag(std::string_view flag, std::string_view value, Options& options) {
  auto number = [&](auto& out) {
    return std::from_chars(value.data(), value.data() + value.size(), out).ec == std::errc{};
  };
  if (flag == "--host") {
    options.host = value;
    return true;
  }
  if (flag == "--port") return number(options.port);
  if (flag == "--sockets") return number(options.sockets) && options.sockets > 0;
  if (flag == "--window") return number(options.window) && options.window > 0;
  if (flag == "--warmup") return number(options.warmup);
  if (flag == "--duration") return number(options.duration);
  if (flag == "--requests") return number(options.requests);
  if (flag == "--timeout-ms") return number(options.timeout_ms);
  return false;
}

// A GET / with the slot's message ID and token: slot number and generation,
// big-endian, so an answer names its slot.
std::size_t encode_request(Socket& socket, std::uint32_t slot_number, std::byte* out) {
  Slot& slot = socket.slots[slot_number];
  slot.message_id = socket.next_message_id++;
  ++slot.generation;
  std::byte token[kTokenSize];
  store_be16(token, static_cast<std::uint16_t>(slot_number));
  store_be16(token + 2, slot.generation);
  coap::MessageWriter writer(ByteSpan(out, coap::kMaxMessageSize), coap::Type::confirmable,
                             coap::codes::kGet, slot.message_id, ConstByteSpan(token, kTokenSize));
  return writer.finish().value_or(0);
}

// Sends every queued request of `socket` with as few sendmmsg calls as fit.
void flush(Socket& socket, std::vector<std::byte>& scratch) {
  std::size_t done = 0;
  while (done < socket.to_send.size()) {
    const std::size_t count = std::min(kBatch, socket.to_send.size() - done);
    mmsghdr messages[kBatch]{};
    iovec vectors[kBatch];
    for (std::size_t i = 0; i < count; ++i) {
      std::byte* buffer = scratch.data() + i * coap::kMaxMessageSize;
      vectors[i] = {buffer, encode_request(socket, socket.to_send[done + i], buffer)};
      messages[i].msg_hdr.msg_iov = &vectors[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    const int sent = ::sendmmsg(socket.fd, messages, static_cast<unsigned>(count), 0);
    const Clock::time_point now = Clock::now();
    // A datagram the kernel refused (a full buffer) is as good as lost:
    // its slot times out and sends again.
    const std::size_t accepted = sent < 0 ? count : static_cast<std::size_t>(sent);
    for (std::size_t i = 0; i < count; ++i) {
      Slot& slot = socket.slots[socket.to_send[done + i]];
      slot.busy = true;
      slot.sent = i < accepted ? now : now - std::chrono::hours(1);
    }
    done += count;
  }
  socket.to_send.clear();
}

void receive(Socket& socket, std::vector<std::byte>& scratch, bool measuring, Totals& totals) {
  for (;;) {
    mmsghdr messages[kBatch]{};
    iovec vectors[kBatch];
    for (std::size_t i = 0; i < kBatch; ++i) {
      vectors[i] = {scratch.data() + i * coap::kMaxMessageSize, coap::kMaxMessageSize};
      messages[i].msg_hdr.msg_iov = &vectors[i];
      messages[i].msg_hdr.msg_iovlen = 1;
    }
    const int got = ::recvmmsg(socket.fd, messages, kBatch, MSG_DONTWAIT, nullptr);
    if (got <= 0) return;
    const Clock::time_point now = Clock::now();
    for (int i = 0; i < got; ++i) {
      const Result<coap::Message> message = coap::Message::parse(
          ConstByteSpan(static_cast<const std::byte*>(vectors[i].iov_base), messages[i].msg_len));
      if (!message.ok() || message->token().size() != kTokenSize) {
        ++totals.bad;
        continue;
      }
      const std::uint16_t slot_number = load_be16(message->token().data());
      const std::uint16_t generation = load_be16(message->token().data() + 2);
      if (slot_number >= socket.slots.size()) {
        ++totals.bad;
        continue;
      }
      Slot& slot = socket.slots[slot_number];
      // An answer to a request already given up: ignore it.
      if (!slot.busy || slot.generation != generation) continue;
      if (message->type() != coap::Type::acknowledgement ||
          message->message_id() != slot.message_id || message->code() != coap::codes::kContent) {
        ++totals.bad;
      } else {
        ++totals.answered;
        totals.payload_bytes = message->payload().size();
        if (measuring) {
          totals.latencies_ns.push_back(static_cast<std::uint32_t>(std::min<std::int64_t>(
              std::chrono::duration_cast<std::chrono::nanoseconds>(now - slot.sent).count(),
              UINT32_MAX)));
        }
      }
      slot.busy = false;
      socket.to_send.push_back(slot_number);
    }
    if (static_cast<std::size_t>(got) < kBatch) return;
  }
}

double percentile_us(const std::vector<std::uint32_t>& sorted, double fraction) {
  if (sorted.empty()) return 0;
  const auto index = static_cast<std::size_t>(fraction * static_cast<double>(sorted.size() - 1));
  return sorted[index] / 1000.0;
}

}  // namespace

int main(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; i += 2) {
    if (i + 1 >= argc || !parse_flag(argv[i], argv[i + 1], options)) {
      std::fprintf(stderr,
                   "usage: mote_coap_load --port PORT [--host 127.0.0.1] [--sockets 8] "
                   "[--window 16] [--warmup 1] [--duration 10] [--requests N] "
                   "[--timeout-ms 1000]\n");
      return 2;
    }
  }
  sockaddr_in server{};
  server.sin_family = AF_INET;
  server.sin_port = htons(static_cast<std::uint16_t>(options.port));
  const std::string host(options.host);
  if (::inet_pton(AF_INET, host.c_str(), &server.sin_addr) != 1) {
    std::fprintf(stderr, "not an IPv4 address: %s\n", host.c_str());
    return 2;
  }

  const int epoll = ::epoll_create1(EPOLL_CLOEXEC);
  std::vector<Socket> sockets(options.sockets);
  std::uint32_t seed = static_cast<std::uint32_t>(::getpid()) * 2654435761u;
  for (std::size_t i = 0; i < sockets.size(); ++i) {
    Socket& socket = sockets[i];
    socket.fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (socket.fd < 0 ||
        ::connect(socket.fd, reinterpret_cast<sockaddr*>(&server), sizeof server) != 0) {
      std::perror("socket");
      return 1;
    }
    seed ^= seed << 13;
    seed ^= seed >> 17;
    seed ^= seed << 5;
    socket.next_message_id = static_cast<std::uint16_t>(seed);
    socket.slots.resize(options.window);
    for (std::uint32_t s = 0; s < options.window; ++s) socket.to_send.push_back(s);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u64 = i;
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, socket.fd, &event);
  }

  std::vector<std::byte> scratch(kBatch * coap::kMaxMessageSize);
  Totals totals;
  totals.latencies_ns.reserve(4'000'000);
  const auto seconds = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  const Clock::time_point start = Clock::now();
  const Clock::time_point measure_from = start + seconds(options.warmup);
  const Clock::time_point measure_until = measure_from + seconds(options.duration);
  const auto timeout = std::chrono::milliseconds(options.timeout_ms);
  Clock::time_point next_sweep = start + std::chrono::milliseconds(100);
  bool measuring = false;
  std::uint64_t answered_before = 0;
  Clock::time_point measured_start = measure_from;
  Clock::time_point measured_end = measure_until;

  for (Socket& socket : sockets) flush(socket, scratch);
  for (;;) {
    Clock::time_point now = Clock::now();
    if (!measuring && now >= measure_from) {
      measuring = true;
      answered_before = totals.answered;
      measured_start = now;
    }
    if (measuring &&
        (now >= measure_until ||
         (options.requests != 0 && totals.answered - answered_before >= options.requests))) {
      measured_end = now;
      break;
    }
    epoll_event events[64];
    const int ready = ::epoll_wait(epoll, events, 64, 10);
    for (int i = 0; i < ready; ++i) {
      Socket& socket = sockets[events[i].data.u64];
      receive(socket, scratch, measuring, totals);
      flush(socket, scratch);
    }
    now = Clock::now();
    if (now >= next_sweep) {
      next_sweep = now + std::chrono::milliseconds(100);
      for (Socket& socket : sockets) {
        for (std::uint32_t s = 0; s < socket.slots.size(); ++s) {
          Slot& slot = socket.slots[s];
          if (slot.busy && now - slot.sent > timeout) {
            slot.busy = false;
            ++totals.lost;
            socket.to_send.push_back(s);
          }
        }
        flush(socket, scratch);
      }
    }
  }

  const double elapsed = std::chrono::duration<double>(measured_end - measured_start).count();
  const std::uint64_t requests = totals.answered - answered_before;
  std::vector<std::uint32_t>& latencies = totals.latencies_ns;
  std::sort(latencies.begin(), latencies.end());
  std::printf("{\"requests\":%" PRIu64
              ",\"seconds\":%.3f,\"rps\":%.0f,\"p50_us\":%.1f,\"p90_us\":%.1f,"
              "\"p99_us\":%.1f,\"max_us\":%.1f,\"lost\":%" PRIu64 ",\"bad\":%" PRIu64
              ",\"payload_bytes\":%zu,\"sockets\":%u,\"window\":%u}\n",
              requests, elapsed, elapsed > 0 ? static_cast<double>(requests) / elapsed : 0.0,
              percentile_us(latencies, 0.50), percentile_us(latencies, 0.90),
              percentile_us(latencies, 0.99), latencies.empty() ? 0.0 : latencies.back() / 1000.0,
              totals.lost, totals.bad, totals.payload_bytes, options.sockets, options.window);
  for (Socket& socket : sockets) ::close(socket.fd);
  ::close(epoll);
  return requests > 0 && totals.bad == 0 ? 0 : 1;
}
