#pragma once
// A program `mote demo` runs as a child: the gateway, a `mote sensor` node,
// QEMU with the firmware node. Its stdout and stderr come back through pipes
// and are copied, line by line and prefixed with the child's label, to the
// demo's stdout and stderr ("kitchen  | connected to 127.0.0.1:1883"); its
// exit is seen through a pidfd, so everything is an event of the demo's one
// executor and no SIGCHLD handler is needed.
//
// The child gets its own process group, so a Ctrl-C at the terminal reaches
// the demo alone, which then stops the children in order (nodes first, then
// the gateway). Signals go to that group, and whatever is left in it when
// the child exits is killed, so nothing it started outlives it. The kernel sends it SIGTERM if the
// demo dies (PR_SET_PDEATHSIG), so a killed demo leaves nothing running. The child starts with
// default dispositions and an empty signal mask, or SIGINT and SIGTERM blocked for a `mote` child
// (see spawn()).
//
//   SpawnedProcess gateway("gateway");
//   MOTE_TRY(gateway.spawn(driver, {"/usr/bin/mote", "gateway", ...}));
//   MOTE_TRY(gateway.start_tasks(executor));    // relays output, watches the exit
//   ...
//   co_await gateway.stop(5s);                  // SIGTERM, then SIGKILL after 5 s
//
// Host only (fork, exec, pipes, pidfd_open: Linux 5.3).

#include <functional>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include "mote/async/async.hpp"
#include "mote/base/status.hpp"
#include "mote/platform/epoll_driver.hpp"

namespace mote::cli {

class SpawnedProcess {
 public:
  explicit SpawnedProcess(std::string label) : label_(std::move(label)) {}
  SpawnedProcess(const SpawnedProcess&) = delete;
  SpawnedProcess& operator=(const SpawnedProcess&) = delete;
  // Kills (SIGKILL) and reaps a child still running: the demo never leaves
  // one behind, even when it fails half-way.
  ~SpawnedProcess();

  // Starts argv[0] (a path, not looked up on PATH). Errors: the errno of
  // pipe2/pidfd_open/fork as a Status; a program that cannot be executed
  // starts and exits at once with status 127 (and says why on stderr).
  // `keep_stop_signals_blocked`: the child starts with SIGINT and SIGTERM
  // blocked, for a program that reads them from a signalfd (every `mote`
  // command): a stop that comes before it has opened the signalfd waits
  // there for it instead of killing it half-started. Other programs (QEMU)
  // start with nothing blocked.
  Status spawn(platform::EpollDriver& driver, const std::vector<std::string>& argv,
               bool keep_stop_signals_blocked = false);
  // Spawns the tasks that copy the child's output and wait for its exit.
  Status start_tasks(async::Executor& executor);

  // Called with each line the child writes to stdout (without the newline),
  // before it is copied to the demo's stdout.
  void on_stdout_line(std::function<void(std::string_view)> callback) {
    on_stdout_line_ = std::move(callback);
  }

  // Called once the child has exited (and been reaped).
  void on_exited(std::function<void(const SpawnedProcess&)> callback) {
    on_exited_ = std::move(callback);
  }

  [[nodiscard]] const std::string& label() const { return label_; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] bool exited() const { return exited_.is_set(); }
  // The wait status (waitpid) once exited().
  [[nodiscard]] int wait_status() const { return wait_status_; }
  // "exit 0", "exit 1", "killed by SIGKILL", or "running".
  [[nodiscard]] std::string describe_exit() const;
  // Exited with status 0.
  [[nodiscard]] bool succeeded() const;

  // Completes when the child has exited (at once if it has).
  async::Task<void> wait_for_exit();
  // Sends `signal` to the child's process group unless the child has exited.
  void send_signal(int signal);
  // SIGTERM; SIGKILL when it has not exited after `grace`; completes when it
  // has exited (at once, after SIGKILL, if start_tasks() failed).
  async::Task<void> stop(async::Duration grace);

 private:
  struct Pipe {
    int fd = -1;
    platform::FdWatch watch;
    std::string pending;  // a line not finished yet
  };
  async::Task<void> relay(Pipe& pipe, bool to_stderr);
  async::Task<void> watch_exit();
  void emit(std::string_view line, bool to_stderr);

  std::string label_;
  pid_t pid_ = -1;
  int pidfd_ = -1;
  platform::FdWatch pid_watch_;
  Pipe out_;
  Pipe err_;
  int wait_status_ = 0;
  bool watching_exit_ = false;  // the exit task runs
  async::Event exited_;
  std::function<void(std::string_view)> on_stdout_line_;
  std::function<void(const SpawnedProcess&)> on_exited_;
  async::TaskStorage<4096> out_task_;
  async::TaskStorage<4096> err_task_;
  async::TaskStorage<2048> exit_task_;
};

}  // namespace mote::cli
