#define MOTE_LOG_MODULE "demo"

#include "spawned_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mote/base/log.hpp"

namespace mote::cli {
namespace {

Status errno_status() {
  switch (errno) {
    case EMFILE:
    case ENFILE:
    case ENOMEM:
    case EAGAIN: return Status::resource_exhausted();
    case ENOSYS: return Status::unimplemented();
    default: return Status::internal();
  }
}

int pidfd_open(pid_t pid) { return static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)); }

// In the child, between fork and exec: only async-signal-safe calls.
[[noreturn]] void exec_child(const std::vector<char*>& argv, int out_fd, int err_fd, pid_t parent,
                             bool keep_stop_signals_blocked) {
  ::setpgid(0, 0);
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (::getppid() != parent) ::_exit(127);  // the demo died before prctl
  sigset_t mask;
  ::sigemptyset(&mask);
  if (keep_stop_signals_blocked) {
    ::sigaddset(&mask, SIGINT);
    ::sigaddset(&mask, SIGTERM);
  }
  ::sigprocmask(SIG_SETMASK, &mask, nullptr);
  ::signal(SIGINT, SIG_DFL);
  ::signal(SIGTERM, SIG_DFL);
  ::signal(SIGPIPE, SIG_DFL);
  ::dup2(out_fd, STDOUT_FILENO);
  ::dup2(err_fd, STDERR_FILENO);
  const int null = ::open("/dev/null", O_RDONLY);
  if (null >= 0) ::dup2(null, STDIN_FILENO);
  ::execv(argv[0], argv.data());
  const char* why = std::strerror(errno);
  const char prefix[] = "cannot run ";
  ::write(STDERR_FILENO, prefix, sizeof prefix - 1);
  ::write(STDERR_FILENO, argv[0], std::strlen(argv[0]));
  ::write(STDERR_FILENO, ": ", 2);
  ::write(STDERR_FILENO, why, std::strlen(why));
  ::write(STDERR_FILENO, "\n", 1);
  ::_exit(127);
}

}  // namespace

SpawnedProcess::~SpawnedProcess() {
  if (pid_ > 0 && !exited_.is_set()) {
    if (::kill(-pid_, SIGKILL) != 0) ::kill(pid_, SIGKILL);
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  out_task_.cancel();
  err_task_.cancel();
  exit_task_.cancel();
  pid_watch_.close();
  out_.watch.close();
  err_.watch.close();
  for (int fd : {pidfd_, out_.fd, err_.fd}) {
    if (fd >= 0) ::close(fd);
  }
}

Status SpawnedProcess::spawn(platform::EpollDriver& driver, const std::vector<std::string>& argv,
                             bool keep_stop_signals_blocked) {
  if (argv.empty() || pid_ > 0) return Status::failed_precondition();
  int out[2] = {-1, -1};
  int err[2] = {-1, -1};
  if (::pipe2(out, O_CLOEXEC) != 0) return errno_status();
  if (::pipe2(err, O_CLOEXEC) != 0) {
    const Status failed = errno_status();
    ::close(out[0]);
    ::close(out[1]);
    return failed;
  }
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);

  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) exec_child(args, out[1], err[1], parent, keep_stop_signals_blocked);
  const Status forked = pid > 0 ? ok_status() : errno_status();
  ::close(out[1]);
  ::close(err[1]);
  if (!forked.ok()) {
    ::close(out[0]);
    ::close(err[0]);
    return forked;
  }
  pid_ = pid;
  out_.fd = out[0];
  err_.fd = err[0];
  pidfd_ = pidfd_open(pid);
  if (pidfd_ < 0) return errno_status();  // the destructor kills and reaps it
  for (int fd : {out_.fd, err_.fd}) ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  MOTE_TRY(out_.watch.open(driver, out_.fd));
  MOTE_TRY(err_.watch.open(driver, err_.fd));
  return pid_watch_.open(driver, pidfd_);
}

Status SpawnedProcess::start_tasks(async::Executor& executor) {
  MOTE_TRY(executor.spawn(exit_task_, [this]() { return watch_exit(); }));
  watching_exit_ = true;
  MOTE_TRY(executor.spawn(out_task_, [this]() { return relay(out_, false); }));
  return executor.spawn(err_task_, [this]() { return relay(err_, true); });
}

void SpawnedProcess::emit(std::string_view line, bool to_stderr) {
  if (!to_stderr && on_stdout_line_) on_stdout_line_(line);
  std::FILE* stream = to_stderr ? stderr : stdout;
  std::fprintf(stream, "%-8s | %.*s\n", label_.c_str(), static_cast<int>(line.size()), line.data());
  std::fflush(stream);
}

async::Task<void> SpawnedProcess::relay(Pipe& pipe, bool to_stderr) {
  char buffer[1024];
  for (;;) {
    const ssize_t n = ::read(pipe.fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pipe.watch.clear_readable();
      // A closed watch: the process is being torn down.
      if (!(co_await pipe.watch.readable()).ok()) break;
      continue;
    }
    if (n <= 0) break;  // end of file: the child (and whatever it started) closed it
    pipe.pending.append(buffer, static_cast<std::size_t>(n));
    std::size_t start = 0;
    for (std::size_t newline = pipe.pending.find('\n'); newline != std::string::npos;
         newline = pipe.pending.find('\n', start)) {
      emit(std::string_view(pipe.pending).substr(start, newline - start), to_stderr);
      start = newline + 1;
    }
    pipe.pending.erase(0, start);
  }
  if (!pipe.pending.empty()) emit(pipe.pending, to_stderr);
  pipe.pending.clear();
}

async::Task<void> SpawnedProcess::watch_exit() {
  for (;;) {
    siginfo_t info{};
    const int waited = ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT);
    if ((waited == 0 && info.si_pid == pid_) || (waited < 0 && errno != EINTR)) {
      // Exited, not reaped yet: its pid, so its process group's id, cannot
      // be reused. Whatever it left running in its group goes with it (a
      // leftover would hold the output pipes open).
      ::kill(-pid_, SIGKILL);
      int status = 0;
      while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
      }
      wait_status_ = status;
      exited_.set();
      if (on_exited_) on_exited_(*this);
      co_return;
    }
    // A pidfd is readable once its process has exited.
    pid_watch_.clear_readable();
    // A closed watch: the process is being torn down.
    if (!(co_await pid_watch_.readable()).ok()) co_return;
  }
}

std::string SpawnedProcess::describe_exit() const {
  if (!exited_.is_set()) return "running";
  if (WIFEXITED(wait_status_)) return "exit " + std::to_string(WEXITSTATUS(wait_status_));
  if (WIFSIGNALED(wait_status_)) {
    const int signal = WTERMSIG(wait_status_);
    const char* name = sigabbrev_np(signal);
    return std::string("killed by ") +
           (name != nullptr ? "SIG" + std::string(name) : "signal " + std::to_string(signal));
  }
  return "ended";
}

bool SpawnedProcess::succeeded() const {
  return exited_.is_set() && WIFEXITED(wait_status_) && WEXITSTATUS(wait_status_) == 0;
}

async::Task<void> SpawnedProcess::wait_for_exit() { co_await exited_.wait(); }

void SpawnedProcess::send_signal(int signal) {
  // Not reaped yet, so the pid cannot have been reused. The whole process
  // group: the child and anything it started.
  if (pid_ > 0 && !exited_.is_set() && ::kill(-pid_, signal) != 0) ::kill(pid_, signal);
}

async::Task<void> SpawnedProcess::stop(async::Duration grace) {
  if (!watching_exit_) {
    // Nothing would see it exit: the destructor reaps it.
    send_signal(SIGKILL);
    co_return;
  }
  send_signal(SIGTERM);
  const Status in_time = co_await async::with_timeout(grace, wait_for_exit());
  if (in_time.ok()) co_return;
  MOTE_LOG_WARN(
      "%s did not stop within %lld ms of SIGTERM: SIGKILL", label_.c_str(),
      static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(grace).count()));
  send_signal(SIGKILL);
  co_await wait_for_exit();
}

}  // namespace mote::cli
