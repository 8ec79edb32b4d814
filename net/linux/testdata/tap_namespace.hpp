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

#include <gtest/gtest.h>
#include <optional>
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
    if (::geteuid() != 0) return "needs root (CAP_NET_ADMIN) for netns and TAP";
    static int counter = 0;
    const std::string name =
        "mote-" + tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    if (std::optional<std::string> failed = ip_command({"netns", "add", name})) {
      return "cannot create a network namespace here: " + *failed;
    }
    name_ = name;
    Result<TunTapDevice> opened = TunTapDevice::open(driver, "");
    if (!opened.ok()) return std::string("cannot open /dev/net/tun: ") + opened.status().str();
    tap = std::move(*opened);
    for (const std::vector<std::string>& step :
         {std::vector<std::string>{"link", "set", tap.name(), "netns", name_},
          std::vector<std::string>{"-n", name_, "addr", "add", kernel_address, "dev", tap.name()},
          std::vector<std::string>{"-n", name_, "link", "set", tap.name(), "up"},
          std::vector<std::string>{"-n", name_, "link", "set", "lo", "up"}}) {
      const std::optional<std::string> failed = ip_command(step);
      EXPECT_FALSE(failed.has_value()) << *failed;
    }
    return std::nullopt;
  }

  // Deletes the namespace (and with it the kernel side of the TAP).
  void close() {
    if (name_.empty()) return;
    const std::optional<std::string> failed = ip_command({"netns", "del", name_});
    EXPECT_FALSE(failed.has_value()) << *failed;
    name_.clear();
  }

  [[nodiscard]] const std::string& name() const { return name_; }

 private:
  std::string name_;
};

}  // namespace mote::net::test_support
