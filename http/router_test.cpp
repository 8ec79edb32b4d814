#include "mote/http/router.hpp"

#include <array>
#include <gtest/gtest.h>

#include "mote/http/static_files.hpp"

namespace mote::http {
namespace {

using Params = std::vector<std::pair<std::string, std::string>>;

Params match(std::string_view pattern, std::string_view path, bool expected = true) {
  Params params;
  Result<bool> matched = PathPattern::parse(pattern).value().match(path, params);
  EXPECT_TRUE(matched.ok());
  EXPECT_EQ(matched.value_or(false), expected) << pattern << " ~ " << path;
  return params;
}

TEST(PathPatternTest, LiteralsParametersAndRest) {
  match("/", "/");
  match("/api/devices", "/api/devices");
  match("/api/devices", "/api/devices/", false);
  match("/api/devices", "/api", false);
  EXPECT_EQ(match("/api/devices/{id}", "/api/devices/7"), (Params{{"id", "7"}}));
  match("/api/devices/{id}", "/api/devices/", false);
  match("/api/devices/{id}", "/api/devices/7/x", false);
  EXPECT_EQ(match("/a/{x}/b/{y}", "/a/1/b/two%20words"), (Params{{"x", "1"}, {"y", "two words"}}));
  EXPECT_EQ(match("/static/{path...}", "/static/css/site.css"), (Params{{"path", "css/site.css"}}));
  EXPECT_EQ(match("/static/{path...}", "/static/"), (Params{{"path", ""}}));
  EXPECT_EQ(match("/static/{path...}", "/static"), (Params{{"path", ""}}));
  EXPECT_EQ(match("/{path...}", "/a/%2e%2e/b"), (Params{{"path", "a/../b"}}));
  match("/static/{path...}", "/other/x", false);
}

TEST(PathPatternTest, BadPatternsAndPaths) {
  EXPECT_FALSE(PathPattern::parse("").ok());
  EXPECT_FALSE(PathPattern::parse("api").ok());
  EXPECT_FALSE(PathPattern::parse("/a/{id").ok());
  EXPECT_FALSE(PathPattern::parse("/a/x{id}").ok());
  EXPECT_FALSE(PathPattern::parse("/a/{}").ok());
  EXPECT_FALSE(PathPattern::parse("/{rest...}/more").ok());
  Params params;
  EXPECT_EQ(PathPattern::parse("/{id}")->match("/%zz", params).status(),
            Status::invalid_argument());
  EXPECT_EQ(PathPattern::parse("/{id}")->match("/a%00", params).status(),
            Status::invalid_argument());
  EXPECT_EQ(percent_decode("a%2Fb%41").value_or(""), "a/bA");
  EXPECT_FALSE(percent_decode("%4").ok());
  EXPECT_FALSE(percent_decode("%").ok());
}

Handler answer(std::uint16_t) {
  return [](Request&, ResponseWriter&) -> async::Task<Status> { co_return ok_status(); };
}

TEST(RouterTest, MethodsPathsAndStatuses) {
  Router router;
  ASSERT_TRUE(router.add("GET", "/api/devices/{id}", answer(1)).ok());
  ASSERT_TRUE(router.add("DELETE", "/api/devices/{id}", answer(2)).ok());
  ASSERT_TRUE(router.add("POST", "/api/devices", answer(3)).ok());
  EXPECT_EQ(router.add("G T", "/x", answer(4)), Status::invalid_argument());
  EXPECT_EQ(router.add("GET", "x", answer(4)), Status::invalid_argument());

  auto route = [&](std::string_view method, std::string_view path, Request& request) {
    static RequestHead head;
    head.method_text = method;
    head.method = method_from(method);
    request.head = &head;
    request.path = path;
    return router.match(request);
  };
  Request request;
  Router::Match found = route("DELETE", "/api/devices/42", request);
  EXPECT_NE(found.handler, nullptr);
  EXPECT_EQ(request.param("id"), "42");
  EXPECT_EQ(request.param("missing"), "");

  Request head_request;
  found = route("HEAD", "/api/devices/9", head_request);  // GET's route
  EXPECT_NE(found.handler, nullptr);
  EXPECT_EQ(head_request.param("id"), "9");

  Request put;
  found = route("PUT", "/api/devices/1", put);
  EXPECT_EQ(found.handler, nullptr);
  EXPECT_EQ(found.status, 405);
  EXPECT_EQ(found.allow, "GET, HEAD, DELETE");

  Request missing;
  EXPECT_EQ(route("GET", "/nothing", missing).status, 404);
  Request broken;
  EXPECT_EQ(route("GET", "/api/devices/%g1", broken).status, 400);
}

TEST(TargetTest, PathAndQueryOfEveryForm) {
  EXPECT_EQ(path_of_target("/a/b?x=1"), "/a/b");
  EXPECT_EQ(query_of_target("/a/b?x=1"), "x=1");
  EXPECT_EQ(query_of_target("/a/b"), "");
  EXPECT_EQ(path_of_target("http://gateway.local:8080/api/x?y"), "/api/x");
  EXPECT_EQ(path_of_target("http://gateway.local"), "/");
  EXPECT_EQ(path_of_target("*"), "*");
  EXPECT_EQ(path_of_target("gateway.local:443"), "gateway.local:443");
}

TEST(HttpDateTest, FormatsAndParsesTheThreeForms) {
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 08:49:37 UTC").has_value());
  EXPECT_FALSE(parse_http_date("Sun, 06 Foo 1994 08:49:37 GMT").has_value());
  EXPECT_FALSE(parse_http_date("Sun, 06 Nov 1994 25:49:37 GMT").has_value());
  EXPECT_FALSE(parse_http_date("yesterday").has_value());
  EXPECT_FALSE(parse_http_date("").has_value());
}

TEST(ContentTypeTest, ByExtension) {
  EXPECT_EQ(content_type_for("/srv/www/index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_for("app.JS"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_for("data.json"), "application/json");
  EXPECT_EQ(content_type_for("logo.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_for("font.woff2"), "font/woff2");
  EXPECT_EQ(content_type_for("archive.tar"), "application/octet-stream");
  EXPECT_EQ(content_type_for(".html"), "application/octet-stream");  // a hidden file, no extension
  EXPECT_EQ(content_type_for("dir.html/README"), "application/octet-stream");
}

}  // namespace
}  // namespace mote::http

namespace mote::http {
namespace {

ByteRange range_of(std::string_view value, std::uint64_t size, RangeOutcome expected) {
  ByteRange range;
  EXPECT_EQ(parse_byte_range(value, size, range), expected) << value;
  return range;
}

TEST(ByteRangeTest, FormsClippingAndWhatIsIgnored) {
  ByteRange r = range_of("bytes=0-99", 1000, RangeOutcome::partial);
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.length, 100u);
  r = range_of("bytes=900-", 1000, RangeOutcome::partial);
  EXPECT_EQ(r.length, 100u);
  r = range_of("bytes=990-2000", 1000, RangeOutcome::partial);  // clipped
  EXPECT_EQ(r.length, 10u);
  r = range_of("bytes=-10", 1000, RangeOutcome::partial);
  EXPECT_EQ(r.first, 990u);
  r = range_of("Bytes=-5000", 1000, RangeOutcome::partial);  // all of it
  EXPECT_EQ(r.first, 0u);
  EXPECT_EQ(r.length, 1000u);
  range_of("bytes=1000-", 1000, RangeOutcome::unsatisfiable);
  range_of("bytes=-0", 1000, RangeOutcome::unsatisfiable);
  range_of("bytes=0-0", 0, RangeOutcome::unsatisfiable);
  range_of("bytes=5-4", 1000, RangeOutcome::whole);      // invalid
  range_of("bytes=0-1,5-6", 1000, RangeOutcome::whole);  // several ranges
  range_of("items=0-1", 1000, RangeOutcome::whole);
  range_of("bytes=a-b", 1000, RangeOutcome::whole);
  range_of("bytes=99999999999999999999-", 1000, RangeOutcome::whole);
  range_of("bytes=", 1000, RangeOutcome::whole);
}

}  // namespace
}  // namespace mote::http
