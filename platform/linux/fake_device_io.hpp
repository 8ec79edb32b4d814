#pragma once
// FakeDeviceIo: the kernel below the ioctl boundary, for tests of the GPIO,
// i2c-dev and spidev backends. open() hands out real descriptors (of
// /dev/null) and remembers which path each came from; ioctl() calls the
// test's handler, which checks the request and answers as the kernel would
// (filling the argument, or failing with errno through fail()).

#include <cerrno>
#include <fcntl.h>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "mote/platform/device_io.hpp"

namespace mote::platform::testing {

// Fails the call with `error`, as the kernel does.
inline int fail(int error) {
  errno = error;
  return -1;
}

class FakeDeviceIo final : public DeviceIo {
 public:
  using Handler = std::function<int(const std::string& path, unsigned long request, void* arg)>;

  explicit FakeDeviceIo(Handler handler = nullptr) : handler_(std::move(handler)) {}

  void set_handler(Handler handler) {
    const std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
  }
  // open(path) fails with `error` (ENOENT, EACCES, ...).
  void fail_open(const std::string& path, int error) { open_errors_[path] = error; }
  // Every path not listed here fails with ENOENT, unless none is listed.
  void add_node(const std::string& path) { nodes_.insert(path); }

  int open(const char* path, int /*flags*/) override {
    opened_.emplace_back(path);
    if (auto it = open_errors_.find(path); it != open_errors_.end()) return fail(it->second);
    if (!nodes_.empty() && nodes_.count(path) == 0) return fail(ENOENT);
    const int fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
    const std::lock_guard lock(mutex_);
    paths_[fd] = path;
    return fd;
  }

  int ioctl(int fd, unsigned long request, void* argument) override {
    std::string path;
    Handler handler;
    {
      const std::lock_guard lock(mutex_);
      requests_.push_back(request);
      auto it = paths_.find(fd);
      path = it == paths_.end() ? std::string() : it->second;
      handler = handler_;
    }
    if (!handler) return fail(ENOTTY);
    return handler(path, request, argument);
  }

  [[nodiscard]] const std::vector<std::string>& opened() const { return opened_; }
  [[nodiscard]] std::vector<unsigned long> requests() const {
    const std::lock_guard lock(mutex_);
    return requests_;
  }
  [[nodiscard]] std::size_t count(unsigned long request) const {
    const std::lock_guard lock(mutex_);
    std::size_t n = 0;
    for (unsigned long r : requests_) n += r == request ? 1 : 0;
    return n;
  }

 private:
  mutable std::mutex mutex_;
  Handler handler_;
  std::map<std::string, int> open_errors_;
  std::set<std::string> nodes_;
  std::map<int, std::string> paths_;  // fd -> path (fds are reused after close)
  std::vector<std::string> opened_;
  std::vector<unsigned long> requests_;
};

}  // namespace mote::platform::testing
