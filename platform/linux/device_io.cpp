#include "mote/platform/device_io.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace mote::platform {
namespace {

class KernelDeviceIo final : public DeviceIo {
 public:
  int open(const char* path, int flags) override {
    return ::open(path, flags);
  }  // NOLINT(cppcoreguidelines-pro-type-vararg)
  int ioctl(int fd, unsigned long request, void* argument) override {
    return ::ioctl(fd, request, argument);  // NOLINT(cppcoreguidelines-pro-type-vararg)
  }
};

}  // namespace

void UniqueFd::reset(int fd) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = fd;
}

DeviceIo& DeviceIo::kernel() {
  static KernelDeviceIo io;
  return io;
}

}  // namespace mote::platform
