#pragma once
// DeviceIo: the calls a Linux device backend (GPIO character device,
// i2c-dev, spidev) makes on device nodes, behind one interface, so that
// everything above the ioctl boundary (building requests, decoding what the
// kernel hands back, mapping errno to Status) is tested without the hardware:
// a test substitutes its own DeviceIo that checks the request and answers as
// the kernel would. DeviceIo::kernel() makes the real system calls.
//
// Descriptors returned by open() must be real descriptors (a test may return
// a pipe or /dev/null): the backends close them with close(2), set
// O_NONBLOCK with fcntl(2), read events from them and watch them with epoll.

#include <utility>

namespace mote::platform {

// Owns a file descriptor: closes it when destroyed or reset.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] bool valid() const { return fd_ >= 0; }
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

class DeviceIo {
 public:
  DeviceIo() = default;
  DeviceIo(const DeviceIo&) = delete;
  DeviceIo& operator=(const DeviceIo&) = delete;
  virtual ~DeviceIo() = default;

  // As open(2) and ioctl(2): the result, or -1 with errno set. ioctl may be
  // called from a backend's worker thread.
  virtual int open(const char* path, int flags) = 0;
  virtual int ioctl(int fd, unsigned long request, void* argument) = 0;

  // The system calls themselves.
  static DeviceIo& kernel();
};

}  // namespace mote::platform
