#pragma once
// SpidevDevice: one SPI peripheral through the kernel's spidev
// (/dev/spidevB.C: bus B, chip select C) as a hal::SpiDevice.
//
//   SpidevDevice flash(executor);
//   MOTE_TRY(flash.open("/dev/spidev0.0", {.mode = 0, .speed_hz = 8'000'000}));
//   std::byte id[4];
//   co_await flash.transfer(jedec_read_id, id);   // CS asserted for the whole transfer
//
// open() sets mode, bits per word and the maximum clock and reads each back
// (a controller that cannot do it fails the write with EINVAL). Each
// operation is one SPI_IOC_MESSAGE(1) ioctl of max(|data|, |buffer|) bytes:
// the kernel asserts chip select for the whole message and releases it at the
// end. transfer() sends 0xFF once `data` runs out (the idle level of MOSI on
// most parts; spidev itself would send zeros) and drops what does not fit
// `buffer`.
//
// Thread, wakes, cancels, buffers: as I2cDevBus (i2c_dev.hpp). The ioctl
// blocks until the transfer is done (4 KiB at 1 MHz: 33 ms), so it runs on a
// BlockingWorker; cancelling stops the wait while the transfer finishes on
// the worker into the device's own buffers, chip select released by the
// kernel at its end; the next operation starts after it.
//
// Errors: not_found (no such device node), permission_denied,
// invalid_argument (a mode, speed or word size the controller refused; an
// operation longer than Config::max_transfer, which must not exceed
// spidev's `bufsiz` module parameter, 4096 by default), unavailable (EIO, or
// ESHUTDOWN/ENODEV: the controller went away), failed_precondition when not
// open.

#include <cstdint>
#include <string>
#include <vector>

#include "mote/async/executor.hpp"
#include "mote/async/mutex.hpp"
#include "mote/async/task.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/status.hpp"
#include "mote/hal/spi.hpp"
#include "mote/platform/blocking_worker.hpp"
#include "mote/platform/device_io.hpp"

namespace mote::platform {

class SpidevDevice {
 public:
  struct Config {
    std::uint8_t mode = 0;  // 0..3: CPOL << 1 | CPHA
    bool lsb_first = false;
    bool cs_active_high = false;
    std::uint32_t speed_hz = 1'000'000;
    std::uint8_t bits_per_word = 8;   // 8 only: buffers are bytes
    std::size_t max_transfer = 4096;  // spidev's default bufsiz
  };

  explicit SpidevDevice(async::Executor& executor, DeviceIo& io = DeviceIo::kernel())
      : io_(io), worker_(executor) {}
  SpidevDevice(const SpidevDevice&) = delete;
  SpidevDevice& operator=(const SpidevDevice&) = delete;
  ~SpidevDevice() = default;  // the worker joins first, then the fd closes

  Status open(const std::string& path, const Config& config);
  [[nodiscard]] bool is_open() const { return fd_.valid(); }
  [[nodiscard]] const Config& config() const { return config_; }

  async::Task<Status> transfer(ConstByteSpan data, ByteSpan buffer);
  async::Task<Status> write(ConstByteSpan data) { return transfer(data, {}); }
  async::Task<Status> read(ByteSpan buffer) { return transfer({}, buffer); }

 private:
  void run_ioctl();

  DeviceIo& io_;
  UniqueFd fd_;
  Config config_;
  async::Mutex mutex_;
  std::vector<std::byte> tx_;  // the job's buffers (see I2cDevBus)
  std::vector<std::byte> rx_;
  int error_ = 0;
  BlockingWorker worker_;
};

}  // namespace mote::platform
