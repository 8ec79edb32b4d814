// The Linux kernel's TCP over loopback: the reference ceiling. One process,
// one thread, both sockets non-blocking: poll() sends what the sender's
// socket takes and reads what the receiver's has, so the kernel does all of
// its work (both stacks, the loopback "link") inside those calls, as the
// other pairs do inside theirs. The MSS is set with TCP_MAXSEG on both
// sockets before the handshake (the loopback MTU of 65536 would otherwise
// give 65483); the MSS the sender ends up with is read back from TCP_INFO
// and reported (with timestamps on, 12 bytes of each segment are options,
// so tcpi_snd_mss is the MSS less 12). Buffers are the kernel's, autotuned.
#include <cerrno>
#include <cstdio>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>

#include "mote/platform/device_io.hpp"
#include "tcp_stack_pair.hpp"

namespace mote::bench::tcp {
namespace {

class KernelPair final : public TcpStackPair {
 public:
  [[nodiscard]] std::string_view name() const override { return "Linux kernel (loopback)"; }
  [[nodiscard]] bool uses_links() const override { return false; }

  Status open(const PairConfig& config, LinkPort& /*sender_link*/,
              LinkPort& /*receiver_link*/) override {
    config_ = config;
    buffer_.resize(std::size_t{256} * 1024);
    platform::UniqueFd listener(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (listener.get() < 0) return Status::internal();
    const int mss = config.mss;
    // Accepted sockets inherit TCP_MAXSEG from the listener.
    if (::setsockopt(listener.get(), IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss) != 0) {
      return Status::internal();
    }
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof address;
    if (::bind(listener.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener.get(), static_cast<int>(config.flows)) != 0 ||
        ::getsockname(listener.get(), reinterpret_cast<sockaddr*>(&address), &len) != 0) {
      return Status::internal();
    }
    for (unsigned flow = 0; flow < config.flows; ++flow) {
      Flow f;
      f.sender = platform::UniqueFd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      if (f.sender.get() < 0 ||
          ::setsockopt(f.sender.get(), IPPROTO_TCP, TCP_MAXSEG, &mss, sizeof mss) != 0 ||
          ::connect(f.sender.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
        return Status::internal();
      }
      f.receiver = platform::UniqueFd(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (f.receiver.get() < 0) return Status::internal();
      for (int fd : {f.sender.get(), f.receiver.get()}) {
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
      }
      tcp_info info{};
      socklen_t info_len = sizeof info;
      if (::getsockopt(f.sender.get(), IPPROTO_TCP, TCP_INFO, &info, &info_len) == 0) {
        notes_ = "TCP_MAXSEG " + std::to_string(mss) + "; tcpi_snd_mss " +
                 std::to_string(info.tcpi_snd_mss) + ", tcpi_advmss " +
                 std::to_string(info.tcpi_advmss);
      }
      flows_.push_back(std::move(f));
    }
    return ok_status();
  }

  bool poll(Instant /*now*/) override {
    bool worked = false;
    for (Flow& flow : flows_) {
      if (flow.failed) continue;
      while (flow.sent < config_.bytes_per_flow) {
        const std::size_t at = flow.sent % config_.pattern->period();
        const std::size_t len = static_cast<std::size_t>(
            std::min<std::uint64_t>(config_.pattern->period(), config_.bytes_per_flow - flow.sent));
        const ssize_t n =
            ::send(flow.sender.get(), config_.pattern->bytes().data() + at, len, MSG_NOSIGNAL);
        if (n < 0) {
          if (errno != EAGAIN && errno != EINTR) flow.failed = true;
          break;
        }
        flow.sent += static_cast<std::uint64_t>(n);
        worked = true;
      }
      if (flow.sent == config_.bytes_per_flow && !flow.shut_down) {
        ::shutdown(flow.sender.get(), SHUT_WR);
        flow.shut_down = true;
      }
      while (!flow.finished) {
        const ssize_t n = ::recv(flow.receiver.get(), buffer_.data(), buffer_.size(), 0);
        if (n == 0) {
          flow.finished = true;
          break;
        }
        if (n < 0) {
          if (errno != EAGAIN && errno != EINTR) flow.failed = true;
          break;
        }
        if (!config_.pattern->matches(flow.received,
                                      ConstByteSpan(buffer_.data(), static_cast<std::size_t>(n)))) {
          flow.failed = true;
        }
        flow.received += static_cast<std::uint64_t>(n);
        worked = true;
      }
    }
    return worked;
  }

  [[nodiscard]] Instant poll_at() const override { return Instant{}; }

  [[nodiscard]] FlowTotals totals() const override {
    FlowTotals totals;
    for (const Flow& flow : flows_) {
      totals.sent += flow.sent;
      totals.received += flow.received;
      totals.connected += 2;
      totals.finished += flow.finished ? 1 : 0;
      totals.failed += flow.failed ? 1 : 0;
    }
    return totals;
  }

  [[nodiscard]] std::string_view notes() const override { return notes_; }

 private:
  struct Flow {
    platform::UniqueFd sender;
    platform::UniqueFd receiver;
    std::uint64_t sent = 0;
    std::uint64_t received = 0;
    bool shut_down = false;
    bool finished = false;
    bool failed = false;
  };

  PairConfig config_;
  std::vector<Flow> flows_;
  std::vector<std::byte> buffer_;
  std::string notes_;
};

}  // namespace

std::unique_ptr<TcpStackPair> make_kernel_pair() { return std::make_unique<KernelPair>(); }

}  // namespace mote::bench::tcp
