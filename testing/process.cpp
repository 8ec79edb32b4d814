#include "mote/testing/process.hpp"

#include <arpa/inet.h>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <spawn.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace mote::testing {
namespace {

using Clock = std::chrono::steady_clock;

std::string read_whole_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

bool is_executable(const std::string& path) {
  struct stat info {};
  return ::stat(path.c_str(), &info) == 0 && S_ISREG(info.st_mode) &&
         ::access(path.c_str(), X_OK) == 0;
}

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

std::optional<std::string> find_program(const std::string& name) {
  if (name.find('/') != std::string::npos) {
    return is_executable(name) ? std::optional<std::string>(name) : std::nullopt;
  }
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  // Debian puts daemons (mosquitto, dnsmasq) in sbin, which a user's PATH may lack.
  dirs += ":/usr/local/sbin:/usr/sbin:/sbin";
  std::stringstream stream(dirs);
  for (std::string dir; std::getline(stream, dir, ':');) {
    if (dir.empty()) continue;
    std::string candidate = dir;
    candidate += '/';
    candidate += name;
    if (is_executable(candidate)) return candidate;
  }
  return std::nullopt;
}

std::uint16_t unused_port(int socket_type) {
  const int fd = ::socket(AF_INET, socket_type | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  std::uint16_t port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0) {
    port = ntohs(address.sin_port);
  }
  ::close(fd);
  return port;
}

std::uint16_t unused_tcp_and_udp_port() {
  for (int attempt = 0; attempt < 100; ++attempt) {
    const std::uint16_t port = unused_port(SOCK_DGRAM);
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return 0;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    if (free) return port;
  }
  return 0;
}

bool wait_for_tcp_listener(std::uint16_t port, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  do {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(port);
    const bool connected =
        ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0;
    ::close(fd);
    if (connected) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  } while (Clock::now() < deadline);
  return false;
}

TempDir::TempDir() {
  std::string pattern = std::filesystem::temp_directory_path().string() + "/mote-test-XXXXXX";
  if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

std::string TempDir::write(const std::string& name, const std::string& content) const {
  std::string path = file(name);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  return path;
}

ChildProcess::ChildProcess(std::vector<std::string> argv, const ChildOptions& options)
    : argv_(std::move(argv)) {
  if (argv_.empty()) return;
  const std::optional<std::string> program = find_program(argv_[0]);
  if (!program) return;

  std::vector<char*> args;
  args.reserve(argv_.size() + 1);
  for (std::string& arg : argv_) args.push_back(arg.data());
  args.push_back(nullptr);

  std::vector<std::string> env_storage;
  for (char** entry = environ; *entry != nullptr; ++entry) env_storage.emplace_back(*entry);
  for (const std::string& extra : options.extra_env) env_storage.push_back(extra);
  std::vector<char*> env;
  env.reserve(env_storage.size() + 1);
  for (std::string& entry : env_storage) env.push_back(entry.data());
  env.push_back(nullptr);

  const std::string out_path = dir_.file("stdout");
  const std::string err_path = dir_.file("stderr");
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, options.stdin_path.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, 1, out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 2, err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  if (!options.working_directory.empty()) {
    posix_spawn_file_actions_addchdir_np(&actions, options.working_directory.c_str());
  }
  pid_t pid = -1;
  if (posix_spawn(&pid, program->c_str(), &actions, nullptr, args.data(), env.data()) == 0)
    pid_ = pid;
  posix_spawn_file_actions_destroy(&actions);
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !exit_code_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

bool ChildProcess::running() { return pid_ > 0 && !wait_for_exit(std::chrono::milliseconds(0)); }

void ChildProcess::signal(int signal) {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, signal);
}

std::optional<int> ChildProcess::wait_for_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0 || exit_code_) return exit_code_;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      exit_code_ = exit_code_of(status);
      return exit_code_;
    }
    if (done < 0 || Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int ChildProcess::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return -1;
  signal(SIGTERM);
  if (std::optional<int> code = wait_for_exit(grace)) return *code;
  signal(SIGKILL);
  return wait_for_exit(std::chrono::milliseconds(5000)).value_or(-1);
}

std::string ChildProcess::stdout_text() const { return read_whole_file(dir_.file("stdout")); }
std::string ChildProcess::stderr_text() const { return read_whole_file(dir_.file("stderr")); }

bool ChildProcess::wait_for_output(const std::string& text, std::chrono::milliseconds timeout,
                                   bool in_stderr) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const std::string output = in_stderr ? stderr_text() : stdout_text();
    if (output.find(text) != std::string::npos) return true;
    if (!running() || Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::string ChildProcess::describe() const {
  std::string text = "command:";
  for (const std::string& arg : argv_) text += " " + arg;
  text += started() ? "" : " (did not start)";
  text += "\n--- stdout ---\n" + stdout_text() + "\n--- stderr ---\n" + stderr_text();
  return text;
}

}  // namespace mote::testing
