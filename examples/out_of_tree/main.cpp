// The smallest mote program on Linux: one task that sleeps and prints.
#include <chrono>
#include <cstdio>

#include "mote/async/executor.hpp"
#include "mote/async/sleep.hpp"
#include "mote/platform/epoll_driver.hpp"

using namespace std::chrono_literals;

namespace {

mote::async::Task<void> hello(int naps) {
  for (int i = 0; i < naps; ++i) co_await mote::async::sleep_for(10ms);
  std::puts("hello from mote");
}

mote::async::TaskStorage<1024> storage;  // the task's frames: no heap

}  // namespace

int main() {
  mote::platform::EpollDriver driver;
  if (!driver.status().ok()) return 1;
  mote::async::Executor executor(driver);
  if (!executor.spawn(storage, hello, 3).ok()) return 1;
  return executor.run().ok() ? 0 : 1;
}
