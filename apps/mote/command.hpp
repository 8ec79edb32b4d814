#pragma once
// A subcommand of the `mote` program (`mote demo`, `mote sensor`, `mote broker`, ...).
//
// A subcommand declares its options through Options, which knows nothing of
// the command-line parser: CLI11 throws exceptions, so it is confined to
// main.cpp, the one translation unit of mote built with -fexceptions. Every
// other file of the program, subcommands included, is ordinary no-exceptions
// mote code.
//
// Adding a subcommand (see docs/cli.md): write foo_command.{hpp,cpp} with a
// `std::unique_ptr<Command> make_foo_command()`, add that file to
// apps/mote/CMakeLists.txt and one line to all_commands() in commands.cpp.

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "mote/async/time.hpp"
#include "mote/base/log.hpp"

namespace mote::cli {

// Exit codes of every subcommand.
inline constexpr int kExitOk = 0;       // done (also after a clean stop by SIGINT/SIGTERM)
inline constexpr int kExitFailure = 1;  // ran, and something went wrong
inline constexpr int kExitUsage = 2;    // bad command line; nothing was done

// Options every subcommand accepts (before or after the subcommand name).
struct GlobalOptions {
  log::Level log_level = log::Level::info;
};

// The options of one subcommand. `names` is "-d,--duration" or "--simulated";
// `target` is where the parsed value goes and holds the default beforehand
// (it must outlive the parse, normally a member of the Command).
class Options {
 public:
  struct Flag {
    std::string names;
    bool* target;
    std::string help;
  };
  // "250ms", "1.5s", "2m"; see parse_duration() in duration.hpp.
  struct DurationOption {
    std::string names;
    async::Duration* target;
    std::string help;
    async::Duration min;
  };
  struct Integer {
    std::string names;
    std::int64_t* target;
    std::string help;
    std::int64_t min;
    std::int64_t max;
  };
  struct Text {
    std::string names;
    std::string* target;
    std::string help;
  };
  // A repeatable option ("-t a -t b", "-D publish user-property k v"): each
  // use appends its own values, min_values..max_values of them, as one group.
  struct TextGroups {
    std::string names;
    std::vector<std::vector<std::string>>* target;
    std::string help;
    int min_values;
    int max_values;
  };
  // A positional argument ("topic" in `mote pub <topic> <message>`).
  struct Positional {
    std::string name;
    std::string* target;
    std::string help;
    bool required;
  };
  using Entry = std::variant<Flag, DurationOption, Integer, Text, TextGroups, Positional>;

  void flag(std::string names, bool& target, std::string help) {
    entries_.emplace_back(Flag{std::move(names), &target, std::move(help)});
  }
  void duration(std::string names, async::Duration& target, std::string help,
                async::Duration min = async::Duration::zero()) {
    entries_.emplace_back(DurationOption{std::move(names), &target, std::move(help), min});
  }
  void integer(std::string names, std::int64_t& target, std::string help, std::int64_t min,
               std::int64_t max) {
    entries_.emplace_back(Integer{std::move(names), &target, std::move(help), min, max});
  }
  void text(std::string names, std::string& target, std::string help) {
    entries_.emplace_back(Text{std::move(names), &target, std::move(help)});
  }
  void text_groups(std::string names, std::vector<std::vector<std::string>>& target,
                   std::string help, int min_values, int max_values) {
    entries_.emplace_back(
        TextGroups{std::move(names), &target, std::move(help), min_values, max_values});
  }
  void positional(std::string name, std::string& target, std::string help, bool required) {
    entries_.emplace_back(Positional{std::move(name), &target, std::move(help), required});
  }
  // The help flag's names: "-h,--help" unless the command needs -h for
  // itself (`mote pub -h HOST`, as mosquitto_pub has it).
  void help_flag(std::string names) { help_flag_ = std::move(names); }
  // The exit code of a bad command line: kExitUsage unless the command keeps
  // another tool's convention (mosquitto_pub/sub exit 1).
  void usage_exit_code(int code) { usage_exit_code_ = code; }

  [[nodiscard]] const std::vector<Entry>& entries() const { return entries_; }
  [[nodiscard]] const std::string& help_flag() const { return help_flag_; }
  [[nodiscard]] int usage_exit_code() const { return usage_exit_code_; }

 private:
  std::vector<Entry> entries_;
  std::string help_flag_ = "-h,--help";
  int usage_exit_code_ = 2;  // kExitUsage
};

class Command {
 public:
  Command() = default;
  Command(const Command&) = delete;
  Command& operator=(const Command&) = delete;
  virtual ~Command() = default;

  // The word after `mote`.
  [[nodiscard]] virtual const char* name() const = 0;
  // One line for the list in `mote --help`.
  [[nodiscard]] virtual const char* summary() const = 0;
  // The text above the options in `mote <name> --help` (defaults to summary()).
  [[nodiscard]] virtual const char* description() const { return summary(); }
  // Declares the options, binding them to members of the command.
  virtual void declare(Options& options) = 0;
  // Runs after a successful parse; returns the exit code. Usage errors the
  // parser cannot see (options that exclude each other) print a message
  // starting with "mote <name>: " to stderr and return kExitUsage.
  virtual int run(const GlobalOptions& global) = 0;
};

// Every subcommand, in the order `mote --help` lists them (commands.cpp).
std::vector<std::unique_ptr<Command>> all_commands();

}  // namespace mote::cli
