#pragma once
// permessage-deflate (RFC 7692) for Connection, on zlib. Host only.
//
//   Connection<KernelTcpStream, PerMessageDeflate> ws(std::move(stream), Role::server,
//                                                     buffers, {}, PerMessageDeflate({}));
//
// Negotiation (§7.1): a server takes the first permessage-deflate offer it
// can honour and declines the rest (an offer with an unknown, repeated or
// malformed parameter, or one that limits the server's window to 8 bits,
// which zlib's raw deflate cannot produce). A client offers one set of
// parameters and fails the handshake on a response it cannot accept.
//
// Messages: every data message is compressed whole (RFC 7692 §7.2.1, the
// trailing 00 00 ff ff removed) and may then be fragmented. Received
// messages are inflated as their frames arrive, straight into the
// caller's buffer; the connection's message size limit bounds the
// *decompressed* size, so a small message cannot inflate past it (1009).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/http/headers.hpp"
#include "mote/websocket/handshake.hpp"

namespace mote::websocket {

// What this endpoint asks for (client) or grants (server).
struct DeflateOptions {
  // Reset the server's compression context after each message (a server
  // with this set asks it of itself; a client asks it of the server).
  bool server_no_context_takeover = false;
  // Reset the client's compression context after each message.
  bool client_no_context_takeover = false;
  // LZ77 window sizes as log2, 9..15: the most this side's compressor uses
  // (its memory), and the most it asks the peer to use (the peer's).
  std::uint8_t server_max_window_bits = 15;
  std::uint8_t client_max_window_bits = 15;
  // zlib compression level 0..9 (6 is zlib's default).
  int level = 6;
  // zlib memLevel 1..9: memory for compression state (8 is zlib's default).
  int memory_level = 8;
};

// The agreed parameters (§7.1.1, §7.1.2).
struct DeflateParameters {
  bool server_no_context_takeover = false;
  bool client_no_context_takeover = false;
  std::uint8_t server_max_window_bits = 15;
  std::uint8_t client_max_window_bits = 15;
};

class PerMessageDeflate {
 public:
  explicit PerMessageDeflate(DeflateOptions options = {});
  PerMessageDeflate(PerMessageDeflate&&) noexcept;
  PerMessageDeflate& operator=(PerMessageDeflate&&) noexcept;
  ~PerMessageDeflate();

  // --- MessageExtension (connection.hpp) ---
  [[nodiscard]] bool active() const { return active_; }
  std::string_view client_offer();
  Status accept_response(const http::HeaderList& headers);
  Result<std::string_view> negotiate(const http::HeaderList& headers);
  Result<ConstByteSpan> compress(ConstByteSpan message);
  Result<std::size_t> decompress(ConstByteSpan in, ByteSpan out);
  Result<std::size_t> end_message(ByteSpan out);

  // Valid once active().
  [[nodiscard]] const DeflateParameters& parameters() const { return parameters_; }

 private:
  struct Zlib;
  Status start(bool is_server);

  DeflateOptions options_;
  DeflateParameters parameters_;
  bool active_ = false;
  bool reset_compressor_ = false;    // this side's no_context_takeover
  bool reset_decompressor_ = false;  // the peer's
  std::string offer_;
  std::string response_;
  std::vector<std::byte> compressed_;
  std::unique_ptr<Zlib> zlib_;  // z_streams point at themselves: never moved
};

// Checks one permessage-deflate offer or response's parameters (§7.1):
// names known, none repeated, window bits 8..15 where a value is given
// (client_max_window_bits may come without one in an offer). Exposed for
// the fuzzer and tests.
Result<DeflateParameters> parse_deflate_parameters(ExtensionParams params, bool is_offer,
                                                   bool* client_window_bits_offered = nullptr);

}  // namespace mote::websocket
