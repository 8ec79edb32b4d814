#include "mote/websocket/deflate.hpp"

#include <algorithm>
#include <array>
#include <zlib.h>

#include "mote/websocket/handshake.hpp"

namespace mote::websocket {
namespace {

constexpr std::string_view kName = "permessage-deflate";
// §7.2.1: a compressed message without the flush's empty stored block.
constexpr std::array<std::byte, 4> kTail = {std::byte{0x00}, std::byte{0x00}, std::byte{0xff},
                                            std::byte{0xff}};
// zlib's raw deflate cannot produce 8-bit windows (deflateInit2 refuses them).
constexpr std::uint8_t kMinCompressorBits = 9;

Result<std::uint8_t> window_bits(std::string_view value) {
  // §7.1.2.1: "a decimal integer value without leading zeroes between 8 to 15, inclusive".
  if (value.size() == 1 && value[0] >= '8' && value[0] <= '9') {
    return static_cast<std::uint8_t>(value[0] - '0');
  }
  if (value.size() == 2 && value[0] == '1' && value[1] >= '0' && value[1] <= '5') {
    return static_cast<std::uint8_t>(10 + value[1] - '0');
  }
  return Status::invalid_argument();
}

std::uint8_t clamp_bits(std::uint8_t bits) {
  return std::clamp<std::uint8_t>(bits, kMinCompressorBits, 15);
}

}  // namespace

Result<DeflateParameters> parse_deflate_parameters(ExtensionParams list, bool is_offer,
                                                   bool* client_window_bits_offered) {
  DeflateParameters parameters;
  bool seen[4] = {false, false, false, false};
  ExtensionParam param;
  while (list.next(param)) {
    int which = -1;
    if (param.name == "server_no_context_takeover") which = 0;
    if (param.name == "client_no_context_takeover") which = 1;
    if (param.name == "server_max_window_bits") which = 2;
    if (param.name == "client_max_window_bits") which = 3;
    if (which < 0 || seen[which]) return Status::invalid_argument();
    seen[which] = true;
    if (which < 2) {
      if (param.has_value) return Status::invalid_argument();
      (which == 0 ? parameters.server_no_context_takeover : parameters.client_no_context_takeover) =
          true;
      continue;
    }
    if (!param.has_value) {
      // Only an offer's client_max_window_bits may come bare (§7.1.2.2).
      if (which != 3 || !is_offer) return Status::invalid_argument();
      continue;
    }
    Result<std::uint8_t> bits = window_bits(param.value);
    if (!bits.ok()) return bits.status();
    (which == 2 ? parameters.server_max_window_bits : parameters.client_max_window_bits) = *bits;
  }
  if (client_window_bits_offered != nullptr) *client_window_bits_offered = seen[3];
  return parameters;
}

struct PerMessageDeflate::Zlib {
  z_stream deflater{};
  z_stream inflater{};
  bool deflater_ready = false;
  bool inflater_ready = false;
  ~Zlib() {
    if (deflater_ready) deflateEnd(&deflater);
    if (inflater_ready) inflateEnd(&inflater);
  }
};

PerMessageDeflate::PerMessageDeflate(DeflateOptions options) : options_(options) {
  options_.server_max_window_bits = clamp_bits(options_.server_max_window_bits);
  options_.client_max_window_bits = clamp_bits(options_.client_max_window_bits);
}
PerMessageDeflate::PerMessageDeflate(PerMessageDeflate&&) noexcept = default;
PerMessageDeflate& PerMessageDeflate::operator=(PerMessageDeflate&&) noexcept = default;
PerMessageDeflate::~PerMessageDeflate() = default;

std::string_view PerMessageDeflate::client_offer() {
  offer_ = kName;
  if (options_.server_no_context_takeover) offer_ += "; server_no_context_takeover";
  if (options_.client_no_context_takeover) offer_ += "; client_no_context_takeover";
  if (options_.server_max_window_bits < 15) {
    offer_ += "; server_max_window_bits=";
    offer_ += std::to_string(options_.server_max_window_bits);
  }
  // Always offered: a server may then limit the client's window (§7.1.2.2).
  offer_ += "; client_max_window_bits";
  if (options_.client_max_window_bits < 15) {
    offer_ += '=';
    offer_ += std::to_string(options_.client_max_window_bits);
  }
  return offer_;
}

Status PerMessageDeflate::accept_response(const http::HeaderList& headers) {
  bool found = false;
  for (std::string_view value : headers.values("Sec-WebSocket-Extensions")) {
    ExtensionList list(value);
    ExtensionOffer extension;
    for (;;) {
      Result<bool> more = list.next(extension);
      if (!more.ok()) return Status::failed_precondition();
      if (!*more) break;
      // §9.1: only what was offered, and permessage-deflate once.
      if (extension.name != kName || found) return Status::failed_precondition();
      found = true;
      Result<DeflateParameters> agreed = parse_deflate_parameters(extension.params, false);
      if (!agreed.ok()) return Status::failed_precondition();
      // §7.1.2.1: the server may not raise a limit the client set;
      // §7.1.2.2: the client's window, if limited, must be one zlib can make.
      if (agreed->server_max_window_bits > options_.server_max_window_bits ||
          agreed->client_max_window_bits < kMinCompressorBits) {
        return Status::failed_precondition();
      }
      if (options_.server_no_context_takeover && !agreed->server_no_context_takeover) {
        return Status::failed_precondition();
      }
      parameters_ = *agreed;
    }
  }
  if (!found) return ok_status();
  return start(false);
}

Result<std::string_view> PerMessageDeflate::negotiate(const http::HeaderList& headers) {
  for (std::string_view value : headers.values("Sec-WebSocket-Extensions")) {
    ExtensionList list(value);
    ExtensionOffer extension;
    for (;;) {
      Result<bool> more = list.next(extension);
      if (!more.ok()) return Status::invalid_argument();
      if (!*more) break;
      if (extension.name != kName) continue;
      bool client_bits_offered = false;
      Result<DeflateParameters> offer =
          parse_deflate_parameters(extension.params, true, &client_bits_offered);
      // §7.1: decline an offer that is malformed or that zlib cannot honour.
      if (!offer.ok() || offer->server_max_window_bits < kMinCompressorBits) continue;
      DeflateParameters agreed;
      agreed.server_no_context_takeover =
          offer->server_no_context_takeover || options_.server_no_context_takeover;
      agreed.client_no_context_takeover =
          offer->client_no_context_takeover || options_.client_no_context_takeover;
      agreed.server_max_window_bits =
          std::min(offer->server_max_window_bits, options_.server_max_window_bits);
      agreed.client_max_window_bits =
          client_bits_offered
              ? std::min(offer->client_max_window_bits, options_.client_max_window_bits)
              : 15;
      response_ = kName;
      if (agreed.server_no_context_takeover) response_ += "; server_no_context_takeover";
      if (agreed.client_no_context_takeover) response_ += "; client_no_context_takeover";
      if (offer->server_max_window_bits < 15 || agreed.server_max_window_bits < 15) {
        response_ += "; server_max_window_bits=" + std::to_string(agreed.server_max_window_bits);
      }
      if (client_bits_offered && agreed.client_max_window_bits < 15) {
        response_ += "; client_max_window_bits=" + std::to_string(agreed.client_max_window_bits);
      }
      parameters_ = agreed;
      MOTE_TRY(start(true));
      return std::string_view(response_);
    }
  }
  return std::string_view();
}

Status PerMessageDeflate::start(bool is_server) {
  zlib_ = std::make_unique<Zlib>();
  // This side compresses within its own window limit and the agreed one;
  // it inflates with the largest window, which reads any smaller one.
  const std::uint8_t own_limit =
      is_server ? parameters_.server_max_window_bits : parameters_.client_max_window_bits;
  const std::uint8_t own_choice =
      is_server ? options_.server_max_window_bits : options_.client_max_window_bits;
  const int bits = std::max<int>(kMinCompressorBits, std::min(own_limit, own_choice));
  if (deflateInit2(&zlib_->deflater, options_.level, Z_DEFLATED, -bits, options_.memory_level,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    return Status::resource_exhausted();
  }
  zlib_->deflater_ready = true;
  if (inflateInit2(&zlib_->inflater, -15) != Z_OK) return Status::resource_exhausted();
  zlib_->inflater_ready = true;
  reset_compressor_ =
      is_server ? parameters_.server_no_context_takeover : parameters_.client_no_context_takeover;
  reset_decompressor_ =
      is_server ? parameters_.client_no_context_takeover : parameters_.server_no_context_takeover;
  active_ = true;
  return ok_status();
}

Result<ConstByteSpan> PerMessageDeflate::compress(ConstByteSpan message) {
  if (!active_) return Status::failed_precondition();
  z_stream& z = zlib_->deflater;
  compressed_.resize(deflateBound(&z, message.size()) + 16);
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): zlib's API is not const-correct.
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(message.data()));
  z.avail_in = static_cast<uInt>(message.size());
  std::size_t produced = 0;
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(compressed_.data() + produced);
    z.avail_out = static_cast<uInt>(compressed_.size() - produced);
    const int result = deflate(&z, Z_SYNC_FLUSH);
    produced = compressed_.size() - z.avail_out;
    if (result != Z_OK && result != Z_BUF_ERROR) return Status::internal();
    if (z.avail_in == 0 && z.avail_out != 0) break;
    compressed_.resize(compressed_.size() * 2);
  }
  // §7.2.1: remove the 4 octets 0x00 0x00 0xff 0xff at the tail end.
  if (produced >= kTail.size() &&
      std::equal(kTail.begin(), kTail.end(),
                 compressed_.begin() + static_cast<std::ptrdiff_t>(produced - kTail.size()))) {
    produced -= kTail.size();
  }
  if (produced == 0) {
    // zlib emits nothing for an empty message right after a flush; §7.2.3.6
    // sends a lone 0x00 (with the tail, an empty stored block).
    compressed_[0] = std::byte{0x00};
    produced = 1;
  }
  if (reset_compressor_) deflateReset(&z);
  return ConstByteSpan(compressed_).first(produced);
}

Result<std::size_t> PerMessageDeflate::decompress(ConstByteSpan in, ByteSpan out) {
  if (!active_) return Status::failed_precondition();
  z_stream& z = zlib_->inflater;
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-const-cast): zlib's API is not const-correct.
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  for (;;) {
    const int result = inflate(&z, Z_SYNC_FLUSH);
    if (result == Z_STREAM_END) {
      // A final block (BFINAL): what follows, if anything, is a new stream.
      inflateReset(&z);
      if (z.avail_in == 0) break;
      continue;
    }
    if (result != Z_OK && result != Z_BUF_ERROR) return Status::data_loss();
    if (z.avail_out == 0) {
      if (z.avail_in != 0) return Status::resource_exhausted();
      // Output may still be pending inside zlib: one more byte says.
      std::byte probe{};
      z.next_out = reinterpret_cast<Bytef*>(&probe);
      z.avail_out = 1;
      const int more = inflate(&z, Z_SYNC_FLUSH);
      if (z.avail_out == 0) return Status::resource_exhausted();
      if (more != Z_OK && more != Z_BUF_ERROR && more != Z_STREAM_END) return Status::data_loss();
      z.avail_out = 0;
      break;
    }
    if (z.avail_in == 0) break;
    if (result == Z_BUF_ERROR) return Status::data_loss();
  }
  return out.size() - z.avail_out;
}

Result<std::size_t> PerMessageDeflate::end_message(ByteSpan out) {
  // §7.2.2: append 0x00 0x00 0xff 0xff to the payload and inflate that too.
  Result<std::size_t> produced = decompress(kTail, out);
  if (produced.ok() && reset_decompressor_) inflateReset(&zlib_->inflater);
  return produced;
}

}  // namespace mote::websocket
