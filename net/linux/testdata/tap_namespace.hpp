#pragma once
// For the interop tests: a network namespace the test makes, with a TAP
// device whose kernel side lives in it. mote keeps the device's file
// descriptor, so the test's stack is the TAP's other end, and nothing the
// test sends leaves the namespace.
//
//   TapNamespace ns;
//   if (auto why = ns.open(driver, tap, "tcp", "10.79.0.1/24")) GTEST_SKIP() << *why;
//   ... ns.name() for `ip netns exec` ...
//   ns.close();   // in TearDown (the destructor does it too)
//
// For a program that attaches to the TAP device by name (`mote sensor
// --tap`), the device is made persistent inside the namespace instead, and
// the test's thread enters the namespace, so that every process it starts
// (the program, its peers, curl) runs there and 127.0.0.1 is the
// namespace's own loopback:
//
//   if (auto why = ns.open_persistent("sensor", "motetap0", "10.77.0.1/24")) GTEST_SKIP() << *why;
//   ASSERT_FALSE(ns.enter().has_value());

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <gtest/gtest.h>
#include <optional>
#include <sched.h>
#include <string>
#include <unistd.h>
#include <vector>

#include "mote/net/linux/tap_device.hpp"
#include "mote/testing/process.hpp"

namespace mote::net::test_support {

// `ip ...` to completion (bounded); its output when it failed.
inline std::optional<std::string> ip_command(std::vector<std::string> arguments) {
  using namespace std::chrono_literals;
  arguments.insert(arguments.begin(), "ip");
  mote::testing::ChildProcess child(arguments);
  if (child.started() && child.wait_for_exit(10s) == 0) return std::nullopt;
  return child.describe();
}

class TapNamespace {
 public:
  TapNamespace() = default;
  TapNamespace(const TapNamespace&) = delete;
  TapNamespace& operator=(const TapNamespace&) = delete;
  ~TapNamespace() { close(); }

  // Makes `mote-<tag>-<pid>-<n>`, opens `tap`, moves it there and gives
  // the kernel side `kernel_address` (CIDR), up, with loopback up too.
  // Returns why this cannot run here (a reason to skip); a step failing
  // after that is a test failure.
  std::optional<std::string> open(platform::EpollDriver& driver, TunTapDevice& tap,
                                  const std::string& tag, const std::string& kernel_address) {
    if (std::optional<std::string> why = make(tag)) return why;
    Result<TunTapDevice> opened = TunTapDevice::open(driver, "");
    if (!opened.ok()) return std::string("cannot open /dev/net/tun: ") + opened.status().str();
    tap = std::move(*opened);
    const std::optional<std::string> moved =
        ip_command({"link", "set", tap.name(), "netns", name_});
    EXPECT_FALSE(moved.has_value()) << *moved;
    configure(tap.name(), kernel_address);
    return std::nullopt;
  }

  // Makes the namespace as open() does, with a persistent TAP device
  // `device` in it (root's: opening it takes CAP_NET_ADMIN) for a program
  // that attaches to it by name. Until one does, the device has no carrier.
  std::optional<std::string> open_persistent(const std::string& tag, const std::string& device,
                                             const std::string& kernel_address) {
    if (std::optional<std::string> why = make(tag)) return why;
    if (std::optional<std::string> failed =
            ip_command({"-n", name_, "tuntap", "add", "dev", device, "mode", "tap"})) {
      return "cannot make a TAP device here: " + *failed;
    }
    configure(device, kernel_address);
    return std::nullopt;
  }

  // Moves the calling thread into the namespace (the processes it starts
  // are born there) until leave() or close(). What failed, if it did.
  std::optional<std::string> enter() {
    if (name_.empty() || entered_from_ >= 0) return "no namespace, or already in it";
    const int original = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    const int target = ::open(("/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
    const bool entered = original >= 0 && target >= 0 && ::setns(target, CLONE_NEWNET) == 0;
    const std::string why = std::string("cannot enter ") + name_ + ": " + std::strerror(errno);
    if (target >= 0) ::close(target);
    if (!entered) {
      if (original >= 0) ::close(original);
      return why;
    }
    entered_from_ = original;
    return std::nullopt;
  }

  // Back to the namespace enter() left.
  void leave() {
    if (entered_from_ < 0) return;
    EXPECT_EQ(::setns(entered_from_, CLONE_NEWNET), 0) << std::strerror(errno);
    ::close(entered_from_);
    entered_from_ = -1;
  }

  // Deletes the namespace (and with it the kernel side of the TAP).
  void close() {
    leave();
    if (name_.empty()) return;
    const std::optional<std::string> failed = ip_command({"netns", "del", name_});
    EXPECT_FALSE(failed.has_value()) << *failed;
    name_.clear();
  }

  [[nodiscard]] const std::string& name() const { return name_; }

 private:
  std::optional<std::string> make(const std::string& tag) {
    if (::geteuid() != 0) return "needs root (CAP_NET_ADMIN) for netns and TAP";
    remove_stale(tag);
    static int counter = 0;
    const std::string name =
        "mote-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    if (std::optional<std::string> failed = ip_command({"netns", "add", name})) {
      return "cannot create a network namespace here: " + *failed;
    }
    name_ = name;
    return std::nullopt;
  }

  // Deletes the namespaces of this tag left by test processes that died
  // before their TearDown (a crash, a kill): mote-<tag>-<pid>-<n> whose
  // <pid> is gone.
  static void remove_stale(const std::string& tag) {
    const std::string prefix = "mote-" + tag + "-";
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator("/run/netns", error)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(prefix, 0) != 0) continue;
      const pid_t owner = static_cast<pid_t>(std::atol(name.c_str() + prefix.size()));
      if (owner > 0 && ::kill(owner, 0) != 0 && errno == ESRCH) {
        static_cast<void>(ip_command({"netns", "del", name}));
      }
    }
  }

  // The device's kernel side gets `kernel_address`, up, with loopback up too.
  void configure(const std::string& device, const std::string& kernel_address) {
    for (const std::vector<std::string>& step :
         {std::vector<std::string>{"-n", name_, "addr", "add", kernel_address, "dev", device},
          std::vector<std::string>{"-n", name_, "link", "set", device, "up"},
          std::vector<std::string>{"-n", name_, "link", "set", "lo", "up"}}) {
      const std::optional<std::string> failed = ip_command(step);
      EXPECT_FALSE(failed.has_value()) << *failed;
    }
  }

  std::string name_;
  int entered_from_ = -1;  // the thread's namespace before enter()
};

}  // namespace mote::net::test_support
