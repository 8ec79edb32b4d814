#pragma once
// The byte form of a Message in the broker's database (a BLOB column): a
// version byte and the fields in a fixed order, lengths as 32-bit
// big-endian. Decoding checks every length and rejects trailing bytes, so
// a damaged row is an error (data_loss), never a wrong message.
//
//   u8  version (1)
//   u8  flags: bits 0-1 QoS, 2 retain, 3 payload format present,
//       4 content type present, 5 response topic present,
//       6 correlation data present
//   i64 expires_at_ms (Unix ms; 0 never)
//   u8  payload format                     (if flagged)
//   str topic, bytes payload
//   str content type, str response topic, bytes correlation data (each if flagged)
//   u32 user property count, then name/value strings
//   where str/bytes = u32 length + bytes

#include <cstdint>
#include <span>
#include <vector>

#include "mote/base/result.hpp"
#include "mote/broker/message.hpp"

namespace mote::broker {

std::vector<std::uint8_t> encode_message_record(const Message& message);

// Errors: data_loss for anything that is not a whole version-1 record
// (unknown version, a length past the end, trailing bytes, QoS 3).
Result<Message> decode_message_record(std::span<const std::uint8_t> record);

}  // namespace mote::broker
