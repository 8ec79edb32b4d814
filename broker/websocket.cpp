#include "mote/broker/websocket.hpp"

#include "mote/websocket/handshake.hpp"

namespace mote::broker {

websocket::DeflateOptions mqtt_websocket_deflate_options() {
  websocket::DeflateOptions options;
  options.server_max_window_bits = 11;
  options.memory_level = 4;
  return options;
}

std::string_view mqtt_websocket_refusal(const http::RequestHead& head) {
  if (websocket::select_subprotocol(head.headers, kMqttSubprotocols).empty()) {
    return "MQTT over WebSocket needs the subprotocol mqtt (Sec-WebSocket-Protocol: mqtt)\n";
  }
  return {};
}

}  // namespace mote::broker
