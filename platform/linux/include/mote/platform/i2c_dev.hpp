#pragma once
// I2cDevBus: a Linux I2C adapter through i2c-dev (/dev/i2c-N) as a
// hal::I2cBus.
//
//   I2cDevBus bus(executor);
//   MOTE_TRY(bus.open("/dev/i2c-1"));
//   Bme280 sensor(bus, delay, bme280::kPrimaryAddress);   // any driver on the concept
//   Status s = co_await bus.write_read(0x76, register_address, buffer);
//
// Each operation is one I2C_RDWR ioctl: one or two messages (write_read is a
// write and a read with a repeated START and one STOP, as the concept asks).
// open() checks I2C_FUNCS for I2C_FUNC_I2C (plain I2C messages); an adapter
// that speaks only SMBus cannot run these transactions: unimplemented.
//
// Thread: the ioctl sleeps until the transaction is done (a byte takes 90 µs
// at 100 kHz, and a stuck bus holds it until the adapter's timeout, often
// 1 s), so it runs on a BlockingWorker and the executor keeps running.
//   Wakes: the worker finishing the ioctl (InterruptEvent).
//   Cancels: the kernel cannot abort a transaction in flight. Destroying the
//   awaiting task stops the wait at once; the transaction finishes on the
//   worker into the bus's own buffers (the caller's are never touched after
//   the cancellation) and the next operation starts after it.
//   Buffers: copied in before and out after the ioctl.
// Operations from several tasks run one after the other (an async::Mutex).
//
// Errors (errno of the ioctl as i2c bus drivers report it):
//   not_found          no ACK: ENXIO, EREMOTEIO (drivers report an address
//                      NACK and a data NACK alike, so both land here)
//   deadline_exceeded  ETIMEDOUT (the bus is stuck)
//   unavailable        EAGAIN (arbitration lost), EIO, ENODEV (adapter gone)
//   invalid_argument   an address outside 0x08..0x77, a message over 8192 bytes
//   not_found / permission_denied from open(); failed_precondition when not open

#include <cstdint>
#include <string>
#include <vector>

#include "mote/async/executor.hpp"
#include "mote/async/mutex.hpp"
#include "mote/async/task.hpp"
#include "mote/base/bytes.hpp"
#include "mote/base/status.hpp"
#include "mote/hal/i2c.hpp"
#include "mote/platform/blocking_worker.hpp"
#include "mote/platform/device_io.hpp"

namespace mote::platform {

class I2cDevBus {
 public:
  // i2c-dev refuses longer messages (EINVAL).
  static constexpr std::size_t kMaxMessage = 8192;

  explicit I2cDevBus(async::Executor& executor, DeviceIo& io = DeviceIo::kernel())
      : io_(io), worker_(executor) {}
  I2cDevBus(const I2cDevBus&) = delete;
  I2cDevBus& operator=(const I2cDevBus&) = delete;
  ~I2cDevBus() = default;  // the worker joins first, then the fd closes

  Status open(const std::string& path);
  [[nodiscard]] bool is_open() const { return fd_.valid(); }
  // The adapter's I2C_FUNCS mask (I2C_FUNC_* in linux/i2c.h).
  [[nodiscard]] unsigned long functionality() const { return functionality_; }

  async::Task<Status> write(hal::I2cAddress address, ConstByteSpan data) {
    return transact(address, data, {}, false);
  }
  async::Task<Status> read(hal::I2cAddress address, ByteSpan buffer) {
    return transact(address, {}, buffer, true);
  }
  async::Task<Status> write_read(hal::I2cAddress address, ConstByteSpan data, ByteSpan buffer) {
    return transact(address, data, buffer, true);
  }

 private:
  async::Task<Status> transact(hal::I2cAddress address, ConstByteSpan data, ByteSpan buffer,
                               bool reads);
  void run_ioctl(hal::I2cAddress address, bool writes, bool reads);

  DeviceIo& io_;
  UniqueFd fd_;
  unsigned long functionality_ = 0;
  async::Mutex mutex_;
  // The job's state: the bus's, not the caller's, so a cancelled caller's
  // transaction can finish without touching freed memory.
  std::vector<std::byte> tx_;
  std::vector<std::byte> rx_;
  int error_ = 0;
  BlockingWorker worker_;  // last: joined before the buffers go
};

}  // namespace mote::platform
