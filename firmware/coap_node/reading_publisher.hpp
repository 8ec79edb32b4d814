#pragma once
// How the firmware node hands a reading to the gateway, apart from where the
// reading comes from: main.cpp is written against the ReadingPublisher
// concept, and CoapReadingPublisher is its CoAP implementation (POST to the
// gateway's ingest resource, docs/gateway.md). An MQTT publisher over mote's
// TCP is the other implementation to come; the sampling loop does not change.
//
//   ReadingPublisher:
//     publish(metric, milli_value, unit)  one reading; ok once the gateway
//                                         has taken it
//     publish_status(text)                "online" / "offline"
//   Both complete with the gateway's verdict or the transport's error
//   (deadline_exceeded while the gateway is away); the caller decides
//   whether to send again.

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "mote/async/task.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/status.hpp"
#include "mote/coap/client.hpp"
#include "mote/gateway/reading_format.hpp"
#include "mote/io/address.hpp"
#include "mote/io/concepts.hpp"

namespace mote::firmware {

template <typename P>
concept ReadingPublisher = requires(P& publisher, std::string_view text, std::int64_t milli) {
  { publisher.publish(text, milli, text) } -> std::same_as<async::Task<Status>>;
  { publisher.publish_status(text) } -> std::same_as<async::Task<Status>>;
};

// POST /<prefix>/<device>/<metric> with the reading as JSON (Content-Format
// 50), confirmable, through a coap::Client whose run() loop the caller runs.
// The node has no wall clock, so readings carry no time_ms: the gateway
// stamps them on arrival.
template <io::DatagramSocket Socket, std::size_t kExchanges>
class CoapReadingPublisher {
 public:
  static constexpr std::uint16_t kContentFormatJson = 50;  // RFC 7252 §12.3
  static constexpr std::uint16_t kContentFormatText = 0;   // text/plain; charset=utf-8

  // `client` and the names must outlive the publisher.
  CoapReadingPublisher(coap::Client<Socket, kExchanges>& client, io::Endpoint gateway,
                       std::string_view prefix, std::string_view device)
      : client_(client), gateway_(gateway), prefix_(prefix), device_(device) {}

  async::Task<Status> publish(std::string_view metric, std::int64_t milli_value,
                              std::string_view unit) {
    std::byte payload[96];
    MOTE_CO_TRY_ASSIGN(const std::size_t size,
                       gateway::format_reading(payload, milli_value, unit, std::nullopt));
    co_return co_await post(metric, ConstByteSpan(payload, size), kContentFormatJson);
  }

  async::Task<Status> publish_status(std::string_view status) {
    co_return co_await post("status", as_bytes(status), kContentFormatText);
  }

  // The gateway's answer to the last request that got one (2.04 when taken).
  [[nodiscard]] std::optional<coap::Code> last_code() const { return last_code_; }

 private:
  static ConstByteSpan as_bytes(std::string_view text) {
    return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
  }

  async::Task<Status> post(std::string_view metric, ConstByteSpan payload,
                           std::uint16_t content_format) {
    char path[3 * 65 + 2];
    MOTE_CO_TRY_ASSIGN(const std::size_t path_len,
                       gateway::format_topic(path, prefix_, device_, metric));
    coap::Request request;
    request.method = coap::codes::kPost;
    request.path = std::string_view(path, path_len);
    request.payload = payload;
    request.content_format = content_format;
    MOTE_CO_TRY_ASSIGN(const coap::Response response,
                       co_await client_.request(gateway_, request, response_));
    last_code_ = response.code;
    // 4.00: the gateway read the reading and refused it (docs/gateway.md);
    // sending it again would not help.
    if (response.code == coap::codes::kBadRequest) co_return Status::invalid_argument();
    if (response.code != coap::codes::kChanged) co_return Status::unavailable();
    co_return ok_status();
  }

  coap::Client<Socket, kExchanges>& client_;
  io::Endpoint gateway_;
  std::string_view prefix_;
  std::string_view device_;
  std::byte response_[256];
  std::optional<coap::Code> last_code_;
};

}  // namespace mote::firmware
