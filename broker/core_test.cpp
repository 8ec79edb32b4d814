#include "mote/broker/core.hpp"

#include <gtest/gtest.h>
#include <map>
#include <signal.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

#include "mote/testing/process.hpp"

namespace mote::broker {
namespace {

// An owner that counts what the core tells it.
class FakeOwner final : public SessionOwner {
 public:
  void wake() override { ++wakes; }
  void taken_over() override { ++takeovers; }
  int wakes = 0;
  int takeovers = 0;
};

MessagePtr message(std::string topic, std::string payload, QoS qos = QoS::at_most_once,
                   bool retain = false) {
  auto m = std::make_shared<Message>();
  m->topic = std::move(topic);
  m->payload.assign(payload.begin(), payload.end());
  m->qos = qos;
  m->retain = retain;
  return m;
}

std::string payload_of(const Outbound& outbound) {
  return {outbound.message->payload.begin(), outbound.message->payload.end()};
}

ConnectRequest request(std::string client_id, bool clean_start = true, std::uint32_t expiry_s = 0) {
  ConnectRequest r;
  r.client_id = std::move(client_id);
  r.clean_start = clean_start;
  r.session_expiry_s = expiry_s;
  return r;
}

SubscriptionOptions at(QoS qos) {
  SubscriptionOptions options;
  options.qos = qos;
  return options;
}

// Everything the session would send now.
std::vector<Outbound> drain(Core& core, Session& session) {
  std::vector<Outbound> out;
  while (auto next = core.next_outbound(session)) out.push_back(std::move(*next));
  return out;
}

class CoreTest : public ::testing::Test {
 protected:
  CoreOptions options() {
    CoreOptions o;
    o.clock = [this] { return now; };
    return o;
  }
  std::int64_t now = 1'700'000'000'000;
};

TEST_F(CoreTest, RoutesWithTheLowerQosAndWakesTheOwner) {
  Core core(options());
  FakeOwner sub_owner;
  FakeOwner pub_owner;
  Session& sub = *core.connect(request("sub"), sub_owner).session;
  Session& pub = *core.connect(request("pub"), pub_owner).session;
  core.subscribe(sub, "a/+", at(QoS::at_least_once));
  EXPECT_EQ(core.publish(&pub, message("a/b", "1", QoS::exactly_once)).deliveries, 1u);
  EXPECT_EQ(core.publish(&pub, message("a/b", "2", QoS::at_most_once)).deliveries, 1u);
  EXPECT_EQ(core.publish(&pub, message("b", "3", QoS::at_most_once)).deliveries, 0u);
  EXPECT_EQ(sub_owner.wakes, 2);
  const auto out = drain(core, sub);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].qos, QoS::at_least_once);
  EXPECT_NE(out[0].packet_id, 0);
  EXPECT_EQ(out[1].qos, QoS::at_most_once);
  EXPECT_TRUE(core.puback(sub, out[0].packet_id));
  EXPECT_EQ(core.stats().messages_received, 3u);
  EXPECT_EQ(core.stats().messages_sent, 2u);
}

TEST_F(CoreTest, RetainedMessagesFollowRetainHandling) {
  Core core(options());
  FakeOwner owner;
  Session& s = *core.connect(request("s"), owner).session;
  core.publish(nullptr, message("r/1", "one", QoS::at_least_once, true));
  core.publish(nullptr, message("r/2", "two", QoS::at_most_once, true));
  core.publish(nullptr, message("r/2", "", QoS::at_most_once, true));  // deletes r/2
  EXPECT_EQ(core.retained().size(), 1u);

  SubscriptionOptions options = at(QoS::exactly_once);
  options.retain_handling = RetainHandling::send_if_new_subscription;
  core.subscribe(s, "r/#", options);
  auto out = drain(core, s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(payload_of(out[0]), "one");
  EXPECT_TRUE(out[0].retain);  // retained delivery keeps the flag
  EXPECT_EQ(out[0].qos, QoS::at_least_once);
  core.subscribe(s, "r/#", options);  // exists: nothing again
  EXPECT_TRUE(drain(core, s).empty());
  options.retain_handling = RetainHandling::send_on_subscribe;
  core.subscribe(s, "r/#", options);
  EXPECT_EQ(drain(core, s).size(), 1u);
  options.retain_handling = RetainHandling::do_not_send;
  core.subscribe(s, "r/+", options);
  EXPECT_TRUE(drain(core, s).empty());
  core.subscribe(s, "$share/g/r/#", at(QoS::at_least_once));
  EXPECT_TRUE(drain(core, s).empty());  // none for shared subscriptions
}

TEST_F(CoreTest, RetainFlagOnRoutedMessagesFollowsRetainAsPublished) {
  Core core(options());
  FakeOwner owner;
  Session& s = *core.connect(request("s"), owner).session;
  core.subscribe(s, "x", at(QoS::at_most_once));
  SubscriptionOptions rap = at(QoS::at_most_once);
  rap.retain_as_published = true;
  rap.retain_handling = RetainHandling::do_not_send;
  core.subscribe(s, "y", rap);
  core.publish(nullptr, message("x", "a", QoS::at_most_once, true));
  core.publish(nullptr, message("y", "b", QoS::at_most_once, true));
  const auto out = drain(core, s);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_FALSE(out[0].retain);
  EXPECT_TRUE(out[1].retain);
}

TEST_F(CoreTest, CleanSessionsEndAndPersistentOnesQueueWhileOffline) {
  Core core(options());
  FakeOwner a;
  Session* clean = core.connect(request("clean"), a).session;
  core.subscribe(*clean, "t", at(QoS::at_least_once));
  core.disconnect(*clean, a, false);
  EXPECT_EQ(core.find_session("clean"), nullptr);
  EXPECT_EQ(core.tree().subscription_count(), 0u);

  FakeOwner b;
  Session* kept = core.connect(request("kept", false, 60), b).session;
  core.subscribe(*kept, "t", at(QoS::at_least_once));
  core.disconnect(*kept, b, false);
  core.publish(nullptr, message("t", "q1", QoS::at_least_once));
  core.publish(nullptr, message("t", "q0", QoS::at_most_once));  // not kept offline
  FakeOwner c;
  const Core::Connected resumed = core.connect(request("kept", false, 60), c);
  EXPECT_TRUE(resumed.session_present);
  const auto out = drain(core, *resumed.session);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(payload_of(out[0]), "q1");

  // The session expires 60 s after the disconnect.
  core.disconnect(*resumed.session, c, false);
  now += 59'000;
  core.tick();
  EXPECT_NE(core.find_session("kept"), nullptr);
  now += 1'000;
  core.tick();
  EXPECT_EQ(core.find_session("kept"), nullptr);
}

TEST_F(CoreTest, TakeoverTellsTheOldOwnerAndKeepsTheSession) {
  Core core(options());
  FakeOwner first;
  FakeOwner second;
  Session* s = core.connect(request("id", false, 100), first).session;
  core.subscribe(*s, "t", at(QoS::at_least_once));
  const Core::Connected again = core.connect(request("id", false, 100), second);
  EXPECT_EQ(first.takeovers, 1);
  EXPECT_TRUE(again.session_present);
  EXPECT_EQ(again.session, s);
  core.disconnect(*s, first, true);  // the old connection's end changes nothing
  EXPECT_TRUE(core.find_session("id")->online);
  EXPECT_EQ(core.stats().clients_connected, 1u);
  const Core::Connected clean = core.connect(request("id", true), first);
  EXPECT_FALSE(clean.session_present);
  EXPECT_EQ(second.takeovers, 1);
  EXPECT_TRUE(clean.session->subscriptions.empty());
}

TEST_F(CoreTest, WillsArePublishedOnAbnormalEndsAndDelayed) {
  Core core(options());
  FakeOwner watcher_owner;
  Session& watcher = *core.connect(request("watcher"), watcher_owner).session;
  core.subscribe(watcher, "will/#", at(QoS::at_least_once));

  FakeOwner a;
  ConnectRequest with_will = request("a");
  with_will.will = Will{message("will/a", "gone", QoS::at_least_once), 0};
  Session* s = core.connect(with_will, a).session;
  core.disconnect(*s, a, false);  // normal DISCONNECT: no will
  EXPECT_TRUE(drain(core, watcher).empty());
  s = core.connect(with_will, a).session;
  core.disconnect(*s, a, true);
  EXPECT_EQ(drain(core, watcher).size(), 1u);

  // Delay 10 s, session expiry 100 s: published after 10 s.
  ConnectRequest delayed = request("b", false, 100);
  delayed.will = Will{message("will/b", "late"), 10};
  FakeOwner b;
  s = core.connect(delayed, b).session;
  core.disconnect(*s, b, true);
  core.tick();
  EXPECT_TRUE(drain(core, watcher).empty());
  now += 10'000;
  core.tick();
  EXPECT_EQ(drain(core, watcher).size(), 1u);

  // Reconnecting within the delay cancels it.
  s = core.connect(delayed, b).session;
  core.disconnect(*s, b, true);
  now += 5'000;
  core.connect(request("b", false, 100), b);
  now += 20'000;
  core.tick();
  EXPECT_TRUE(drain(core, watcher).empty());
}

TEST_F(CoreTest, IncomingQos2IdsAreRoutedOnce) {
  Core core(options());
  FakeOwner owner;
  Session& s = *core.connect(request("s"), owner).session;
  EXPECT_TRUE(core.receive_qos2(s, 7));
  EXPECT_FALSE(core.receive_qos2(s, 7));  // resent PUBLISH
  EXPECT_TRUE(core.release_qos2(s, 7));
  EXPECT_FALSE(core.release_qos2(s, 7));
  EXPECT_TRUE(core.receive_qos2(s, 7));  // the id may be used again
}

TEST_F(CoreTest, ReadAccessIsCheckedPerMessage) {
  CoreOptions o = options();
  o.may_receive = [](const Session&, std::string_view topic) { return topic != "secret"; };
  Core core(std::move(o));
  FakeOwner owner;
  Session& s = *core.connect(request("s"), owner).session;
  core.subscribe(s, "#", at(QoS::at_most_once));
  core.publish(nullptr, message("secret", "x"));
  core.publish(nullptr, message("open", "y"));
  const auto out = drain(core, s);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].message->topic, "open");
}

TEST_F(CoreTest, ExpiredMessagesAreNotSent) {
  Core core(options());
  FakeOwner owner;
  Session& s = *core.connect(request("s", false, 1000), owner).session;
  core.subscribe(s, "t", at(QoS::at_least_once));
  core.disconnect(s, owner, false);
  auto m = std::make_shared<Message>(*message("t", "x", QoS::at_least_once));
  m->expires_at_ms = now + 5'000;
  core.publish(nullptr, m);
  now += 6'000;
  Session& back = *core.connect(request("s", false, 1000), owner).session;
  EXPECT_TRUE(drain(core, back).empty());
  EXPECT_EQ(core.stats().messages_dropped, 1u);
}

TEST_F(CoreTest, SysTopicsAreRetainedAndHiddenFromHash) {
  Core core(options());
  FakeOwner owner;
  Session& all = *core.connect(request("all"), owner).session;
  core.subscribe(all, "#", at(QoS::at_most_once));
  core.publish(&all, message("x", "1"));
  core.publish_sys(std::chrono::seconds(42));
  EXPECT_EQ(drain(core, all).size(), 1u);  // only "x": '#' does not see $SYS
  FakeOwner sys_owner;
  Session& sys = *core.connect(request("sys"), sys_owner).session;
  core.subscribe(sys, "$SYS/broker/#", at(QoS::at_most_once));
  std::map<std::string, std::string> values;
  for (const Outbound& o : drain(core, sys)) values[o.message->topic] = payload_of(o);
  EXPECT_EQ(values["$SYS/broker/uptime"], "42");
  EXPECT_EQ(values["$SYS/broker/clients/connected"], "1");
  EXPECT_EQ(values["$SYS/broker/messages/received"], "1");
  EXPECT_EQ(values["$SYS/broker/subscriptions/count"], "1");
  EXPECT_EQ(values.size(), 10u);
}

TEST_F(CoreTest, HalfFullQueuesReportCongestion) {
  CoreOptions o = options();
  o.max_queued_messages = 4;
  Core core(std::move(o));
  FakeOwner owner;
  Session& s = *core.connect(request("slow"), owner).session;
  core.subscribe(s, "t", at(QoS::at_most_once));
  EXPECT_EQ(core.publish(nullptr, message("t", "1")).congested, 0u);
  EXPECT_EQ(core.publish(nullptr, message("t", "2")).congested, s.id());
  EXPECT_TRUE(core.is_congested(s.id()));
  drain(core, s);
  EXPECT_FALSE(core.is_congested(s.id()));
  EXPECT_FALSE(core.is_congested(12345));
}

TEST_F(CoreTest, ObserversSeeMatchingPublishesWithoutASession) {
  Core core(options());
  FakeOwner pub_owner;
  Session& pub = *core.connect(request("pub"), pub_owner).session;
  std::vector<std::string> seen;
  core.observe("mote/+/+", [&seen](const Message& m) {
    seen.push_back(m.topic + "=" + std::string(m.payload.begin(), m.payload.end()));
  });
  // Nobody subscribes: the observer is no subscriber (no deliveries).
  EXPECT_EQ(core.publish(&pub, message("mote/kitchen/temperature", "21.5")).deliveries, 0u);
  core.publish(&pub, message("mote/kitchen/status", "offline", QoS::at_least_once, true));
  core.publish(&pub, message("mote/kitchen", "no"));
  core.publish(&pub, message("mote/a/b/c", "no"));
  core.publish(&pub, message("other/a/b", "no"));
  core.publish(nullptr, message("mote/broker/will", "from the broker"));
  auto expired = std::make_shared<Message>(*message("mote/x/y", "expired"));
  expired->expires_at_ms = now - 1;
  core.publish(&pub, expired);
  EXPECT_EQ(seen, (std::vector<std::string>{"mote/kitchen/temperature=21.5",
                                            "mote/kitchen/status=offline",
                                            "mote/broker/will=from the broker"}));
  // Wildcard filters skip $SYS topics as subscriptions do.
  std::size_t everything = 0;
  core.observe("#", [&everything](const Message&) { ++everything; });
  core.publish_sys(std::chrono::seconds(1));
  EXPECT_EQ(everything, 0u);
  core.publish(&pub, message("mote/kitchen/temperature", "22"));
  EXPECT_EQ(everything, 1u);
  EXPECT_EQ(seen.size(), 4u);
}

// The gateway's telemetry store joins the group commit: a message an
// observer wrote there is acknowledged only once that store committed it,
// and a failed commit there withholds the acknowledgement.
TEST_F(CoreTest, AcknowledgementsWaitForAnObserversDurableStore) {
  Core core(options());
  FakeOwner pub_owner;
  Session& pub = *core.connect(request("pub"), pub_owner).session;
  std::size_t observed = 0;
  std::size_t stored = 0;
  Status next_commit;
  core.observe("mote/+/+", [&observed](const Message&) { ++observed; });
  core.add_durable_store({[&] { return observed - stored; },
                          [&] {
                            stored = observed;
                            return next_commit;
                          }});
  EXPECT_FALSE(core.commit_due());

  const Core::Published published =
      core.publish(&pub, message("mote/kitchen/temperature", "21.5", QoS::at_least_once));
  ASSERT_NE(published.ticket, 0u);  // the observer wrote: hold the PUBACK
  EXPECT_TRUE(core.commit_due());
  std::vector<bool> released;
  core.when_durable(published.ticket, [&](bool ok) { released.push_back(ok); });
  EXPECT_TRUE(released.empty());
  ASSERT_TRUE(core.commit().ok());
  EXPECT_EQ(stored, 1u);
  EXPECT_EQ(released, std::vector<bool>{true});
  EXPECT_FALSE(core.commit_due());
  // Not observed: nothing to wait for.
  EXPECT_EQ(core.publish(&pub, message("other", "x", QoS::at_least_once)).ticket, 0u);

  // The store committed its batch on its own meanwhile (its own timer): the
  // waiter is still released by the next commit, which the core asks for.
  const std::uint64_t ticket =
      core.publish(&pub, message("mote/kitchen/temperature", "22", QoS::at_least_once)).ticket;
  ASSERT_NE(ticket, 0u);
  core.when_durable(ticket, [&](bool ok) { released.push_back(ok); });
  stored = observed;
  EXPECT_TRUE(core.commit_due());
  ASSERT_TRUE(core.commit().ok());
  EXPECT_EQ(released, (std::vector<bool>{true, true}));

  // A failed commit of that store: no acknowledgement.
  const std::uint64_t failing =
      core.publish(&pub, message("mote/kitchen/temperature", "23", QoS::at_least_once)).ticket;
  core.when_durable(failing, [&](bool ok) { released.push_back(ok); });
  next_commit = Status::internal();
  EXPECT_FALSE(core.commit().ok());
  EXPECT_EQ(released, (std::vector<bool>{true, true, false}));
}

TEST_F(CoreTest, AssignedClientIdsAreUnique) {
  Core core(options());
  const std::string a = core.assign_client_id();
  const std::string b = core.assign_client_id();
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("mote-", 0), 0u);
  EXPECT_EQ(a.size(), 21u);
}

// --- with a store --------------------------------------------------------

class PersistentCoreTest : public CoreTest {
 protected:
  std::unique_ptr<BrokerStore> open_store() {
    auto store = BrokerStore::open(dir.file("broker.db"));
    EXPECT_TRUE(store.ok());
    return std::move(*store);
  }
  CoreOptions with(BrokerStore& store) {
    CoreOptions o = options();
    o.store = &store;
    return o;
  }
  testing::TempDir dir;
};

TEST_F(PersistentCoreTest, SessionsRetainedAndQueuesSurviveARestart) {
  {
    auto store = open_store();
    Core core(with(*store));
    ASSERT_TRUE(core.load().ok());
    FakeOwner owner;
    Session& s = *core.connect(request("keep", false, kSessionNeverExpires), owner).session;
    SubscriptionOptions options = at(QoS::exactly_once);
    options.identifier = 9;
    core.subscribe(s, "t/#", options);
    FakeOwner gone;
    Session& g = *core.connect(request("gone"), gone).session;  // clean: not stored
    core.subscribe(g, "t/#", at(QoS::at_least_once));
    core.publish(nullptr, message("t/r", "retained", QoS::at_least_once, true));
    auto out = drain(core, s);  // in flight: retained QoS 1 ... and the routed copy
    ASSERT_EQ(out.size(), 1u);
    core.publish(nullptr, message("t/1", "one", QoS::exactly_once));
    core.publish(nullptr, message("t/2", "two", QoS::at_least_once));
    out = drain(core, s);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_TRUE(core.pubrec(s, out[0].packet_id, true));  // "one" awaits PUBCOMP
    EXPECT_TRUE(core.receive_qos2(s, 77));
    EXPECT_GT(core.pending_writes(), 0u);
    ASSERT_TRUE(core.commit().ok());
    EXPECT_EQ(core.pending_writes(), 0u);
  }  // no disconnect: as if the broker was killed
  auto store = open_store();
  Core core(with(*store));
  ASSERT_TRUE(core.load().ok());
  EXPECT_EQ(core.retained().size(), 1u);
  EXPECT_EQ(core.find_session("gone"), nullptr);
  Session* s = core.find_session("keep");
  ASSERT_NE(s, nullptr);
  EXPECT_FALSE(s->online);
  ASSERT_EQ(s->subscriptions.count("t/#"), 1u);
  EXPECT_EQ(s->subscriptions.at("t/#").identifier, 9u);
  EXPECT_TRUE(s->has_incoming_qos2(77));
  const auto flights = s->in_flight();
  ASSERT_EQ(flights.size(), 1u);  // QoS 2 "one", same packet id, awaiting PUBCOMP
  EXPECT_EQ(flights[0]->state, OutboundState::awaiting_pubcomp);
  FakeOwner owner;
  const Core::Connected resumed = core.connect(request("keep", false, kSessionNeverExpires), owner);
  EXPECT_TRUE(resumed.session_present);
  const auto out = drain(core, *resumed.session);
  std::vector<std::string> payloads;
  for (const Outbound& o : out) payloads.push_back(payload_of(o));
  // The retained QoS 1 (never acknowledged) and "two" (QoS 1: not recorded as sent).
  EXPECT_EQ(payloads, (std::vector<std::string>{"retained", "two"}));
  EXPECT_TRUE(core.pubcomp(*resumed.session, flights[0]->packet_id));
}

// kill -9 ends every connection without DISCONNECT: after the restart the
// wills of the clients that were connected are published, a delayed one
// after its delay, a cancelled one (normal DISCONNECT) never, and none twice.
TEST_F(PersistentCoreTest, WillsOfConnectedClientsSurviveARestart) {
  {
    auto store = open_store();
    Core core(with(*store));
    ASSERT_TRUE(core.load().ok());
    FakeOwner watcher_owner;
    Session& watcher = *core.connect(request("watcher", false, 1000), watcher_owner).session;
    core.subscribe(watcher, "will/#", at(QoS::at_least_once));
    core.disconnect(watcher, watcher_owner, false);

    FakeOwner plain_owner;  // clean session, no delay
    ConnectRequest plain = request("plain");
    plain.will = Will{message("will/plain", "plain gone", QoS::at_least_once), 0};
    core.connect(plain, plain_owner);

    FakeOwner delayed_owner;  // persistent, delay 10 s
    ConnectRequest delayed = request("delayed", false, 100);
    delayed.will = Will{message("will/delayed", "delayed gone", QoS::at_least_once), 10};
    core.connect(delayed, delayed_owner);

    FakeOwner pending_owner;  // already disconnected, 30 s of its 60 s delay left
    ConnectRequest pending = request("pending", false, 1000);
    pending.will = Will{message("will/pending", "pending gone", QoS::at_least_once), 60};
    Session& p = *core.connect(pending, pending_owner).session;
    now -= 30'000;
    core.disconnect(p, pending_owner, true);
    now += 30'000;

    FakeOwner polite_owner;  // normal DISCONNECT: the will is discarded
    ConnectRequest polite = request("polite", false, 100);
    polite.will = Will{message("will/polite", "never")};
    Session& q = *core.connect(polite, polite_owner).session;
    core.disconnect(q, polite_owner, false);
    ASSERT_TRUE(core.commit().ok());
  }  // killed: no disconnect

  const auto restart = [this](std::vector<std::string>& received, auto&& step) {
    auto store = open_store();
    Core core(with(*store));
    ASSERT_TRUE(core.load().ok());
    step(core);
    FakeOwner owner;
    Session& watcher = *core.connect(request("watcher", false, 1000), owner).session;
    for (const Outbound& o : drain(core, watcher)) {
      received.push_back(o.message->topic + "=" + payload_of(o));
      EXPECT_TRUE(core.puback(watcher, o.packet_id));
    }
    core.disconnect(watcher, owner, false);
    ASSERT_TRUE(core.commit().ok());
  };
  std::vector<std::string> received;
  restart(received, [](Core&) {});
  EXPECT_EQ(received, (std::vector<std::string>{"will/plain=plain gone"}));
  received.clear();
  restart(received, [this](Core& core) {
    now += 10'000;  // the delayed one's delay, counted from the restart
    core.tick();
  });
  EXPECT_EQ(received, (std::vector<std::string>{"will/delayed=delayed gone"}));
  received.clear();
  restart(received, [this](Core& core) {
    now += 20'000;  // the pending one's due time, kept across restarts
    core.tick();
  });
  EXPECT_EQ(received, (std::vector<std::string>{"will/pending=pending gone"}));
  received.clear();
  restart(received, [this](Core& core) {
    now += 1'000'000;
    core.tick();
  });
  EXPECT_TRUE(received.empty());
}

TEST_F(PersistentCoreTest, TicketsAreReleasedByCommit) {
  auto store = open_store();
  Core core(with(*store));
  FakeOwner owner;
  Session& s = *core.connect(request("p", false, 100), owner).session;
  core.subscribe(s, "t", at(QoS::at_least_once));
  ASSERT_TRUE(core.commit().ok());
  const Core::Published published = core.publish(nullptr, message("t", "x", QoS::at_least_once));
  EXPECT_NE(published.ticket, 0u);
  core.commit_requested().reset();
  int released = 0;
  core.when_durable(published.ticket, [&](bool ok) { released += ok ? 1 : 100; });
  EXPECT_EQ(released, 0);
  EXPECT_TRUE(core.commit_requested().is_set());  // a waiter wakes the committer
  ASSERT_TRUE(core.commit().ok());
  EXPECT_EQ(released, 1);
  core.when_durable(published.ticket, [&](bool ok) { released += ok ? 1 : 100; });
  EXPECT_EQ(released, 2);  // already durable: at once
  // A message nobody persistent gets needs no wait.
  EXPECT_EQ(core.publish(nullptr, message("nobody", "x", QoS::at_least_once)).ticket, 0u);
}

TEST_F(PersistentCoreTest, ExpiredSessionsAreDroppedAtLoad) {
  {
    auto store = open_store();
    Core core(with(*store));
    FakeOwner owner;
    Session& s = *core.connect(request("short", false, 10), owner).session;
    core.subscribe(s, "t", at(QoS::at_least_once));
    core.disconnect(s, owner, false);
    ASSERT_TRUE(core.commit().ok());
  }
  now += 11'000;
  auto store = open_store();
  Core core(with(*store));
  ASSERT_TRUE(core.load().ok());
  EXPECT_EQ(core.session_count(), 0u);
  EXPECT_EQ(core.tree().subscription_count(), 0u);
}

// A broker process killed with SIGKILL mid-stream loses no message it
// acknowledged: the child publishes QoS 1 messages to a persistent session
// and reports each one once its commit released the acknowledgement.
TEST_F(PersistentCoreTest, KillNineLosesNoAcknowledgedMessage) {
  {
    auto store = open_store();
    Core core(with(*store));
    FakeOwner owner;
    Session& s = *core.connect(request("durable", false, kSessionNeverExpires), owner).session;
    core.subscribe(s, "load", at(QoS::at_least_once));
    core.disconnect(s, owner, false);
    ASSERT_TRUE(core.commit().ok());
  }
  int progress[2];
  ASSERT_EQ(::pipe(progress), 0);
  const pid_t writer = ::fork();
  ASSERT_GE(writer, 0);
  if (writer == 0) {
    ::close(progress[0]);
    auto store = BrokerStore::open(dir.file("broker.db"));
    if (!store.ok()) ::_exit(2);
    CoreOptions o;
    o.store = store->get();
    o.max_queued_messages = 1'000'000;
    Core core(std::move(o));
    if (!core.load().ok()) ::_exit(3);
    for (int i = 0; i < 1'000'000; ++i) {
      const Core::Published published =
          core.publish(nullptr, message("load", std::to_string(i), QoS::at_least_once));
      core.when_durable(published.ticket, [&](bool ok) {
        if (!ok) ::_exit(4);
        const int acknowledged = i;
        if (::write(progress[1], &acknowledged, sizeof acknowledged) != sizeof acknowledged) {
          ::_exit(5);
        }
      });
      if (i % 50 == 49 && !core.commit().ok()) ::_exit(6);
    }
    ::_exit(0);
  }
  ::close(progress[1]);
  int highest = -1;
  int value = 0;
  while (highest < 3000 && ::read(progress[0], &value, sizeof value) == sizeof value) {
    highest = value;
  }
  ::kill(writer, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(writer, &status, 0), writer);
  while (::read(progress[0], &value, sizeof value) == sizeof value) highest = value;
  ::close(progress[0]);
  ASSERT_TRUE(WIFSIGNALED(status)) << "the writer stopped by itself: " << status;
  ASSERT_GE(highest, 3000);

  auto store = open_store();
  Core core(with(*store));
  ASSERT_TRUE(core.load().ok());
  Session* s = core.find_session("durable");
  ASSERT_NE(s, nullptr);
  // Every acknowledged message is there, in order, without gaps.
  ASSERT_GE(s->queued_count(), static_cast<std::size_t>(highest) + 1);
  int expected = 0;
  for (const Outbound& outbound : s->queued()) {
    ASSERT_EQ(payload_of(outbound), std::to_string(expected));
    ++expected;
  }
}

}  // namespace
}  // namespace mote::broker
