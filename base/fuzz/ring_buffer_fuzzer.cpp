// Differential fuzzer: the input is a program of push/pop/inspect operations
// run on RingBuffer<uint32_t, 7> and on std::deque, which must agree after
// every step. 7 is deliberately not a power of two.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>

#include "mote/base/ring_buffer.hpp"

namespace {

constexpr std::size_t kCapacity = 7;
using Buffer = mote::RingBuffer<std::uint32_t, kCapacity>;

void check(bool condition, const char* what) {
  if (!condition) {
    std::fprintf(stderr, "ring_buffer_fuzzer: %s\n", what);
    std::abort();
  }
}

void check_same(const Buffer& buffer, const std::deque<std::uint32_t>& model) {
  check(buffer.size() == model.size(), "size differs");
  check(buffer.empty() == model.empty(), "empty() differs");
  check(buffer.full() == (model.size() == kCapacity), "full() differs");
  if (!model.empty()) {
    check(buffer.front() == model.front(), "front differs");
    check(buffer.back() == model.back(), "back differs");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* input, std::size_t size) {
  Buffer buffer;
  std::deque<std::uint32_t> model;
  std::uint32_t next_value = 0;

  for (std::size_t i = 0; i < size; ++i) {
    const std::uint8_t op = input[i];
    switch (op % 8) {
      case 0:
      case 1:
      case 2: {  // push (most common, so the buffer fills and wraps)
        std::uint32_t value = next_value++ * 2654435761u ^ op;
        bool pushed =
            (op & 0x80) != 0 ? buffer.try_emplace_back(value) : buffer.try_push_back(value);
        check(pushed == (model.size() < kCapacity), "push succeeded or failed wrongly");
        if (pushed) model.push_back(value);
        break;
      }
      case 3:
      case 4: {  // pop
        if (model.empty()) break;
        check(buffer.pop_front() == model.front(), "popped the wrong value");
        model.pop_front();
        break;
      }
      case 5: {  // index from the front
        if (model.empty()) break;
        std::size_t index = static_cast<std::size_t>(op >> 3) % model.size();
        check(buffer[index] == model[index], "operator[] differs");
        break;
      }
      case 6: {  // iterate
        std::size_t index = 0;
        for (std::uint32_t value : buffer) {
          check(index < model.size() && value == model[index], "iteration differs");
          ++index;
        }
        check(index == model.size(), "iteration length differs");
        break;
      }
      default: {
        if ((op & 0xf0) == 0xf0) {  // rare: clear
          buffer.clear();
          model.clear();
        } else {  // copy, and continue on the copy
          Buffer copy(buffer);
          buffer = copy;
        }
        break;
      }
    }
    check_same(buffer, model);
  }
  return 0;
}
