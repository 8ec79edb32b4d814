#include "mote/gateway/config.hpp"

#include <fstream>
#include <set>
#include <sstream>

// Header-only and without exceptions: toml::parse returns a parse_result.
// (Debian's shared libtomlplusplus is built with exceptions; the header-only
// form compiles the parser into this file with mote's flags.)
#define TOML_EXCEPTIONS 0
#define TOML_HEADER_ONLY 1
#include <toml++/toml.h>

namespace mote::gateway {
namespace {

std::string where(std::string_view source, const toml::source_region& region) {
  std::ostringstream text;
  text << source << ':' << region.begin.line << ':' << region.begin.column << ": ";
  return text.str();
}

// Reads the table's keys into the config, complaining about unknown keys and
// wrong types. `prefix` is the table's dotted name for messages.
class Reader {
 public:
  Reader(std::string_view source, std::string& error) : source_(source), error_(error) {}

  bool failed() const { return !error_.empty(); }

  // Checks that `table` has only `known` keys.
  void only(const toml::table& table, std::string_view prefix, const std::set<std::string>& known) {
    for (const auto& [key, node] : table) {
      if (!known.contains(std::string(key.str()))) {
        fail(node.source(), "unknown key " + quoted(prefix, key.str()));
      }
    }
  }

  template <typename T>
  void read(const toml::table& table, std::string_view prefix, std::string_view key, T& out) {
    const toml::node* node = table.get(key);
    if (node == nullptr || failed()) return;
    if constexpr (std::is_same_v<T, std::string>) {
      if (const auto* value = node->as_string()) {
        out = value->get();
        return;
      }
      fail(node->source(), quoted(prefix, key) + " must be a string");
    } else if constexpr (std::is_same_v<T, bool>) {
      if (const auto* value = node->as_boolean()) {
        out = value->get();
        return;
      }
      fail(node->source(), quoted(prefix, key) + " must be true or false");
    } else if constexpr (std::is_same_v<T, double>) {
      if (const auto value = node->value<double>()) {
        out = *value;
        return;
      }
      fail(node->source(), quoted(prefix, key) + " must be a number");
    } else {
      const auto value = node->value<std::int64_t>();
      if (!value) {
        fail(node->source(), quoted(prefix, key) + " must be an integer");
      } else if (*value < min_ || *value > max_) {
        fail(node->source(), quoted(prefix, key) + " must be between " + std::to_string(min_) +
                                 " and " + std::to_string(max_));
      } else {
        out = static_cast<T>(*value);
      }
    }
  }

  void range(std::int64_t min, std::int64_t max) {
    min_ = min;
    max_ = max;
  }

  void fail(const toml::source_region& region, const std::string& message) {
    if (error_.empty()) error_ = where(source_, region) + message;
  }

 private:
  // 'prefix.key', built by appending: GCC 12 at -O3 warns (-Wrestrict, a
  // false positive) about "'" + std::string&&, which inserts at the front.
  static std::string quoted(std::string_view prefix, std::string_view key) {
    std::string out = "'";
    if (!prefix.empty()) {
      out += prefix;
      out += '.';
    }
    out += key;
    out += '\'';
    return out;
  }

  std::string_view source_;
  std::string& error_;
  std::int64_t min_ = 0;
  std::int64_t max_ = 0;
};

void read_listen(Reader& reader, const toml::table& root, const char* name, ListenConfig& listen,
                 std::set<std::string> extra_keys = {}) {
  const toml::table* table = root[name].as_table();
  if (table == nullptr) return;
  extra_keys.insert({"bind", "port"});
  reader.only(*table, name, extra_keys);
  reader.read(*table, name, "bind", listen.bind);
  reader.range(1, 65535);
  reader.read(*table, name, "port", listen.port);
}

void read_retention(Reader& reader, const toml::table& table, const char* key,
                    std::chrono::hours& retention) {
  std::int64_t days = retention.count() / 24;
  reader.range(0, 36500);
  reader.read(table, "store", key, days);
  retention = std::chrono::hours(days * 24);
}

// toml++ 3.3 reaches __builtin_unreachable on some non-ASCII characters
// (U+0235, for one) in its whitespace checks: undefined behaviour on a
// config file's text. The gateway's config needs no more than ASCII; other
// characters can still be written as \uXXXX escapes inside strings.
bool reject_non_ascii(std::string_view text, std::string_view source, std::string& error) {
  std::size_t line = 1;
  std::size_t column = 1;
  for (const char c : text) {
    if (static_cast<unsigned char>(c) >= 0x80) {
      error = std::string(source) + ":" + std::to_string(line) + ":" + std::to_string(column) +
              ": only ASCII is accepted; write other characters as \\uXXXX escapes in strings";
      return false;
    }
    if (c == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return true;
}

}  // namespace

Result<GatewayConfig> parse_gateway_config(std::string_view text, std::string_view source,
                                           std::string& error) {
  error.clear();
  if (!reject_non_ascii(text, source, error)) return Status::invalid_argument();
  toml::parse_result parsed = toml::parse(text, source);
  if (!parsed) {
    error = where(source, parsed.error().source()) + std::string(parsed.error().description());
    return Status::invalid_argument();
  }
  const toml::table& root = parsed.table();
  GatewayConfig config;
  Reader reader(source, error);
  reader.only(root, "",
              {"data_dir", "log_level", "mqtt", "http", "coap", "store", "devices", "alerts"});
  reader.read(root, "", "data_dir", config.data_dir);
  reader.read(root, "", "log_level", config.log_level);
  if (!reader.failed() && config.log_level != "error" && config.log_level != "warn" &&
      config.log_level != "info" && config.log_level != "debug") {
    reader.fail(root.get("log_level")->source(), "'log_level' must be error, warn, info or debug");
  }

  read_listen(reader, root, "mqtt", config.mqtt, {"topic_prefix", "websocket"});
  if (const toml::table* mqtt = root["mqtt"].as_table()) {
    reader.read(*mqtt, "mqtt", "topic_prefix", config.topic_prefix);
    reader.read(*mqtt, "mqtt", "websocket", config.mqtt_websocket);
  }
  read_listen(reader, root, "http", config.http, {"dashboard"});
  if (const toml::table* http = root["http"].as_table()) {
    reader.read(*http, "http", "dashboard", config.dashboard_dir);
  }
  read_listen(reader, root, "coap", config.coap);

  if (const toml::table* store = root["store"].as_table()) {
    reader.only(*store, "store",
                {"path", "raw_retention_days", "minute_retention_days", "hour_retention_days"});
    reader.read(*store, "store", "path", config.store_path);
    read_retention(reader, *store, "raw_retention_days", config.raw_retention);
    read_retention(reader, *store, "minute_retention_days", config.minute_retention);
    read_retention(reader, *store, "hour_retention_days", config.hour_retention);
  }

  if (const toml::table* devices = root["devices"].as_table()) {
    reader.only(*devices, "devices", {"silent_after_s"});
    std::int64_t seconds = config.devices.silent_after.count() / 1000;
    reader.range(1, std::int64_t{86400} * 365);
    reader.read(*devices, "devices", "silent_after_s", seconds);
    config.devices.silent_after = std::chrono::seconds(seconds);
  }

  if (const toml::table* alerts = root["alerts"].as_table()) {
    reader.only(*alerts, "alerts", {"threshold"});
    if (const toml::node* list_node = alerts->get("threshold")) {
      const toml::array* list = list_node->as_array();
      if (list == nullptr) {
        reader.fail(list_node->source(),
                    "'alerts.threshold' must be an array of tables ([[alerts.threshold]])");
      } else {
        for (const toml::node& entry : *list) {
          const toml::table* table = entry.as_table();
          if (table == nullptr) {
            reader.fail(entry.source(), "each [[alerts.threshold]] must be a table");
            break;
          }
          reader.only(*table, "alerts.threshold", {"device", "metric", "above", "below"});
          ThresholdRule rule;
          double above = 0;
          double below = 0;
          reader.read(*table, "alerts.threshold", "device", rule.device);
          reader.read(*table, "alerts.threshold", "metric", rule.metric);
          reader.read(*table, "alerts.threshold", "above", above);
          reader.read(*table, "alerts.threshold", "below", below);
          if (table->contains("above")) rule.above = above;
          if (table->contains("below")) rule.below = below;
          if (!reader.failed() && (rule.metric.empty() || (!rule.above && !rule.below))) {
            reader.fail(table->source(), "a threshold needs 'metric' and 'above' or 'below'");
          }
          config.devices.thresholds.push_back(std::move(rule));
        }
      }
    }
  }
  if (reader.failed()) return Status::invalid_argument();
  return config;
}

Result<GatewayConfig> load_gateway_config(const std::string& path, std::string& error) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    error = path + ": cannot read the file";
    return Status::not_found();
  }
  std::stringstream text;
  text << file.rdbuf();
  return parse_gateway_config(text.str(), path, error);
}

}  // namespace mote::gateway
