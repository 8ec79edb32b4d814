#pragma once
// A Stream for connection tests: reads come from a script of bytes (in
// pieces of at most `read_size`), then end of stream — or, with
// `wait_when_empty`, a read that waits until cancelled (more input may be
// added meanwhile by the task itself). Writes are recorded. Host only (tests).

#include <algorithm>
#include <cstddef>
#include <memory>
#include <vector>

#include "mote/async/event.hpp"
#include "mote/async/task.hpp"
#include "mote/base/bytes.hpp"
#include "mote/io/concepts.hpp"
#include "mote/websocket/frame.hpp"

namespace mote::websocket::scripted {

struct ScriptedStreamState {
  std::vector<std::byte> input;
  std::size_t position = 0;
  std::size_t read_size = 1 << 20;
  bool wait_when_empty = false;
  std::vector<std::byte> output;
  bool closed = false;
};

class ScriptedStream {
 public:
  explicit ScriptedStream(std::shared_ptr<ScriptedStreamState> state) : state_(std::move(state)) {}

  async::Task<Result<std::size_t>> read(ByteSpan buffer) {
    if (state_->closed) co_return Status::failed_precondition();
    while (state_->wait_when_empty && state_->position == state_->input.size()) {
      co_await never_->wait();
    }
    const std::size_t n =
        std::min({buffer.size(), state_->read_size, state_->input.size() - state_->position});
    std::copy_n(state_->input.begin() + static_cast<std::ptrdiff_t>(state_->position), n,
                buffer.begin());
    state_->position += n;
    co_return n;
  }
  async::Task<Status> write(ConstByteSpan data) {
    if (state_->closed) co_return Status::failed_precondition();
    state_->output.insert(state_->output.end(), data.begin(), data.end());
    co_return ok_status();
  }
  Status shutdown_write() { return ok_status(); }
  void close() { state_->closed = true; }
  Result<io::Endpoint> remote_endpoint() { return Status::unimplemented(); }

 private:
  std::shared_ptr<ScriptedStreamState> state_;
  std::unique_ptr<async::Event> never_ = std::make_unique<async::Event>();  // never set
};
static_assert(io::Stream<ScriptedStream>);

// One frame's bytes, masked with `key` when `masked`.
inline std::vector<std::byte> make_frame(Opcode opcode, ConstByteSpan payload, bool fin = true,
                                         bool masked = true, std::uint8_t rsv = 0,
                                         MaskKey key = {std::byte{0x37}, std::byte{0xfa},
                                                        std::byte{0x21}, std::byte{0x3d}}) {
  FrameHeader header;
  header.fin = fin;
  header.rsv = rsv;
  header.opcode = opcode;
  header.masked = masked;
  header.mask_key = key;
  header.payload_length = payload.size();
  std::vector<std::byte> bytes(header.encoded_size() + payload.size());
  const std::size_t size = encode_frame_header(header, bytes).value_or(0);
  if (masked) {
    copy_masked(payload, ByteSpan(bytes).subspan(size), key);
  } else {
    std::copy(payload.begin(), payload.end(), bytes.begin() + static_cast<std::ptrdiff_t>(size));
  }
  return bytes;
}

// A frame taken apart again: header and unmasked payload.
struct DecodedFrame {
  FrameHeader header;
  std::vector<std::byte> payload;
};

// Splits `bytes` into frames as `receiver` would read them; stops at the
// first incomplete or bad one.
inline std::vector<DecodedFrame> split_frames(ConstByteSpan bytes, Role receiver,
                                              std::uint8_t allowed_rsv = 0) {
  std::vector<DecodedFrame> frames;
  while (!bytes.empty()) {
    const FrameParse parse = parse_frame_header(bytes, FrameRules{receiver, allowed_rsv});
    if (!parse.complete() || bytes.size() - parse.header_size < parse.header.payload_length) break;
    DecodedFrame frame{parse.header, {}};
    const ConstByteSpan payload =
        bytes.subspan(parse.header_size, static_cast<std::size_t>(parse.header.payload_length));
    frame.payload.assign(payload.begin(), payload.end());
    if (parse.header.masked) apply_mask(frame.payload, parse.header.mask_key);
    frames.push_back(std::move(frame));
    bytes = bytes.subspan(parse.header_size + payload.size());
  }
  return frames;
}

}  // namespace mote::websocket::scripted
