// mote_tcp_bench: one bulk transfer between two instances of one stack, the
// measurement behind one cell of bench/tcp/run's table. One transfer per
// process, because lwIP keeps its state in globals.
//
//   mote_tcp_bench --stack lwip|lwip-ts|kernel|mote --mss 1460 [--bytes N]
//                  [--window N] [--send-buffer N]
//
// Prints one line: `stack=... mss=... bytes=... wall_s=... cpu_s=... gbps=...
// cpu_gbps=... result=ok|failed|pending notes=...`. Gbps counts payload
// bytes delivered to the receiving application and checked, over the wall
// clock (cpu_gbps: over the process's CPU time, user + system).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mote/net/phy/cable.hpp"
#include "tcp_stack_pair.hpp"

namespace mote::bench::tcp {
namespace {

double cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

int run(int argc, char** argv) {
  std::string stack = "lwip";
  PairConfig config;
  config.bytes_per_flow = 1ull << 30;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string_view flag = argv[i];
    const char* value = argv[i + 1];
    if (flag == "--stack") {
      stack = value;
    } else if (flag == "--mss") {
      config.mss = static_cast<std::uint16_t>(std::strtoul(value, nullptr, 10));
    } else if (flag == "--bytes") {
      config.bytes_per_flow = std::strtoull(value, nullptr, 10);
    } else if (flag == "--window") {
      config.receive_window = static_cast<std::uint32_t>(std::strtoul(value, nullptr, 10));
    } else if (flag == "--send-buffer") {
      config.send_buffer = static_cast<std::uint32_t>(std::strtoul(value, nullptr, 10));
    } else {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  if (config.mss < 64 || config.mss > 8192 || config.bytes_per_flow == 0 ||
      config.bytes_per_flow > (64ull << 30)) {
    std::fprintf(stderr, "mss must be 64..8192 and bytes 1..64 GiB\n");
    return 2;
  }
  const TransferPattern pattern;
  config.pattern = &pattern;

  std::unique_ptr<TcpStackPair> pair;
  if (stack == "lwip" || stack == "lwip-ts") {
    pair = make_lwip_pair(stack == "lwip-ts");
  } else if (stack == "kernel") {
    pair = make_kernel_pair();
  } else if (stack == "mote") {
    pair = make_mote_pair();
  } else {
    std::fprintf(stderr, "unknown stack %s\n", stack.c_str());
    return 2;
  }
  const std::string prefix = "stack=" + stack + " mss=" + std::to_string(config.mss) +
                             " bytes=" + std::to_string(config.bytes_per_flow);
  if (!pair) {
    std::printf("%s result=pending notes=not in this build\n", prefix.c_str());
    return 0;
  }

  // The in-memory link: a point-to-point IP link with MTU = MSS + 40 (no
  // options beyond the MSS on the lwIP and mote sides), queues big enough
  // for a full window of the smallest segments in each direction.
  std::vector<std::byte> cable_storage(8u << 20);
  net::Cable cable(cable_storage, {net::Medium::ip, config.mss + 40u});
  DeviceLinkPort<net::Cable::End> sender_link(cable.end_a());
  DeviceLinkPort<net::Cable::End> receiver_link(cable.end_b());

  if (Status opened = pair->open(config, sender_link, receiver_link); !opened.ok()) {
    std::printf("%s result=failed notes=open failed\n", prefix.c_str());
    return 1;
  }
  const double cpu_start = cpu_seconds();
  const auto wall_start = std::chrono::steady_clock::now();
  run_until_done(*pair, sender_link, receiver_link, config, Instant{} + std::chrono::hours(24),
                 std::chrono::seconds(300));
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  const double cpu = cpu_seconds() - cpu_start;
  const FlowTotals totals = pair->totals();
  const bool ok = totals.failed == 0 && totals.finished == config.flows &&
                  totals.received == config.bytes_per_flow * config.flows;
  const double bits = static_cast<double>(totals.received) * 8;
  std::printf("%s wall_s=%.3f cpu_s=%.3f gbps=%.2f cpu_gbps=%.2f result=%s notes=%.*s\n",
              prefix.c_str(), wall, cpu, bits / wall / 1e9, bits / cpu / 1e9, ok ? "ok" : "failed",
              static_cast<int>(pair->notes().size()), pair->notes().data());
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace mote::bench::tcp

int main(int argc, char** argv) { return mote::bench::tcp::run(argc, argv); }
