#pragma once
// Channel<T, N>: a bounded FIFO between tasks of one executor, with room for
// N values inside the channel itself (no allocation).
//
//   Status s = co_await channel.send(reading);           // waits while full
//   while (std::optional<Reading> r = co_await channel.receive()) { ... }
//
// send() wakes when there is room (or the channel closes: failed_precondition).
// receive() wakes when a value is there (or the channel is closed and drained:
// std::nullopt). Waiters are served in FIFO order.
//
// Cancellation loses nothing: a waiter that was woken is promised a slot or a
// value that stays in the channel until it runs; if it is cancelled first,
// the promise passes to the next waiter. A cancelled send has not sent.

#include <cstddef>
#include <optional>
#include <utility>

#include "mote/async/waiter.hpp"
#include "mote/base/ring_buffer.hpp"
#include "mote/base/status.hpp"

namespace mote::async {

template <typename T, std::size_t N>
class Channel {
  static_assert(N >= 1, "a channel holds at least one value");

 public:
  Channel() = default;
  Channel(const Channel&) = delete;
  Channel& operator=(const Channel&) = delete;
  ~Channel() { MOTE_ASSERT(senders_.empty() && receivers_.empty()); }

  // Without waiting: ok, resource_exhausted when full (the value is not
  // consumed), or failed_precondition when closed.
  Status try_send(T&& value) {
    if (closed_) return Status::failed_precondition();
    if (free_slots() == 0) return Status::resource_exhausted();
    push(std::move(value));
    return ok_status();
  }
  Status try_send(const T& value) {
    T copy(value);
    return try_send(std::move(copy));
  }

  // Without waiting: a value, or std::nullopt when none is available.
  std::optional<T> try_receive() {
    if (available() == 0) return std::nullopt;
    return pop_unpromised();
  }

  class [[nodiscard]] SendAwaiter;
  class [[nodiscard]] ReceiveAwaiter;
  SendAwaiter send(T value) { return SendAwaiter(*this, std::move(value)); }
  ReceiveAwaiter receive() { return ReceiveAwaiter(*this); }

  // Ends the channel: waiting and later sends fail with failed_precondition
  // (a send already granted a slot before close() still completes);
  // receivers drain what is left, then get std::nullopt.
  void close() {
    closed_ = true;
    while (!receivers_.empty()) receivers_.front().notify();
    while (!senders_.empty()) senders_.front().notify();
  }

  [[nodiscard]] bool closed() const { return closed_; }
  [[nodiscard]] std::size_t size() const { return buffer_.size(); }
  [[nodiscard]] bool empty() const { return buffer_.empty(); }
  [[nodiscard]] static constexpr std::size_t capacity() { return N; }

  class SendAwaiter : private internal::Waiter {
   public:
    SendAwaiter(Channel& channel, T&& value) : channel_(channel), value_(std::move(value)) {}
    ~SendAwaiter() {
      if (promised_slot_) {
        --channel_.promised_slots_;
        channel_.offer_slot();
      }
    }
    bool await_ready() {
      if (channel_.closed_) {
        result_ = Status::failed_precondition();
        return true;
      }
      if (channel_.free_slots() == 0) return false;
      channel_.push(std::move(value_));
      return true;
    }
    void await_suspend(std::coroutine_handle<> suspended) { park_on(channel_.senders_, suspended); }
    Status await_resume() {
      if (promised_slot_) {
        promised_slot_ = false;
        --channel_.promised_slots_;
        channel_.push(std::move(value_));
        return ok_status();
      }
      if (linked() || channel_.closed_) {
        unlink();
        return Status::failed_precondition();
      }
      return result_;
    }

   private:
    friend class Channel;
    Channel& channel_;
    T value_;
    Status result_;
    bool promised_slot_ = false;
  };

  class ReceiveAwaiter : private internal::Waiter {
   public:
    explicit ReceiveAwaiter(Channel& channel) : channel_(channel) {}
    ~ReceiveAwaiter() {
      if (promised_value_) {
        --channel_.promised_values_;
        channel_.offer_value();
      }
    }
    bool await_ready() const { return channel_.available() != 0 || channel_.closed_; }
    void await_suspend(std::coroutine_handle<> suspended) {
      park_on(channel_.receivers_, suspended);
    }
    std::optional<T> await_resume() {
      if (promised_value_) {
        promised_value_ = false;
        --channel_.promised_values_;
        return channel_.pop();
      }
      unlink();
      if (channel_.available() != 0) return channel_.pop_unpromised();
      return std::nullopt;
    }

   private:
    friend class Channel;
    Channel& channel_;
    bool promised_value_ = false;
  };

 private:
  std::size_t available() const { return buffer_.size() - promised_values_; }
  std::size_t free_slots() const { return N - buffer_.size() - promised_slots_; }

  void push(T&& value) {
    const bool pushed = buffer_.try_push_back(std::move(value));
    MOTE_ASSERT(pushed);
    offer_value();
  }
  // For a woken receiver: the values promised to woken receivers are the
  // oldest ones, at the front.
  T pop() {
    T value = buffer_.pop_front();
    offer_slot();
    return value;
  }
  // For anyone else: the oldest value not promised to a woken receiver, which
  // sits behind the promised ones (there is one per woken receiver that has
  // not run yet, so the shift is short).
  T pop_unpromised() {
    const std::size_t index = promised_values_;
    T value = std::move(buffer_[index]);
    for (std::size_t i = index; i > 0; --i) buffer_[i] = std::move(buffer_[i - 1]);
    (void)buffer_.pop_front();
    offer_slot();
    return value;
  }
  // A value became available: promise it to the first waiting receiver.
  void offer_value() {
    if (receivers_.empty() || available() == 0) return;
    auto& receiver = static_cast<ReceiveAwaiter&>(receivers_.front());
    receiver.promised_value_ = true;
    ++promised_values_;
    receiver.notify();
  }
  // A slot became free: promise it to the first waiting sender.
  void offer_slot() {
    if (senders_.empty() || free_slots() == 0) return;
    auto& sender = static_cast<SendAwaiter&>(senders_.front());
    sender.promised_slot_ = true;
    ++promised_slots_;
    sender.notify();
  }

  RingBuffer<T, N> buffer_;
  internal::WaitQueue senders_;
  internal::WaitQueue receivers_;
  std::size_t promised_values_ = 0;
  std::size_t promised_slots_ = 0;
  bool closed_ = false;
};

}  // namespace mote::async
