#pragma once
// Drives a parser over a byte stream the way a connection would: bytes
// arrive in pieces (cut at given offsets) into one buffer, heads are parsed
// from each message's first byte, bodies from the head's end, and messages
// follow each other (pipelining) until the stream ends or an error. Used by
// the unit tests and the fuzzers, whose main property is that the outcome
// does not depend on where the stream was cut. Host only.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mote/base/assert.hpp"
#include "mote/http/parser.hpp"

namespace mote::http::fuzz {

struct ParsedMessage {
  std::string start;  // "GET /x 1.1" or "200 OK 1.1"
  std::vector<std::pair<std::string, std::string>> headers;
  BodyFraming framing = BodyFraming::none;
  std::uint64_t content_length = 0;
  bool keep_alive = false;
  bool flag = false;  // request: upgrade; response: switches_protocol
  std::string body;
  friend bool operator==(const ParsedMessage&, const ParsedMessage&) = default;
};

struct StreamOutcome {
  std::vector<ParsedMessage> messages;
  ParseError error = ParseError::none;  // what stopped the stream, if anything
  std::size_t consumed = 0;             // bytes of complete messages
  friend bool operator==(const StreamOutcome&, const StreamOutcome&) = default;
};

inline std::string text_of(std::string_view text) { return std::string(text); }

// What requests and responses share; `start` leads with the kind's fields.
template <typename Head>
ParsedMessage describe_common(const Head& head, std::string start, bool flag) {
  ParsedMessage message;
  message.start = std::move(start) + " " + std::to_string(head.version.major) + "." +
                  std::to_string(head.version.minor);
  for (const Header& field : head.headers) {
    message.headers.emplace_back(text_of(field.name), text_of(field.value));
  }
  message.framing = head.framing;
  message.content_length = head.content_length;
  message.keep_alive = head.keep_alive;
  message.flag = flag;
  return message;
}

inline ParsedMessage describe(const RequestHead& head) {
  return describe_common(head, text_of(head.method_text) + " " + text_of(head.target),
                         head.upgrade);
}

inline ParsedMessage describe(const ResponseHead& head) {
  return describe_common(head, std::to_string(head.status) + " " + text_of(head.reason),
                         head.switches_protocol);
}

inline void reset_parser(RequestParser& parser, Method) { parser.reset(); }
inline void reset_parser(ResponseParser& parser, Method method) { parser.reset(method); }

// `cuts`: ascending offsets where the stream is split into arrivals.
// `request_method`: for responses, the method each one answers.
template <typename Parser>
StreamOutcome parse_stream(std::string_view input, const std::vector<std::size_t>& cuts,
                           Parser& parser, Method request_method = Method::get) {
  const ConstByteSpan bytes = bytes_of(input);
  StreamOutcome outcome;
  std::size_t arrived = 0;
  std::size_t next_cut = 0;
  auto arrive_more = [&]() {
    if (arrived == bytes.size()) return false;
    while (next_cut < cuts.size() && cuts[next_cut] <= arrived) ++next_cut;
    arrived = next_cut < cuts.size() ? cuts[next_cut] : bytes.size();
    return true;
  };
  arrive_more();
  std::size_t start = 0;
  for (;;) {
    reset_parser(parser, request_method);
    // The head.
    std::size_t head_size = 0;
    for (;;) {
      Result<std::size_t> head = parser.parse_head(bytes.subspan(start, arrived - start));
      if (!head.ok()) {
        outcome.error = parser.error();
        return outcome;
      }
      head_size = *head;
      if (head_size != 0) break;
      if (!arrive_more()) {
        if (!parser.end_of_stream().ok()) outcome.error = parser.error();
        return outcome;
      }
    }
    ParsedMessage message = describe(parser.head());
    // The body.
    std::size_t position = start + head_size;
    for (;;) {
      Result<BodyChunk> chunk = parser.parse_body(bytes.subspan(position, arrived - position));
      if (!chunk.ok()) {
        outcome.error = parser.error();
        return outcome;
      }
      message.body.append(as_string_view(chunk->data));
      // Progress: a call uses input unless it has none or the message ended.
      MOTE_ASSERT(chunk->consumed > 0 || position == arrived || chunk->complete);
      MOTE_ASSERT(chunk->consumed <= arrived - position);
      position += chunk->consumed;
      if (chunk->complete) break;
      if (position < arrived) continue;
      if (!arrive_more()) {
        if (!parser.end_of_stream().ok()) {
          outcome.error = parser.error();
          return outcome;
        }
        break;  // read until close
      }
    }
    if (message.framing == BodyFraming::content_length) {
      MOTE_ASSERT(message.body.size() == message.content_length);
    }
    MOTE_ASSERT(parser.body_received() == message.body.size());
    outcome.messages.push_back(std::move(message));
    outcome.consumed = position;
    start = position;
    if (parser.head().framing == BodyFraming::until_close) return outcome;
    if (start == bytes.size()) return outcome;
    if (start == arrived && !arrive_more()) return outcome;
  }
}

// One cut at every offset in turn, and one byte at a time: each must give
// the same outcome as the whole stream at once. Aborts otherwise.
template <typename Parser>
StreamOutcome check_split_invariance(std::string_view input, Parser& parser,
                                     Method request_method = Method::get,
                                     std::size_t max_single_cuts = SIZE_MAX) {
  const StreamOutcome whole = parse_stream(input, {}, parser, request_method);
  const std::size_t step = input.size() <= max_single_cuts ? 1 : input.size() / max_single_cuts + 1;
  for (std::size_t cut = 1; cut < input.size(); cut += step) {
    MOTE_ASSERT(parse_stream(input, {cut}, parser, request_method) == whole);
  }
  std::vector<std::size_t> every;
  for (std::size_t cut = 1; cut < input.size(); ++cut) every.push_back(cut);
  MOTE_ASSERT(parse_stream(input, every, parser, request_method) == whole);
  return whole;
}

}  // namespace mote::http::fuzz
