#include "mote/net/wire/dhcp.hpp"

#include <algorithm>

namespace mote::net::wire {
namespace {

constexpr std::uint8_t kEthernet = 1;  // RFC 1700 hardware type, as in ARP
constexpr std::uint16_t kBroadcastFlag = 0x8000;
// RFC 2132 §9.10: "The minimum legal value is 576."
constexpr std::uint16_t kMinMaxMessageSize = 576;

constexpr std::uint8_t code_of(DhcpOptionCode code) { return static_cast<std::uint8_t>(code); }

// RFC 2131 §3.1 / Table 1: which messages a client sends (BOOTREQUEST) and
// which a server sends (BOOTREPLY).
constexpr std::uint8_t op_for(DhcpMessageType type) {
  switch (type) {
    case DhcpMessageType::offer:
    case DhcpMessageType::ack:
    case DhcpMessageType::nak: return DhcpPacket<>::kBootReply;
    default: return DhcpPacket<>::kBootRequest;
  }
}

Result<Ipv4Address> address_option(ConstByteSpan data) {
  if (data.size() != Ipv4Address::kSize) return Status::invalid_argument();
  return Ipv4Address::from_bytes(data.data());
}

// RFC 2132 §3.5 / §3.8: "The minimum length for the router option is 4
// octets, and the length MUST always be a multiple of 4."
Status check_address_list(ConstByteSpan data) {
  if (data.empty() || data.size() % Ipv4Address::kSize != 0) return Status::invalid_argument();
  return ok_status();
}

Result<std::uint32_t> u32_option(ConstByteSpan data) {
  if (data.size() != 4) return Status::invalid_argument();
  return load_be32(data.data());
}

// Text and byte options of RFC 2132 have a minimum length of 1 (the client
// identifier, §9.14: 2).
Result<ConstByteSpan> bytes_option(ConstByteSpan data, std::size_t min_len) {
  if (data.size() < min_len) return Status::invalid_argument();
  return data;
}

}  // namespace

Status check_dhcp_options(ConstByteSpan options) {
  std::size_t position = 0;
  while (position < options.size()) {
    const auto code = std::to_integer<std::uint8_t>(options[position]);
    if (code == code_of(DhcpOptionCode::pad)) {
      ++position;
      continue;
    }
    if (code == code_of(DhcpOptionCode::end)) return ok_status();
    // RFC 2132 §2: "all other options are variable-length with a length
    // octet following the tag octet" that does not count itself or the tag.
    if (position + 1 >= options.size()) return Status::out_of_range();
    const auto length = std::to_integer<std::size_t>(options[position + 1]);
    if (position + 2 + length > options.size()) return Status::out_of_range();
    position += 2 + length;
  }
  return ok_status();
}

Result<DhcpRepr> DhcpRepr::parse(const DhcpPacket<>& packet) {
  if (packet.hardware_type() != kEthernet || packet.hardware_len() != MacAddress::kSize) {
    return Status::unimplemented();
  }
  DhcpRepr repr;
  repr.transaction_id = packet.transaction_id();
  repr.secs = packet.secs();
  repr.broadcast = packet.broadcast();
  repr.client_hardware_address = MacAddress::from_bytes(packet.client_hardware_address().data());
  repr.client_ip = packet.client_ip();
  repr.your_ip = packet.your_ip();
  repr.server_ip = packet.server_ip();
  repr.relay_agent_ip = packet.relay_agent_ip();

  std::optional<std::uint8_t> message_type;
  DhcpOptionReader reader(packet.options());
  while (std::optional<DhcpOption> option = reader.next()) {
    const ConstByteSpan data = option->data;
    switch (DhcpOptionCode{option->code}) {
      case DhcpOptionCode::message_type:
        // RFC 2132 §9.6: "The code for this option is 53, and its length is 1."
        if (data.size() != 1) return Status::invalid_argument();
        message_type = std::to_integer<std::uint8_t>(data[0]);
        break;
      case DhcpOptionCode::server_identifier: {
        MOTE_TRY_ASSIGN(repr.server_identifier, address_option(data));
        break;
      }
      case DhcpOptionCode::requested_ip: {
        MOTE_TRY_ASSIGN(repr.requested_ip, address_option(data));
        break;
      }
      case DhcpOptionCode::subnet_mask: {
        MOTE_TRY_ASSIGN(repr.subnet_mask, address_option(data));
        break;
      }
      case DhcpOptionCode::broadcast_address: {
        MOTE_TRY_ASSIGN(repr.broadcast_address, address_option(data));
        break;
      }
      case DhcpOptionCode::router:
        MOTE_TRY(check_address_list(data));
        repr.router = Ipv4Address::from_bytes(data.data());
        break;
      case DhcpOptionCode::dns_server:
        MOTE_TRY(check_address_list(data));
        repr.dns_servers.clear();
        for (std::size_t i = 0; i < data.size() && !repr.dns_servers.full();
             i += Ipv4Address::kSize) {
          repr.dns_servers.push_back(Ipv4Address::from_bytes(data.data() + i));
        }
        break;
      case DhcpOptionCode::lease_time: {
        MOTE_TRY_ASSIGN(repr.lease_time, u32_option(data));
        break;
      }
      case DhcpOptionCode::renewal_time: {
        MOTE_TRY_ASSIGN(repr.renewal_time, u32_option(data));
        break;
      }
      case DhcpOptionCode::rebinding_time: {
        MOTE_TRY_ASSIGN(repr.rebinding_time, u32_option(data));
        break;
      }
      case DhcpOptionCode::max_message_size: {
        if (data.size() != 2 || load_be16(data.data()) < kMinMaxMessageSize) {
          return Status::invalid_argument();
        }
        repr.max_message_size = load_be16(data.data());
        break;
      }
      case DhcpOptionCode::client_identifier: {
        MOTE_TRY_ASSIGN(repr.client_identifier, bytes_option(data, 2));
        break;
      }
      case DhcpOptionCode::parameter_request_list: {
        MOTE_TRY_ASSIGN(repr.parameter_request_list, bytes_option(data, 1));
        break;
      }
      case DhcpOptionCode::host_name: {
        MOTE_TRY_ASSIGN(ConstByteSpan text, bytes_option(data, 1));
        repr.host_name = as_string_view(text);
        break;
      }
      case DhcpOptionCode::domain_name: {
        MOTE_TRY_ASSIGN(ConstByteSpan text, bytes_option(data, 1));
        repr.domain_name = as_string_view(text);
        break;
      }
      case DhcpOptionCode::message: {
        MOTE_TRY_ASSIGN(ConstByteSpan text, bytes_option(data, 1));
        repr.message = as_string_view(text);
        break;
      }
      default: break;  // RFC 2131 §4.1: options a client does not know are ignored.
    }
  }
  // RFC 2131 §3: "DHCP messages ... MUST include the 'DHCP message type'
  // option"; without it this is plain BOOTP.
  if (!message_type || *message_type < static_cast<std::uint8_t>(DhcpMessageType::discover) ||
      *message_type > static_cast<std::uint8_t>(DhcpMessageType::inform)) {
    return Status::unimplemented();
  }
  repr.message_type = DhcpMessageType{*message_type};
  if (packet.op() != op_for(repr.message_type)) return Status::invalid_argument();
  return repr;
}

std::size_t DhcpRepr::options_len() const {
  std::size_t length = 3;  // message type
  auto add = [&length](bool present, std::size_t data_len) {
    if (present) length += 2 + data_len;
  };
  add(!client_identifier.empty(), client_identifier.size());
  add(server_identifier.has_value(), 4);
  add(requested_ip.has_value(), 4);
  add(lease_time.has_value(), 4);
  add(renewal_time.has_value(), 4);
  add(rebinding_time.has_value(), 4);
  add(subnet_mask.has_value(), 4);
  add(broadcast_address.has_value(), 4);
  add(!domain_name.empty(), domain_name.size());
  add(!host_name.empty(), host_name.size());
  add(!dns_servers.empty(), dns_servers.size() * 4);
  add(router.has_value(), 4);
  add(!parameter_request_list.empty(), parameter_request_list.size());
  add(max_message_size.has_value(), 2);
  add(!message.empty(), message.size());
  return length + 1;  // END
}

std::size_t DhcpRepr::buffer_len() const {
  return std::max(kMinMessageLen, DhcpPacket<>::kOptionsOffset + options_len());
}

Result<std::size_t> DhcpRepr::emit(ByteSpan buffer) const {
  // RFC 2132 §2: one length octet, so at most 255 bytes of data per option.
  constexpr std::size_t kMaxOptionLen = 255;
  if (client_identifier.size() > kMaxOptionLen || host_name.size() > kMaxOptionLen ||
      domain_name.size() > kMaxOptionLen || message.size() > kMaxOptionLen ||
      parameter_request_list.size() > kMaxOptionLen) {
    return Status::invalid_argument();
  }
  const std::size_t length = buffer_len();
  if (buffer.size() < length) return Status::resource_exhausted();
  for (std::size_t i = 0; i < length; ++i) buffer[i] = std::byte{0};

  auto packet = DhcpPacket<ByteSpan>::unchecked(buffer);
  packet.set_op(op_for(message_type));
  packet.set_hardware(kEthernet, MacAddress::kSize);
  packet.set_transaction_id(transaction_id);
  packet.set_secs(secs);
  packet.set_flags(broadcast ? kBroadcastFlag : 0);
  packet.set_client_ip(client_ip);
  packet.set_your_ip(your_ip);
  packet.set_server_ip(server_ip);
  packet.set_relay_agent_ip(relay_agent_ip);
  client_hardware_address.write_to(buffer.data() + 28);
  packet.set_magic_cookie();

  ByteWriter writer(buffer.subspan(DhcpPacket<>::kOptionsOffset, options_len()));
  // Room was reserved above, so the writes cannot fail.
  auto put_header = [&writer](DhcpOptionCode code, std::size_t data_len) {
    writer.write_u8(code_of(code)).ignore_error();
    writer.write_u8(static_cast<std::uint8_t>(data_len)).ignore_error();
  };
  auto put_bytes = [&](DhcpOptionCode code, ConstByteSpan data) {
    if (data.empty()) return;
    put_header(code, data.size());
    writer.write_bytes(data).ignore_error();
  };
  auto put_address = [&](DhcpOptionCode code, std::optional<Ipv4Address> address) {
    if (!address) return;
    put_header(code, 4);
    writer.write_be32(address->to_u32()).ignore_error();
  };
  auto put_u32 = [&](DhcpOptionCode code, std::optional<std::uint32_t> value) {
    if (!value) return;
    put_header(code, 4);
    writer.write_be32(*value).ignore_error();
  };

  put_header(DhcpOptionCode::message_type, 1);
  writer.write_u8(static_cast<std::uint8_t>(message_type)).ignore_error();
  put_bytes(DhcpOptionCode::client_identifier, client_identifier);
  put_address(DhcpOptionCode::server_identifier, server_identifier);
  put_address(DhcpOptionCode::requested_ip, requested_ip);
  put_u32(DhcpOptionCode::lease_time, lease_time);
  put_u32(DhcpOptionCode::renewal_time, renewal_time);
  put_u32(DhcpOptionCode::rebinding_time, rebinding_time);
  put_address(DhcpOptionCode::subnet_mask, subnet_mask);
  put_address(DhcpOptionCode::broadcast_address, broadcast_address);
  put_bytes(DhcpOptionCode::domain_name, bytes_of(domain_name));
  put_bytes(DhcpOptionCode::host_name, bytes_of(host_name));
  if (!dns_servers.empty()) {
    put_header(DhcpOptionCode::dns_server, dns_servers.size() * 4);
    for (Ipv4Address server : dns_servers) writer.write_be32(server.to_u32()).ignore_error();
  }
  put_address(DhcpOptionCode::router, router);
  put_bytes(DhcpOptionCode::parameter_request_list, parameter_request_list);
  if (max_message_size) {
    put_header(DhcpOptionCode::max_message_size, 2);
    writer.write_be16(*max_message_size).ignore_error();
  }
  put_bytes(DhcpOptionCode::message, bytes_of(message));
  writer.write_u8(code_of(DhcpOptionCode::end)).ignore_error();
  MOTE_ASSERT(writer.remaining() == 0);
  return length;
}

bool operator==(const DhcpRepr& a, const DhcpRepr& b) {
  return a.message_type == b.message_type && a.transaction_id == b.transaction_id &&
         a.secs == b.secs && a.broadcast == b.broadcast &&
         a.client_hardware_address == b.client_hardware_address && a.client_ip == b.client_ip &&
         a.your_ip == b.your_ip && a.server_ip == b.server_ip &&
         a.relay_agent_ip == b.relay_agent_ip && a.server_identifier == b.server_identifier &&
         a.requested_ip == b.requested_ip && a.lease_time == b.lease_time &&
         a.renewal_time == b.renewal_time && a.rebinding_time == b.rebinding_time &&
         a.subnet_mask == b.subnet_mask && a.broadcast_address == b.broadcast_address &&
         a.router == b.router && a.dns_servers == b.dns_servers &&
         a.max_message_size == b.max_message_size &&
         same_bytes(a.client_identifier, b.client_identifier) &&
         same_bytes(a.parameter_request_list, b.parameter_request_list) &&
         a.host_name == b.host_name && a.domain_name == b.domain_name && a.message == b.message;
}

}  // namespace mote::net::wire
