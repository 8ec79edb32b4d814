#include "mote/base/base64.hpp"

#include <gtest/gtest.h>
#include <string>

namespace mote {
namespace {

std::string encode(std::string_view data) {
  std::string out(base64_encoded_size(data.size()), '?');
  Result<std::size_t> n = base64_encode(bytes_of(data), out);
  EXPECT_TRUE(n.ok());
  out.resize(n.value_or(0));
  return out;
}

Result<std::string> decode(std::string_view text) {
  std::string out(base64_max_decoded_size(text.size()), '?');
  MOTE_TRY_ASSIGN(
      std::size_t n,
      base64_decode(text, writable_bytes_of(
                              std::span(reinterpret_cast<std::uint8_t*>(out.data()), out.size()))));
  out.resize(n);
  return out;
}

// RFC 4648 §10.
TEST(Base64Test, Rfc4648Vectors) {
  const std::pair<std::string_view, std::string_view> vectors[] = {
      {"", ""},
      {"f", "Zg=="},
      {"fo", "Zm8="},
      {"foo", "Zm9v"},
      {"foob", "Zm9vYg=="},
      {"fooba", "Zm9vYmE="},
      {"foobar", "Zm9vYmFy"},
  };
  for (auto [plain, encoded] : vectors) {
    EXPECT_EQ(encode(plain), encoded);
    Result<std::string> decoded = decode(encoded);
    ASSERT_TRUE(decoded.ok()) << encoded;
    EXPECT_EQ(*decoded, plain);
  }
}

TEST(Base64Test, AllByteValuesRoundTrip) {
  std::string data;
  for (int i = 0; i < 256; ++i) data += static_cast<char>(i);
  const std::string encoded = encode(data);
  EXPECT_NE(encoded.find('+'), std::string::npos);
  EXPECT_NE(encoded.find('/'), std::string::npos);
  EXPECT_EQ(decode(encoded).value_or(""), data);
}

TEST(Base64Test, RejectsNonCanonicalInput) {
  for (std::string_view bad : {"Zg", "Zg=", "Zm9v=", "Z===", "Zh==", "Zm9=", "Zm 9v", "Zm9v\n",
                               "=Zm9", "Zg==Zg==", "Zm-v", "Zm_v"}) {
    EXPECT_EQ(decode(bad).status(), Status::invalid_argument()) << bad;
  }
}

TEST(Base64Test, ShortOutputBuffersWriteNothing) {
  char small[7] = {};
  EXPECT_EQ(base64_encode(bytes_of("fooba"), small).status(), Status::resource_exhausted());
  std::byte out[2];
  EXPECT_EQ(base64_decode("Zm9v", out).status(), Status::resource_exhausted());
  EXPECT_EQ(base64_decode("Zm8=", out).value_or(0), 2u);
}

}  // namespace
}  // namespace mote
