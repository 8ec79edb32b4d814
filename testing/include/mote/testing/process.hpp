#pragma once
// Test support for interop tests against real peers (mosquitto, libcoap,
// curl, python3, node, ...): start a peer as a child process, find a free
// loopback port, wait for a listener, skip visibly when a peer is missing.
// Host only; used by tests, never by the library.
//
// Rules the interop tests keep (see docs/testing.md): peers listen on
// 127.0.0.1 or inside a network namespace the test made; every wait is
// bounded; a child still running when its ChildProcess is destroyed gets
// SIGKILL and is reaped, so a failed test leaves nothing behind.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace mote::testing {

// The absolute path of an executable found on PATH (or the name itself when
// it already contains a '/' and is executable); nullopt when there is none.
std::optional<std::string> find_program(const std::string& name);

// A loopback port nothing is bound to right now (bind to 127.0.0.1:0 and
// read the port back). SOCK_STREAM or SOCK_DGRAM.
std::uint16_t unused_port(int socket_type);
// A loopback port free for both TCP and UDP right now, for servers that
// listen on both (dnsmasq's DNS).
std::uint16_t unused_tcp_and_udp_port();

// Connects to 127.0.0.1:port until it succeeds or `timeout` passes.
bool wait_for_tcp_listener(std::uint16_t port, std::chrono::milliseconds timeout);

// A directory under the test's temporary directory, removed with its
// contents on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  // Writes `content` to file(name) and returns its path.
  std::string write(const std::string& name, const std::string& content) const;

 private:
  std::string path_;
};

struct ChildOptions {
  std::string stdin_path = "/dev/null";
  std::vector<std::string> extra_env;  // "NAME=value", added to this process's environment
  std::string working_directory;       // empty: this process's
};

// A child process with stdout and stderr captured to files.
class ChildProcess {
 public:
  // argv[0] is looked up with find_program. started() says whether it ran.
  explicit ChildProcess(std::vector<std::string> argv, const ChildOptions& options = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  bool running();

  // Sends `signal` (if still running).
  void signal(int signal);
  // Waits up to `timeout` for the child to exit; its exit code, or 128 +
  // signal number when a signal ended it; nullopt when it is still running.
  std::optional<int> wait_for_exit(std::chrono::milliseconds timeout);
  // SIGTERM, then SIGKILL after `grace`; returns the exit code as above.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(2000));

  std::string stdout_text() const;
  std::string stderr_text() const;
  // Waits until stdout (or stderr) contains `text`, or the child exits, or
  // `timeout` passes.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout,
                       bool in_stderr = false);
  // The command line and both outputs, for a failure message.
  std::string describe() const;

 private:
  std::vector<std::string> argv_;
  TempDir dir_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

}  // namespace mote::testing

// Skips the current test, with a message naming what is missing, unless
// `program` is on PATH. scripts/setup installs every peer, so a skip in CI
// means the setup list and the test disagree.
#define MOTE_SKIP_UNLESS_PROGRAM(program)                                                        \
  do {                                                                                           \
    if (!::mote::testing::find_program(program)) {                                               \
      GTEST_SKIP() << "peer '" << (program) << "' is not installed (scripts/setup installs it)"; \
    }                                                                                            \
  } while (false)
