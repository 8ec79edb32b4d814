// `mote`: the command-line program. This file parses the command line with
// CLI11 and hands over to the chosen subcommand (command.hpp).
//
// It is the one translation unit of mote built with -fexceptions (CLI11
// reports parse errors by throwing); every exception is caught in main_impl()
// and turned into an exit code, so none ever reaches no-exceptions code.
// Subcommands declare their options through mote::cli::Options and never see
// CLI11.

#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "command.hpp"
#include "duration.hpp"
#include "mote/base/log.hpp"
#include "mote_version.hpp"

namespace mote::cli {
namespace {

constexpr const char* kLogLevels[] = {"debug", "info", "warn", "error", "off"};

// Lists each subcommand by the first line of its description only.
class Formatter final : public CLI::Formatter {
 public:
  std::string make_subcommand(const CLI::App* sub) const override {
    std::string description = sub->get_description();
    description = description.substr(0, description.find('\n'));
    std::stringstream out;
    CLI::detail::format_help(out, sub->get_display_name(true), description, get_column_width());
    return out.str();
  }
};

// Turns a subcommand's option declarations into CLI11 options.
void add_options(CLI::App& app, const Options& options) {
  for (const Options::Entry& entry : options.entries()) {
    std::visit(
        [&app](const auto& o) {
          using T = std::decay_t<decltype(o)>;
          if constexpr (std::is_same_v<T, Options::Flag>) {
            app.add_flag(o.names, *o.target, o.help);
          } else if constexpr (std::is_same_v<T, Options::DurationOption>) {
            async::Duration* target = o.target;
            const async::Duration min = o.min;
            app.add_option_function<std::string>(
                   o.names, [target](const std::string& text) { *target = *parse_duration(text); },
                   o.help)
                ->check(CLI::Validator(
                    [min](std::string& text) -> std::string {
                      const auto parsed = parse_duration(text);
                      if (!parsed) {
                        return "'" + text + "' is not a duration (try 300ms, 1.5s, 2m)";
                      }
                      if (*parsed < min) return "must be at least " + format_duration(min);
                      return {};
                    },
                    "", "DURATION"))
                ->type_name("DURATION")
                ->default_str(format_duration(*target));
          } else if constexpr (std::is_same_v<T, Options::Integer>) {
            app.add_option(o.names, *o.target, o.help)
                ->check(CLI::Range(o.min, o.max).description(""))
                ->type_name("INT")
                ->capture_default_str();
          } else if constexpr (std::is_same_v<T, Options::Text>) {
            app.add_option(o.names, *o.target, o.help)->capture_default_str();
          } else if constexpr (std::is_same_v<T, Options::TextGroups>) {
            std::vector<std::vector<std::string>>* target = o.target;
            app.add_option_function<std::vector<std::string>>(
                   o.names,
                   [target](const std::vector<std::string>& values) { target->push_back(values); },
                   o.help)
                ->expected(o.min_values, o.max_values)
                ->trigger_on_parse()  // one call, one group, per use
                ->type_name("TEXT");
          } else {
            static_assert(std::is_same_v<T, Options::Positional>);
            app.add_option(o.name, *o.target, o.help)->required(o.required);
          }
        },
        entry);
  }
}

log::Level parse_log_level(const std::string& text) {
  for (unsigned i = 0; i < std::size(kLogLevels); ++i) {
    if (text == kLogLevels[i]) return static_cast<log::Level>(i);
  }
  return log::Level::info;  // unreachable: CLI::IsMember checked it
}

int main_impl(int argc, char** argv) {
  std::vector<std::unique_ptr<Command>> commands = all_commands();

  CLI::App app("mote: an asynchronous IoT stack, from the sensor pin to the browser.", "mote");
  app.formatter(std::make_shared<Formatter>());
  app.set_version_flag("--version", std::string("mote ") + kVersion, "Print the version and exit");
  app.require_subcommand(0, 1);
  app.footer(
      "Run 'mote help <command>' or 'mote <command> --help' for the options of a command.\n"
      "Exit status: 0 done, 1 failed, 2 bad command line.");

  std::string log_level = "info";
  app.add_option("--log-level", log_level, "Least severe log lines shown (on stderr)")
      ->check(CLI::IsMember(std::vector<std::string>(std::begin(kLogLevels), std::end(kLogLevels))))
      ->type_name("LEVEL")
      ->capture_default_str();

  std::vector<std::pair<CLI::App*, Command*>> subcommands;
  std::vector<int> usage_exit_codes;  // per subcommand
  for (const std::unique_ptr<Command>& command : commands) {
    std::string description = command->summary();
    if (std::string(command->description()) != description) {
      description += std::string("\n\n") + command->description();
    }
    CLI::App* sub = app.add_subcommand(command->name(), description + "\n");
    sub->fallthrough();  // global options may follow the subcommand name
    Options options;
    command->declare(options);
    // Commands with their own exit codes describe them themselves.
    if (options.usage_exit_code() == kExitUsage) {
      sub->footer("Exit status: 0 done, 1 failed, 2 bad command line.");
    }
    sub->set_help_flag(options.help_flag(), "Print this help message and exit");
    add_options(*sub, options);
    subcommands.emplace_back(sub, command.get());
    usage_exit_codes.push_back(options.usage_exit_code());
  }

  std::string help_topic;
  CLI::App* help = app.add_subcommand("help", "Show the help of mote or of one command");
  help->add_option("command", help_topic, "The command to explain");

  // app.help() would show the help of the chosen subcommand (`help` itself).
  const auto main_help = [&app]() {
    return app.get_formatter()->make_help(&app, app.get_name(), CLI::AppFormatMode::Normal);
  };
  // A bad command line exits with the chosen subcommand's code.
  const auto usage_exit_code = [&]() {
    for (std::size_t i = 0; i < subcommands.size(); ++i) {
      if (subcommands[i].first->parsed()) return usage_exit_codes[i];
    }
    return kExitUsage;
  };
  // The subcommand the error concerns, for the "see ... --help" hint.
  const auto usage_hint = [&app]() {
    const std::vector<CLI::App*> chosen = app.get_subcommands();
    return chosen.empty() ? std::string("mote --help")
                          : "mote " + chosen[0]->get_name() + " --help";
  };

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& done) {  // --help, --version
    return app.exit(done);
  } catch (const CLI::ExtrasError& extras) {
    const std::vector<std::string> rest = app.remaining();
    if (app.get_subcommands().empty() && !rest.empty() && !rest[0].empty() && rest[0][0] != '-') {
      std::fprintf(stderr, "mote: '%s' is not a mote command. See 'mote --help'.\n",
                   rest[0].c_str());
    } else {
      std::fprintf(stderr, "mote: %s\nSee '%s'.\n", extras.what(), usage_hint().c_str());
    }
    return usage_exit_code();
  } catch (const CLI::ParseError& error) {
    std::fprintf(stderr, "mote: %s\nSee '%s'.\n", error.what(), usage_hint().c_str());
    return usage_exit_code();
  }

  GlobalOptions global;
  global.log_level = parse_log_level(log_level);
  log::set_runtime_level(global.log_level);

  if (help->parsed()) {
    if (help_topic.empty()) {
      std::fputs(main_help().c_str(), stdout);
      return kExitOk;
    }
    for (const auto& [sub, command] : subcommands) {
      if (help_topic == sub->get_name()) {
        std::fputs(sub->help("mote").c_str(), stdout);
        return kExitOk;
      }
    }
    std::fprintf(stderr, "mote: '%s' is not a mote command. See 'mote --help'.\n",
                 help_topic.c_str());
    return kExitUsage;
  }
  for (const auto& [sub, command] : subcommands) {
    if (sub->parsed()) return command->run(global);
  }
  // No subcommand: like git, show what there is, as an error.
  std::fputs(main_help().c_str(), stderr);
  std::fputs("\nmote: no command given.\n", stderr);
  return kExitUsage;
}

}  // namespace
}  // namespace mote::cli

int main(int argc, char** argv) {
  try {
    return mote::cli::main_impl(argc, argv);
  } catch (const std::exception& e) {  // std::bad_alloc and the like, from the parser's strings
    std::fprintf(stderr, "mote: %s\n", e.what());
    return mote::cli::kExitFailure;
  }
}
