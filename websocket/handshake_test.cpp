#include "mote/websocket/handshake.hpp"

#include <gtest/gtest.h>
#include <string>
#include <vector>

#include "mote/http/parser.hpp"

namespace mote::websocket {
namespace {

// RFC 6455 §1.3 and §4.2.2.
TEST(HandshakeTest, Rfc6455AcceptKey) {
  EXPECT_EQ(compute_accept_key("dGhlIHNhbXBsZSBub25jZQ==").view(), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_TRUE(is_valid_client_key("dGhlIHNhbXBsZSBub25jZQ=="));
  EXPECT_FALSE(is_valid_client_key("dGhlIHNhbXBsZSBub25jZQ"));
  EXPECT_FALSE(is_valid_client_key("dGhlIHNhbXBsZSBub25jZXg="));  // 17 bytes
  EXPECT_FALSE(is_valid_client_key("dGhlIHNhbXBsZSBub25j====="));
}

TEST(HandshakeTest, ClientKeysComeFromTheRandomSource) {
  int calls = 0;
  const ClientKey key = generate_client_key([&calls](ByteSpan out) {
    ++calls;
    ASSERT_EQ(out.size(), 16u);
    const std::string_view nonce = "the sample nonce";
    for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<std::byte>(nonce[i]);
  });
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(key.view(), "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_TRUE(is_valid_client_key(key.view()));
}

http::RequestHead request_of(std::string_view method, unsigned minor,
                             const std::vector<http::Header>& headers) {
  http::RequestHead head;
  head.method = http::method_from(method);
  head.method_text = method;
  head.target = "/chat";
  head.version = {1, static_cast<std::uint8_t>(minor)};
  head.headers = http::HeaderList(headers);
  return head;
}

http::ResponseHead response_of(unsigned status, const std::vector<http::Header>& headers) {
  http::ResponseHead head;
  head.status = static_cast<std::uint16_t>(status);
  head.headers = http::HeaderList(headers);
  return head;
}

std::vector<http::Header> rfc_request_headers() {
  return {{"Host", "server.example.com"},   {"Upgrade", "websocket"},
          {"Connection", "Upgrade"},        {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
          {"Origin", "http://example.com"}, {"Sec-WebSocket-Protocol", "chat, superchat"},
          {"Sec-WebSocket-Version", "13"}};
}

TEST(HandshakeTest, AcceptsTheRfcRequest) {
  const std::vector<http::Header> headers = rfc_request_headers();
  const RequestCheck check = check_upgrade_request(request_of("GET", 1, headers));
  EXPECT_EQ(check.error, RequestError::none);
  EXPECT_EQ(check.key, "dGhlIHNhbXBsZSBub25jZQ==");
  const std::string_view supported[] = {"superchat", "chat"};
  EXPECT_EQ(select_subprotocol(http::HeaderList(headers), supported),
            "chat");  // the client's order
  const std::string_view none[] = {"mqtt"};
  EXPECT_EQ(select_subprotocol(http::HeaderList(headers), none), "");
}

TEST(HandshakeTest, RefusesBadRequests) {
  auto check_with = [](std::string_view method, unsigned minor, std::string_view name,
                       std::string_view value) {
    std::vector<http::Header> headers = rfc_request_headers();
    for (http::Header& field : headers) {
      if (field.name == name) field.value = value;
    }
    if (value == "<drop>") {
      std::erase_if(headers, [&](const http::Header& field) { return field.name == name; });
    }
    return check_upgrade_request(request_of(method, minor, headers)).error;
  };
  EXPECT_EQ(check_with("POST", 1, "", ""), RequestError::not_get);
  EXPECT_EQ(check_with("GET", 0, "", ""), RequestError::old_http);
  EXPECT_EQ(check_with("GET", 1, "Host", "<drop>"), RequestError::no_host);
  EXPECT_EQ(check_with("GET", 1, "Upgrade", "h2c"), RequestError::not_upgrade);
  EXPECT_EQ(check_with("GET", 1, "Connection", "keep-alive"), RequestError::not_upgrade);
  EXPECT_EQ(check_with("GET", 1, "Connection", "keep-alive, upgrade"), RequestError::none);
  EXPECT_EQ(check_with("GET", 1, "Upgrade", "WebSocket"), RequestError::none);
  EXPECT_EQ(check_with("GET", 1, "Sec-WebSocket-Version", "8"), RequestError::bad_version);
  EXPECT_EQ(check_with("GET", 1, "Sec-WebSocket-Key", "short"), RequestError::bad_key);
  EXPECT_EQ(check_with("GET", 1, "Sec-WebSocket-Key", "<drop>"), RequestError::bad_key);
  std::vector<http::Header> two_keys = rfc_request_headers();
  two_keys.push_back({"sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="});
  EXPECT_EQ(check_upgrade_request(request_of("GET", 1, two_keys)).error, RequestError::bad_key);
  std::vector<http::Header> bad_ext = rfc_request_headers();
  bad_ext.push_back({"Sec-WebSocket-Extensions", "permessage-deflate; =1"});
  EXPECT_EQ(check_upgrade_request(request_of("GET", 1, bad_ext)).error,
            RequestError::bad_extensions);
  EXPECT_EQ(http_status_for(RequestError::bad_version), 426u);
  EXPECT_EQ(http_status_for(RequestError::not_get), 405u);
  EXPECT_EQ(http_status_for(RequestError::bad_key), 400u);
}

std::string text_of(ByteSpan bytes) { return std::string(as_string_view(bytes)); }

TEST(HandshakeTest, WritesTheRfcResponse) {
  std::byte out[512];
  Result<std::size_t> size = write_upgrade_response({"dGhlIHNhbXBsZSBub25jZQ==", "chat", ""}, out);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(text_of(ByteSpan(out).first(*size)),
            "HTTP/1.1 101 Switching Protocols\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
            "Sec-WebSocket-Protocol: chat\r\n"
            "\r\n");
  EXPECT_EQ(write_upgrade_response({"dGhlIHNhbXBsZSBub25jZQ==", "", ""}, ByteSpan(out).first(40))
                .status(),
            Status::resource_exhausted());
  EXPECT_EQ(write_upgrade_response({"dGhlIHNhbXBsZSBub25jZQ==", "a\r\nX: y", ""}, out).status(),
            Status::invalid_argument());
  size = write_refusal(RequestError::bad_version, out);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(text_of(ByteSpan(out).first(*size)),
            "HTTP/1.1 426 Upgrade Required\r\n"
            "Upgrade: websocket\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Content-Length: 0\r\n"
            "Connection: close\r\n"
            "\r\n");
}

TEST(HandshakeTest, WritesARequestAndChecksItsResponse) {
  std::byte out[512];
  UpgradeOffer offer;
  offer.host = "server.example.com";
  offer.target = "/chat";
  offer.key = "dGhlIHNhbXBsZSBub25jZQ==";
  offer.subprotocols = "chat, superchat";
  offer.origin = "http://example.com";
  Result<std::size_t> size = write_upgrade_request(offer, out);
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(text_of(ByteSpan(out).first(*size)),
            "GET /chat HTTP/1.1\r\n"
            "Host: server.example.com\r\n"
            "Upgrade: websocket\r\n"
            "Connection: Upgrade\r\n"
            "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Protocol: chat, superchat\r\n"
            "Origin: http://example.com\r\n"
            "\r\n");
  offer.target = "chat";
  EXPECT_EQ(write_upgrade_request(offer, out).status(), Status::invalid_argument());

  std::vector<http::Header> headers = {{"Upgrade", "websocket"},
                                       {"Connection", "Upgrade"},
                                       {"Sec-WebSocket-Accept", "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="},
                                       {"Sec-WebSocket-Protocol", "chat"}};
  ResponseCheck check =
      check_upgrade_response(response_of(101, headers), offer.key, offer.subprotocols);
  EXPECT_EQ(check.error, ResponseError::none);
  EXPECT_EQ(check.subprotocol, "chat");
  EXPECT_EQ(check_upgrade_response(response_of(200, headers), offer.key, offer.subprotocols).error,
            ResponseError::not_switching);
  EXPECT_EQ(check_upgrade_response(response_of(101, headers), offer.key, "mqtt").error,
            ResponseError::unexpected_protocol);
  headers[2].value = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo";
  EXPECT_EQ(check_upgrade_response(response_of(101, headers), offer.key, offer.subprotocols).error,
            ResponseError::bad_accept);
  headers[2].value = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
  headers[1].value = "close";
  EXPECT_EQ(check_upgrade_response(response_of(101, headers), offer.key, offer.subprotocols).error,
            ResponseError::not_upgrade);
}

TEST(HandshakeTest, ExtensionLists) {
  ExtensionList list(
      "permessage-deflate; client_max_window_bits, permessage-deflate; "
      "server_max_window_bits=\"10\" ;server_no_context_takeover,, x-foo");
  ExtensionOffer offer;
  ExtensionParam param;
  ASSERT_TRUE(list.next(offer).value_or(false));
  EXPECT_EQ(offer.name, "permessage-deflate");
  ASSERT_TRUE(offer.params.next(param));
  EXPECT_EQ(param.name, "client_max_window_bits");
  EXPECT_FALSE(param.has_value);
  EXPECT_FALSE(offer.params.next(param));
  ASSERT_TRUE(list.next(offer).value_or(false));
  ASSERT_TRUE(offer.params.next(param));
  EXPECT_EQ(param.name, "server_max_window_bits");
  EXPECT_TRUE(param.has_value);
  EXPECT_EQ(param.value, "10");
  ASSERT_TRUE(offer.params.next(param));
  EXPECT_EQ(param.name, "server_no_context_takeover");
  EXPECT_FALSE(offer.params.next(param));
  ASSERT_TRUE(list.next(offer).value_or(false));
  EXPECT_EQ(offer.name, "x-foo");
  EXPECT_FALSE(list.next(offer).value_or(true));

  for (std::string_view bad :
       {"; a", "a;", "a; b=", "a; b=\"", "a; b=\"1 2\"", "a b", "a; b=\"c\\d\"", "a; =1", "a;;b"}) {
    EXPECT_FALSE(is_valid_extension_list(bad)) << bad;
  }
  for (std::string_view good : {"", "a", " a ; b ; c=1 , d", "a;b=\"1\""}) {
    EXPECT_TRUE(is_valid_extension_list(good)) << good;
  }
}

}  // namespace
}  // namespace mote::websocket
