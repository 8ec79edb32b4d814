#include "mote/base/status.hpp"

#include <cstring>
#include <gtest/gtest.h>
#include <set>
#include <string>

namespace mote {
namespace {

static_assert(Status().ok());
static_assert(Status::ok_status() == ok_status());
static_assert(Status::not_found().code() == StatusCode::not_found);
static_assert(!Status::internal().ok());

TEST(Status, DefaultIsOk) {
  Status status;
  EXPECT_TRUE(status.ok());
  EXPECT_EQ(status.code(), StatusCode::ok);
  EXPECT_STREQ(status.str(), "ok");
}

TEST(Status, FactoriesCarryTheirCode) {
  struct Case {
    Status status;
    StatusCode code = StatusCode::ok;
    const char* name = "";
  };
  const Case cases[] = {
      {Status::cancelled(), StatusCode::cancelled, "cancelled"},
      {Status::unknown(), StatusCode::unknown, "unknown"},
      {Status::invalid_argument(), StatusCode::invalid_argument, "invalid_argument"},
      {Status::deadline_exceeded(), StatusCode::deadline_exceeded, "deadline_exceeded"},
      {Status::not_found(), StatusCode::not_found, "not_found"},
      {Status::already_exists(), StatusCode::already_exists, "already_exists"},
      {Status::permission_denied(), StatusCode::permission_denied, "permission_denied"},
      {Status::resource_exhausted(), StatusCode::resource_exhausted, "resource_exhausted"},
      {Status::failed_precondition(), StatusCode::failed_precondition, "failed_precondition"},
      {Status::aborted(), StatusCode::aborted, "aborted"},
      {Status::out_of_range(), StatusCode::out_of_range, "out_of_range"},
      {Status::unimplemented(), StatusCode::unimplemented, "unimplemented"},
      {Status::internal(), StatusCode::internal, "internal"},
      {Status::unavailable(), StatusCode::unavailable, "unavailable"},
      {Status::data_loss(), StatusCode::data_loss, "data_loss"},
      {Status::unauthenticated(), StatusCode::unauthenticated, "unauthenticated"},
  };
  std::set<StatusCode> seen;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_FALSE(c.status.ok());
    EXPECT_EQ(c.status.code(), c.code);
    EXPECT_STREQ(c.status.str(), c.name);
    EXPECT_STREQ(to_string(c.code), c.name);
    EXPECT_EQ(c.status, Status(c.code));
    seen.insert(c.code);
  }
  EXPECT_EQ(seen.size(), 16u);
}

TEST(Status, Equality) {
  EXPECT_EQ(Status::ok_status(), Status());
  EXPECT_EQ(Status::aborted(), Status::aborted());
  EXPECT_NE(Status::aborted(), Status::cancelled());
  EXPECT_NE(Status::aborted(), ok_status());
}

TEST(Status, CodeOutsideTheEnumHasAName) {
  EXPECT_STREQ(to_string(static_cast<StatusCode>(200)), "invalid_status_code");
}

Status fail_if(bool fail) { return fail ? Status::unavailable() : ok_status(); }

TEST(Status, IgnoreErrorDiscardsDeliberately) {
  fail_if(true).ignore_error();
  EXPECT_EQ(fail_if(true), Status::unavailable());
  EXPECT_TRUE(fail_if(false).ok());
}

}  // namespace
}  // namespace mote
