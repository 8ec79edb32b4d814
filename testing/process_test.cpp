#include "mote/testing/process.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>

namespace mote::testing {
namespace {

using namespace std::chrono_literals;

TEST(FindProgram, FindsShellAndRejectsMissing) {
  ASSERT_TRUE(find_program("sh").has_value());
  EXPECT_EQ(find_program("sh")->front(), '/');
  EXPECT_FALSE(find_program("mote-no-such-program-xyz").has_value());
}

TEST(ChildProcess, CapturesOutputAndExitCode) {
  ChildProcess child({"sh", "-c", "echo out; echo err >&2; exit 7"});
  ASSERT_TRUE(child.started());
  EXPECT_EQ(child.wait_for_exit(10s), 7);
  EXPECT_EQ(child.stdout_text(), "out\n");
  EXPECT_EQ(child.stderr_text(), "err\n");
}

TEST(ChildProcess, StopEndsALongRunningChild) {
  ChildProcess child({"sleep", "60"});
  ASSERT_TRUE(child.started());
  EXPECT_TRUE(child.running());
  EXPECT_EQ(child.stop(), 128 + SIGTERM);
  EXPECT_FALSE(child.running());
}

TEST(ChildProcess, WaitsForOutputAndPassesEnvironment) {
  ChildOptions options;
  options.extra_env = {"MOTE_X=42"};
  ChildProcess child({"sh", "-c", "echo \"ready $MOTE_X\"; sleep 60"}, options);
  EXPECT_TRUE(child.wait_for_output("ready 42", 10s)) << child.describe();
}

TEST(ChildProcess, MissingProgramDoesNotStart) {
  ChildProcess child({"mote-no-such-program-xyz"});
  EXPECT_FALSE(child.started());
  EXPECT_EQ(child.wait_for_exit(0ms), std::nullopt);
}

TEST(Ports, UnusedPortIsBindableAndListenerIsSeen) {
  const std::uint16_t port = unused_port(SOCK_STREAM);
  ASSERT_NE(port, 0);
  EXPECT_FALSE(wait_for_tcp_listener(port, 0ms));
  ChildProcess server({"python3", "-c",
                       "import socket,time\n"
                       "s=socket.socket(); s.bind(('127.0.0.1'," +
                           std::to_string(port) + ")); s.listen(); time.sleep(60)"});
  ASSERT_TRUE(server.started());
  EXPECT_TRUE(wait_for_tcp_listener(port, 10s)) << server.describe();
}

TEST(TempDir, WritesAndRemoves) {
  std::string path;
  {
    TempDir dir;
    ASSERT_FALSE(dir.path().empty());
    path = dir.write("a.txt", "hello");
    ChildProcess cat({"cat", path});
    EXPECT_EQ(cat.wait_for_exit(10s), 0);
    EXPECT_EQ(cat.stdout_text(), "hello");
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace mote::testing
