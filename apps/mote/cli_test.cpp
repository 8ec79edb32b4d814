// Tests of the `mote` program: runs the built binary (MOTE_BINARY) and checks
// exit codes and output. Nothing here depends on wall-clock timing: real-clock
// runs are only checked for their exit code and for having produced readings.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <regex>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "duration.hpp"

extern char** environ;

namespace mote::cli {
namespace {

using namespace std::chrono_literals;

struct Outcome {
  int exit_code = -1;  // -1: did not exit normally
  std::string out;
  std::string err;
};

std::string read_file(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  std::stringstream content;
  content << file.rdbuf();
  return content.str();
}

class Process {
 public:
  explicit Process(std::vector<std::string> args) {
    static int counter = 0;
    const std::string base = ::testing::TempDir() + "mote_cli_" + std::to_string(::getpid()) + "_" +
                             std::to_string(counter++);
    out_path_ = base + ".out";
    err_path_ = base + ".err";
    args.insert(args.begin(), MOTE_BINARY);
    std::vector<char*> argv;
    for (std::string& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 1, out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_addopen(&actions, 2, err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    spawned_ = posix_spawn(&pid_, MOTE_BINARY, &actions, nullptr, argv.data(), environ) == 0;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Process() {
    if (spawned_ && !waited_) {
      ::kill(pid_, SIGKILL);
      wait();
    }
    std::remove(out_path_.c_str());
    std::remove(err_path_.c_str());
  }

  bool spawned() const { return spawned_; }
  pid_t pid() const { return pid_; }
  std::string out_so_far() const { return read_file(out_path_); }

  Outcome wait() {
    Outcome run;
    int status = 0;
    if (spawned_ && !waited_ && ::waitpid(pid_, &status, 0) == pid_) {
      waited_ = true;
      if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
    }
    run.out = read_file(out_path_);
    run.err = read_file(err_path_);
    return run;
  }

 private:
  std::string out_path_;
  std::string err_path_;
  pid_t pid_ = -1;
  bool spawned_ = false;
  bool waited_ = false;
};

Outcome mote(std::vector<std::string> args) {
  Process process(std::move(args));
  EXPECT_TRUE(process.spawned()) << "cannot start " << MOTE_BINARY;
  return process.wait();
}

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> result;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) result.push_back(line);
  return result;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const char* const kSensors[] = {"kitchen", "garage", "attic"};

// "  1.262s  kitchen    21.43 °C": how many such lines each sensor has.
std::map<std::string, int> reading_counts(const std::string& out) {
  static const std::regex kReading(R"(^ *\d+\.\d{3}s  (\w+) +-?\d+\.\d\d °C$)");
  std::map<std::string, int> counts;
  for (const std::string& line : lines(out)) {
    std::smatch match;
    if (std::regex_match(line, match, kReading)) ++counts[match[1]];
  }
  return counts;
}

// --- the command line ----------------------------------------------------------

TEST(MoteCli, VersionPrintsTheProjectVersion) {
  const Outcome run = mote({"--version"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.out, "mote " MOTE_EXPECTED_VERSION "\n");
  EXPECT_TRUE(std::regex_match(run.out, std::regex("mote [0-9]+\\.[0-9]+\\.[0-9]+\n")));
}

TEST(MoteCli, HelpListsTheSubcommands) {
  const Outcome run = mote({"--help"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_TRUE(std::regex_search(run.out, std::regex("\n +demo +Run the whole system"))) << run.out;
  EXPECT_TRUE(contains(run.out, "--version")) << run.out;
  EXPECT_TRUE(contains(run.out, "--log-level")) << run.out;
  EXPECT_TRUE(run.err.empty()) << run.err;
}

TEST(MoteCli, SubcommandHelpBothWays) {
  const Outcome flag = mote({"demo", "--help"});
  const Outcome word = mote({"help", "demo"});
  EXPECT_EQ(flag.exit_code, 0);
  EXPECT_EQ(word.exit_code, 0);
  for (const char* option : {"--duration", "--simulated", "--quiet", "--seed"}) {
    EXPECT_TRUE(contains(flag.out, option)) << option << "\n" << flag.out;
  }
  EXPECT_TRUE(contains(flag.out, "mote demo")) << flag.out;
  EXPECT_EQ(flag.out, word.out);
}

TEST(MoteCli, HelpWithoutTopicIsTheMainHelp) {
  const Outcome run = mote({"help"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_EQ(run.out, mote({"--help"}).out);
}

TEST(MoteCli, UnknownSubcommandIsAUsageError) {
  const Outcome run = mote({"frobnicate"});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_TRUE(contains(run.err, "'frobnicate' is not a mote command")) << run.err;
  EXPECT_TRUE(run.out.empty()) << run.out;

  const Outcome help = mote({"help", "frobnicate"});
  EXPECT_EQ(help.exit_code, 2);
  EXPECT_TRUE(contains(help.err, "'frobnicate' is not a mote command")) << help.err;
}

TEST(MoteCli, UnknownFlagIsAUsageError) {
  const Outcome global = mote({"--frobnicate"});
  EXPECT_EQ(global.exit_code, 2);
  EXPECT_TRUE(contains(global.err, "--frobnicate")) << global.err;

  const Outcome sub = mote({"demo", "--simulated", "--frobnicate"});
  EXPECT_EQ(sub.exit_code, 2);
  EXPECT_TRUE(contains(sub.err, "--frobnicate")) << sub.err;
  EXPECT_TRUE(contains(sub.err, "mote demo --help")) << sub.err;
  EXPECT_TRUE(sub.out.empty()) << sub.out;  // nothing ran
}

TEST(MoteCli, BadValuesAreUsageErrors) {
  const Outcome duration = mote({"demo", "--simulated", "--duration", "5parsecs"});
  EXPECT_EQ(duration.exit_code, 2);
  EXPECT_TRUE(contains(duration.err, "'5parsecs' is not a duration")) << duration.err;

  const Outcome seed = mote({"demo", "--simulated", "--seed", "-1"});
  EXPECT_EQ(seed.exit_code, 2);

  const Outcome level = mote({"--log-level", "loud", "demo", "--simulated"});
  EXPECT_EQ(level.exit_code, 2);

  // Virtual time cannot run "until Ctrl-C".
  const Outcome forever = mote({"demo", "--async-core", "--simulated", "--duration", "0"});
  EXPECT_EQ(forever.exit_code, 2);
  EXPECT_TRUE(contains(forever.err, "--simulated")) << forever.err;

  // The tour's options without the tour: nothing starts.
  const Outcome tour_option = mote({"demo", "--simulated", "--duration", "10s"});
  EXPECT_EQ(tour_option.exit_code, 2);
  EXPECT_TRUE(contains(tour_option.err, "add --async-core")) << tour_option.err;
  EXPECT_TRUE(tour_option.out.empty()) << tour_option.out;
}

TEST(MoteCli, NoSubcommandPrintsHelpAndFails) {
  const Outcome run = mote({});
  EXPECT_EQ(run.exit_code, 2);
  EXPECT_TRUE(contains(run.err, "demo")) << run.err;
  EXPECT_TRUE(contains(run.err, "no command given")) << run.err;
  EXPECT_TRUE(run.out.empty()) << run.out;
}

// --- mote demo -------------------------------------------------------------------

struct TaskLine {
  std::size_t capacity = 0;
  std::size_t high_water = 0;
  std::string exit_status;
};

// The rows of the report's task table, by task name.
std::map<std::string, TaskLine> task_table(const std::string& out) {
  static const std::regex kRow(R"(^  (\w+(?: \w+)?) +(\d+) +(\d+)  (\w+)$)");
  std::map<std::string, TaskLine> rows;
  for (const std::string& line : lines(out)) {
    std::smatch m;
    if (std::regex_match(line, m, kRow)) {
      rows[m[1]] = TaskLine{std::stoul(m[2]), std::stoul(m[3]), m[4]};
    }
  }
  return rows;
}

TEST(MoteDemo, SimulatedRunHasReadingsSummaryAndFramesThatFit) {
  const Outcome run = mote({"demo", "--async-core", "--simulated", "--duration", "10s"});
  ASSERT_EQ(run.exit_code, 0) << run.out << run.err;

  // Readings from every sensor, in the number their periods give for 10 s.
  const std::map<std::string, int> counts = reading_counts(run.out);
  EXPECT_GE(counts.count("kitchen") ? counts.at("kitchen") : 0, 35) << run.out;  // every 250ms
  EXPECT_GE(counts.count("garage") ? counts.at("garage") : 0, 20) << run.out;    // every 400ms
  EXPECT_GE(counts.count("attic") ? counts.at("attic") : 0, 10) << run.out;      // every 700ms
  // The attic's hanging reads were cut off by with_timeout, and its watchdog noticed.
  EXPECT_TRUE(contains(run.out, "attic       read failed: deadline_exceeded")) << run.out;
  EXPECT_TRUE(contains(run.err, "watchdog: no good reading from attic for 1s")) << run.err;
  EXPECT_TRUE(contains(run.err, "watchdog: attic is back")) << run.err;
  EXPECT_FALSE(contains(run.err, "watchdog: no good reading from kitchen")) << run.err;

  // Periodic summaries, then the final one on the virtual clock.
  const std::vector<std::string> out_lines = lines(run.out);
  EXPECT_GE(std::count_if(out_lines.begin(), out_lines.end(),
                          [](const std::string& l) { return contains(l, "s  summary: "); }),
            9)
      << run.out;
  EXPECT_TRUE(contains(run.out, "\nsummary: 10.000s on the simulated clock")) << run.out;
  for (const char* sensor : kSensors) {
    EXPECT_TRUE(std::regex_search(
        run.out, std::regex(std::string("\n  ") + sensor + R"( +\d+m?s +\d+ +\d+ +-?\d+\.\d\d)")))
        << sensor << "\n"
        << run.out;
  }

  // Every task's frames fit its storage, with room to spare.
  const std::map<std::string, TaskLine> tasks = task_table(run.out);
  const char* const kTasks[] = {"supervisor",      "aggregator",    "sensor kitchen",
                                "sensor garage",   "sensor attic",  "watchdog kitchen",
                                "watchdog garage", "watchdog attic"};
  for (const char* name : kTasks) {
    ASSERT_TRUE(tasks.count(name)) << name << "\n" << run.out;
    const TaskLine& task = tasks.at(name);
    EXPECT_GT(task.high_water, 0u) << name;
    EXPECT_LT(task.high_water, task.capacity) << name;
    const bool sensor = std::string(name).rfind("sensor", 0) == 0;
    EXPECT_EQ(task.exit_status, sensor ? "cancelled" : "ok") << name;
  }
  EXPECT_FALSE(contains(run.out, "unexpected")) << run.out;
  EXPECT_TRUE(contains(run.out, "\nexecutor: 0 tasks live\n")) << run.out;
}

TEST(MoteDemo, SimulatedRunIsDeterministic) {
  const Outcome first = mote({"demo", "--async-core", "--simulated", "--duration", "10s"});
  const Outcome second = mote({"demo", "--async-core", "--simulated", "--duration", "10s"});
  EXPECT_EQ(first.exit_code, 0);
  EXPECT_FALSE(reading_counts(first.out).empty());
  EXPECT_EQ(first.out, second.out);
  EXPECT_EQ(first.err, second.err);
  // The seed is what the walks depend on.
  const Outcome reseeded =
      mote({"demo", "--async-core", "--simulated", "--duration", "10s", "--seed", "7"});
  EXPECT_EQ(reseeded.exit_code, 0);
  EXPECT_NE(first.out, reseeded.out);
}

TEST(MoteDemo, QuietPrintsOnlyTheSummary) {
  const Outcome run = mote({"demo", "--async-core", "--simulated", "--duration", "3s", "--quiet"});
  EXPECT_EQ(run.exit_code, 0);
  EXPECT_TRUE(reading_counts(run.out).empty()) << run.out;
  EXPECT_FALSE(contains(run.out, "s  summary: ")) << run.out;
  EXPECT_TRUE(contains(run.out, "summary: 3.000s on the simulated clock")) << run.out;
  EXPECT_TRUE(contains(run.out, "executor: 0 tasks live")) << run.out;
  EXPECT_FALSE(contains(run.err, "info")) << run.err;
}

TEST(MoteDemo, RealClockSmokeTest) {
  const Outcome run = mote({"demo", "--async-core", "--duration", "600ms"});
  EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
  EXPECT_FALSE(reading_counts(run.out).empty()) << run.out;
  EXPECT_TRUE(contains(run.out, "on the real clock")) << run.out;
}

TEST(MoteDemo, CtrlCStopsCleanly) {
  for (int signo : {SIGINT, SIGTERM}) {
    // --duration 0: runs until a signal.
    Process process({"demo", "--async-core", "--duration", "0"});
    ASSERT_TRUE(process.spawned());
    // Waits (without a time limit that matters) for the first reading: by then
    // the signals are blocked and watched.
    for (int i = 0; i < 6000 && reading_counts(process.out_so_far()).empty(); ++i) {
      std::this_thread::sleep_for(10ms);
    }
    ASSERT_FALSE(reading_counts(process.out_so_far()).empty());
    ASSERT_EQ(::kill(process.pid(), signo), 0);
    const Outcome run = process.wait();
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    EXPECT_TRUE(contains(
        run.err, signo == SIGINT ? "SIGINT received: stopping" : "SIGTERM received: stopping"))
        << run.err;
    EXPECT_TRUE(contains(run.out, "executor: 0 tasks live")) << run.out;
    EXPECT_FALSE(contains(run.out, "unexpected")) << run.out;
  }
}

// --- durations -------------------------------------------------------------------

TEST(Duration, Parses) {
  EXPECT_EQ(parse_duration("300ms"), async::Duration(300ms));
  EXPECT_EQ(parse_duration("10s"), async::Duration(10s));
  EXPECT_EQ(parse_duration("10"), async::Duration(10s));
  EXPECT_EQ(parse_duration("1.5s"), async::Duration(1500ms));
  EXPECT_EQ(parse_duration("0.25"), async::Duration(250ms));
  EXPECT_EQ(parse_duration("2m"), async::Duration(120s));
  EXPECT_EQ(parse_duration("1h"), async::Duration(3600s));
  EXPECT_EQ(parse_duration("750us"), async::Duration(750us));
  EXPECT_EQ(parse_duration("1.5ms"), async::Duration(1500us));
  EXPECT_EQ(parse_duration("0"), async::Duration::zero());
  EXPECT_EQ(parse_duration(".5s"), async::Duration(500ms));
}

TEST(Duration, RejectsNonsense) {
  for (const char* bad : {"", "s", "-1s", "1.5.2s", "10 s", "5parsecs", "1.5us", "1e3",
                          "99999999999999999999s", "9999999999999h"}) {
    EXPECT_FALSE(parse_duration(bad).has_value()) << bad;
  }
}

TEST(Duration, FormatsInTheLargestExactUnit) {
  EXPECT_EQ(format_duration(5s), "5s");
  EXPECT_EQ(format_duration(300ms), "300ms");
  EXPECT_EQ(format_duration(1500ms), "1500ms");
  EXPECT_EQ(format_duration(120s), "2m");
  EXPECT_EQ(format_duration(1500us), "1500us");
  EXPECT_EQ(format_duration(async::Duration::zero()), "0s");
}

}  // namespace
}  // namespace mote::cli
