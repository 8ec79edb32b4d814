#include "mote/hal/sim/pin.hpp"

namespace mote::hal::sim {

Status SimPin::set(bool high) {
  if (!failure_.ok()) return failure_;
  record(high);
  change_level(high);
  return ok_status();
}

Status SimPin::toggle() { return set(!level_); }

Result<bool> SimPin::read() const {
  if (!failure_.ok()) return failure_;
  return level_;
}

void SimPin::fail(Status status) {
  failure_ = status;
  while (!waiters_.empty()) {
    WaitAwaiter& waiter = waiters_.pop_front();
    waiter.status_ = status;
    waiter.waker_.wake();
  }
}

void SimPin::record(bool high) {
  ++write_count_;
  if (!history_.full()) history_.push_back(high);
}

void SimPin::change_level(bool high) {
  if (high == level_) return;
  level_ = high;
  ++edge_count_;
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    WaitAwaiter& waiter = *it;
    ++it;  // before the waiter leaves the list
    if (!waiter.wants(high)) continue;
    waiters_.remove(waiter);
    waiter.status_ = ok_status();
    waiter.waker_.wake();
  }
}

bool SimPin::WaitAwaiter::wants(bool new_level) const {
  switch (edge_) {
    case Edge::rising: return new_level;
    case Edge::falling: return !new_level;
    case Edge::any: return true;
  }
  return false;
}

bool SimPin::WaitAwaiter::await_ready() {
  if (!pin_.failure_.ok()) {
    status_ = pin_.failure_;
    return true;
  }
  if (!pin_.edge_detection_) {
    status_ = Status::failed_precondition();
    return true;
  }
  return complete_if_at_level_ && wants(pin_.level_);
}

void SimPin::WaitAwaiter::await_suspend(std::coroutine_handle<> suspended) {
  waker_ = async::Waker(async::park(suspended));
  pin_.waiters_.push_back(*this);
}

}  // namespace mote::hal::sim
