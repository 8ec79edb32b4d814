#include "mqtt_message_format.hpp"

#include <cstdio>

namespace mote::cli {
namespace {

constexpr std::string_view kFields = "%tplqrmIUxXCERFPSD";
constexpr std::string_view kEscapes = "\\0aenrtv";

void append_hex(ConstByteSpan bytes, bool upper, std::string& out) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  for (const std::byte b : bytes) {
    const auto value = static_cast<unsigned>(b);
    out += digits[value >> 4];
    out += digits[value & 0xf];
  }
}

void append_bytes(ConstByteSpan bytes, std::string& out) {
  out.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

void append_integer(const mqtt::Message& message, mqtt::PropertyId id, std::string& out) {
  if (const auto value = message.properties.integer(id)) out += std::to_string(*value);
}

void append_field(char field, const mqtt::Message& message, ArrivalTime time, std::string& out) {
  using mqtt::PropertyId;
  switch (field) {
    case '%': out += '%'; break;
    case 't': out += message.topic; break;
    case 'p': append_bytes(message.payload, out); break;
    case 'l': out += std::to_string(message.payload.size()); break;
    case 'q': out += std::to_string(static_cast<int>(message.qos)); break;
    case 'r': out += message.retain ? '1' : '0'; break;
    case 'm': out += std::to_string(message.packet_id); break;
    case 'x': append_hex(message.payload, false, out); break;
    case 'X': append_hex(message.payload, true, out); break;
    case 'I': {
      std::tm local{};
      ::localtime_r(&time.seconds, &local);
      char text[64];
      const std::size_t n = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S%z", &local);
      out.append(text, n);
      break;
    }
    case 'U': {
      char text[48];
      const int n = std::snprintf(text, sizeof text, "%lld.%09ld",
                                  static_cast<long long>(time.seconds), time.nanoseconds);
      out.append(text, static_cast<std::size_t>(n));
      break;
    }
    case 'C':
      if (const auto value = message.properties.string(PropertyId::content_type)) out += *value;
      break;
    case 'R':
      if (const auto value = message.properties.string(PropertyId::response_topic)) out += *value;
      break;
    case 'D':
      if (const auto p = message.properties.find(PropertyId::correlation_data)) {
        append_bytes(p->binary, out);
      }
      break;
    case 'E': append_integer(message, PropertyId::message_expiry_interval, out); break;
    case 'F': append_integer(message, PropertyId::payload_format_indicator, out); break;
    case 'S': {  // every Subscription Identifier, comma-separated
      bool first = true;
      for (const mqtt::Property& p : message.properties) {
        if (p.id != PropertyId::subscription_identifier) continue;
        if (!first) out += ',';
        out += std::to_string(p.integer);
        first = false;
      }
      break;
    }
    case 'P': {  // user properties as key:value, space-separated
      bool first = true;
      for (const mqtt::Property& p : message.properties) {
        if (p.id != PropertyId::user_property) continue;
        if (!first) out += ' ';
        out.append(p.string).append(":").append(p.value);
        first = false;
      }
      break;
    }
    default: break;  // check_message_format refused it
  }
}

char escaped(char c) {
  switch (c) {
    case '0': return '\0';
    case 'a': return '\a';
    case 'e': return '\x1b';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'v': return '\v';
    default: return c;  // '\\'
  }
}

}  // namespace

bool check_message_format(std::string_view format, std::string& error) {
  for (std::size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if (c != '%' && c != '\\') continue;
    const std::string_view allowed = c == '%' ? kFields : kEscapes;
    if (i + 1 == format.size()) {
      error = std::string("the format ends with a lone '") + c + "'";
      return false;
    }
    if (allowed.find(format[i + 1]) == std::string_view::npos) {
      error = std::string("'") + c + format[i + 1] + "' is not a format field (known: " +
              (c == '%' ? "%% %t %p %l %q %r %m %I %U %x %X %C %E %R %F %P %S %D"
                        : R"(\\ \0 \a \e \n \r \t \v)") +
              ")";
      return false;
    }
    ++i;
  }
  return true;
}

void format_message(std::string_view format, const mqtt::Message& message, ArrivalTime time,
                    std::string& out) {
  for (std::size_t i = 0; i < format.size(); ++i) {
    const char c = format[i];
    if ((c == '%' || c == '\\') && i + 1 < format.size()) {
      const char next = format[++i];
      if (c == '%') {
        append_field(next, message, time, out);
      } else {
        out += escaped(next);
      }
    } else {
      out += c;
    }
  }
}

bool format_message_plain(const mqtt::Message& message, bool verbose, std::string& out) {
  if (verbose) {
    out += message.topic;
    if (message.payload.empty()) {
      out += " (null)";
    } else {
      out += ' ';
      append_bytes(message.payload, out);
    }
    return true;
  }
  if (message.payload.empty()) return false;
  append_bytes(message.payload, out);
  return true;
}

}  // namespace mote::cli
