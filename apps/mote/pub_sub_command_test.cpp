// `mote pub` and `mote sub` (child processes) against real peers on
// 127.0.0.1: mosquitto_pub/mosquitto_sub through mosquitto and through
// `mote broker`, each direction; every QoS, retained messages and -R,
// wills, -C and -W, stdin lines, binary files byte for byte, MQTT 5
// properties, refusals and bad command lines with mosquitto's exit codes.

#include <fstream>
#include <gtest/gtest.h>
#include <random>
#include <signal.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/stat.h>
#include <thread>
#include <vector>

#include "mote/testing/process.hpp"

namespace mote::cli {
namespace {

using namespace std::chrono_literals;
using testing::ChildOptions;
using testing::ChildProcess;

// mosquitto or `mote broker` on a fresh loopback port.
class Broker {
 public:
  explicit Broker(const std::string& kind, bool anonymous = true)
      : port_(testing::unused_port(SOCK_STREAM)) {
    std::vector<std::string> argv;
    if (kind == "mosquitto") {
      const std::string config = dir_.write(
          "mosquitto.conf", "listener " + std::to_string(port_) + " 127.0.0.1\nallow_anonymous " +
                                (anonymous ? "true" : "false") + "\npersistence false\n");
      argv = {"mosquitto", "-c", config};
    } else {
      std::string config = "listener " + std::to_string(port_) + " 127.0.0.1\n";
      if (!anonymous) config += "allow_anonymous false\n";
      argv = {MOTE_BINARY, "broker",         "-c", dir_.write("mote.conf", config),
              "-d",        dir_.file("data")};
    }
    process_ = std::make_unique<ChildProcess>(argv);
    ready_ = process_->started() && testing::wait_for_tcp_listener(port_, 10s);
  }
  [[nodiscard]] bool ready() const { return ready_; }
  [[nodiscard]] std::string port() const { return std::to_string(port_); }
  ChildProcess& process() { return *process_; }

 private:
  testing::TempDir dir_;
  std::uint16_t port_;
  std::unique_ptr<ChildProcess> process_;
  bool ready_ = false;
};

std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Runs a program to its end (bounded); its exit code, -1 if it hung.
int run(const std::vector<std::string>& argv, std::string* out = nullptr,
        std::string* err = nullptr, const ChildOptions& options = {}) {
  ChildProcess child(argv, options);
  const std::optional<int> code = child.wait_for_exit(20s);
  if (out != nullptr) *out = child.stdout_text();
  if (err != nullptr) *err = child.stderr_text();
  if (!code) ADD_FAILURE() << "still running: " << child.describe();
  return code.value_or(-1);
}

class PubSub : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    MOTE_SKIP_UNLESS_PROGRAM("mosquitto_sub");
    MOTE_SKIP_UNLESS_PROGRAM("mosquitto_pub");
    if (std::string(GetParam()) == "mosquitto") MOTE_SKIP_UNLESS_PROGRAM("mosquitto");
    broker_ = std::make_unique<Broker>(GetParam());
    ASSERT_TRUE(broker_->ready()) << broker_->process().describe();
  }

  std::vector<std::string> mote(const std::string& command, std::vector<std::string> args) {
    return concat({MOTE_BINARY, command, "-h", "127.0.0.1", "-p", broker_->port()}, args);
  }
  std::vector<std::string> mosquitto(const std::string& command, std::vector<std::string> args) {
    return concat({"mosquitto_" + command, "-h", "127.0.0.1", "-p", broker_->port()}, args);
  }
  // A subscriber that has its SUBACK: `mote sub -d` prints "Subscribed:",
  // mosquitto_sub -d "SUBACK" (line-buffered through stdbuf).
  std::unique_ptr<ChildProcess> subscriber(std::vector<std::string> argv) {
    const bool is_mote = argv[0] == MOTE_BINARY;
    argv.push_back("-d");
    if (!is_mote) argv.insert(argv.begin(), {"stdbuf", "-oL"});
    auto child = std::make_unique<ChildProcess>(argv);
    EXPECT_TRUE(child->wait_for_output(is_mote ? "Subscribed:" : "SUBACK", 10s))
        << child->describe();
    return child;
  }
  // What a subscriber printed, its -d lines left out.
  static std::string messages(ChildProcess& sub, int expected_exit = 0) {
    EXPECT_EQ(sub.wait_for_exit(15s), expected_exit) << sub.describe();
    std::string kept;
    std::istringstream lines(sub.stdout_text());
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("Client ", 0) == 0 || line.rfind("Subscribed", 0) == 0) continue;
      kept += line + "\n";
    }
    return kept;
  }

  std::unique_ptr<Broker> broker_;
};

TEST_P(PubSub, MotePubReachesMosquittoSubAtEveryQos) {
  for (const char* version : {"mqttv311", "mqttv5"}) {
    for (const char* qos : {"0", "1", "2"}) {
      const std::string topic = std::string("q/") + version + "/" + qos;
      auto sub = subscriber(
          mosquitto("sub", {"-V", version, "-t", topic, "-q", qos, "-C", "1", "-F", "%t %p q%q"}));
      ASSERT_EQ(run(mote("pub", {"-V", version, "-t", topic, "-m", "hello", "-q", qos})), 0);
      EXPECT_EQ(messages(*sub), topic + " hello q" + qos + "\n");
    }
  }
}

TEST_P(PubSub, MosquittoPubReachesMoteSubAtEveryQos) {
  for (const char* version : {"mqttv311", "mqttv5"}) {
    for (const char* qos : {"0", "1", "2"}) {
      const std::string topic = std::string("q/") + version + "/" + qos;
      auto sub = subscriber(mote("sub", {"-V", version, "-t", topic, "-q", qos, "-C", "1", "-v"}));
      ASSERT_EQ(run(mosquitto("pub", {"-V", version, "-t", topic, "-m", "hi there", "-q", qos})),
                0);
      EXPECT_EQ(messages(*sub), topic + " hi there\n");
    }
  }
}

TEST_P(PubSub, RetainedMessagesAndNoRetained) {
  ASSERT_EQ(run(mote("pub", {"-t", "r/1", "-m", "kept", "-r", "-q", "1"})), 0);
  std::string out;
  ASSERT_EQ(run(mote("sub", {"-t", "r/#", "-C", "1", "-F", "%t=%p retained=%r"}), &out), 0);
  EXPECT_EQ(out, "r/1=kept retained=1\n");
  ASSERT_EQ(run(mosquitto("sub", {"-t", "r/#", "-C", "1", "-v"}), &out), 0);
  EXPECT_EQ(out, "r/1 kept\n");

  // -R: the retained message is not printed, a live one is.
  auto sub = subscriber(mote("sub", {"-t", "r/#", "-R", "-C", "1", "-v"}));
  ASSERT_EQ(run(mosquitto("pub", {"-t", "r/2", "-m", "live"})), 0);
  EXPECT_EQ(messages(*sub), "r/2 live\n");

  // An empty retained message deletes it.
  ASSERT_EQ(run(mote("pub", {"-t", "r/1", "-n", "-r"})), 0);
  std::string err;
  EXPECT_EQ(run(mote("sub", {"-t", "r/1", "-W", "1"}), &out, &err), 27);
  EXPECT_EQ(out, "");
  EXPECT_NE(err.find("Timed out"), std::string::npos);
}

TEST_P(PubSub, WillOnKillButNotOnSigterm) {
  for (const char* version : {"mqttv311", "mqttv5"}) {
    const std::string will = std::string("will/") + version;
    auto watcher = subscriber(mosquitto("sub", {"-t", will, "-C", "1", "-v", "-q", "1"}));
    // SIGTERM: a clean DISCONNECT, no will.
    auto polite = subscriber(mote("sub", {"-V", version, "-t", "nothing", "--will-topic", will,
                                          "--will-payload", "polite", "--will-qos", "1"}));
    polite->signal(SIGTERM);
    EXPECT_EQ(polite->wait_for_exit(10s), 0) << polite->describe();
    // SIGKILL: the connection just ends, the broker publishes the will.
    auto killed = subscriber(mote("sub", {"-V", version, "-t", "nothing", "--will-topic", will,
                                          "--will-payload", "gone", "--will-qos", "1"}));
    killed->signal(SIGKILL);
    EXPECT_EQ(messages(*watcher), will + " gone\n");
  }
}

TEST_P(PubSub, CountAndTimeout) {
  auto sub = subscriber(mote("sub", {"-t", "c/#", "-C", "2", "-v", "-q", "1"}));
  for (const char* m : {"one", "two", "three"}) {
    ASSERT_EQ(run(mosquitto("pub", {"-t", "c/x", "-m", m, "-q", "1"})), 0);
  }
  EXPECT_EQ(messages(*sub), "c/x one\nc/x two\n");

  // -W: exits 27 when the time is up, having printed what came before.
  auto waiting = subscriber(mote("sub", {"-t", "w", "-W", "2", "-v"}));
  ASSERT_EQ(run(mosquitto("pub", {"-t", "w", "-m", "early"})), 0);
  EXPECT_EQ(messages(*waiting, 27), "w early\n");
  EXPECT_NE(waiting->stderr_text().find("Timed out"), std::string::npos);
}

TEST_P(PubSub, StdinLinesEachAMessage) {
  testing::TempDir dir;
  const std::string input = dir.write("lines.txt", "first\n\nthird\r\nlast without newline");
  for (const char* qos : {"0", "2"}) {
    auto sub = subscriber(mosquitto("sub", {"-t", "l", "-C", "4", "-F", "[%p]", "-q", qos}));
    ChildOptions options;
    options.stdin_path = input;
    ASSERT_EQ(run(mote("pub", {"-t", "l", "-l", "-q", qos}), nullptr, nullptr, options), 0);
    EXPECT_EQ(messages(*sub), "[first]\n[]\n[third\r]\n[last without newline]\n");
  }
  // The same lines over MQTT 5.
  {
    auto sub = subscriber(mosquitto("sub", {"-t", "l/5", "-C", "4", "-v"}));
    ChildOptions options;
    options.stdin_path = input;
    ASSERT_EQ(run(mote("pub", {"-V", "5", "-t", "l/5", "-l"}), nullptr, nullptr, options), 0);
    EXPECT_EQ(messages(*sub), "l/5 first\nl/5 (null)\nl/5 third\r\nl/5 last without newline\n");
  }
  // From a pipe, as `producer | mote pub -l` runs (stdin read through epoll).
  auto sub = subscriber(mosquitto("sub", {"-t", "l", "-C", "2", "-v"}));
  ASSERT_EQ(run({"sh", "-c",
                 "printf 'a\\nb\\n' | " MOTE_BINARY " pub -h 127.0.0.1 -p " + broker_->port() +
                     " -t l -l -q 1"}),
            0);
  EXPECT_EQ(messages(*sub), "l a\nl b\n");
}

TEST_P(PubSub, BinaryFilesByteForByte) {
  testing::TempDir dir;
  std::string payload(300 * 1024, '\0');
  std::mt19937 random(7);
  for (char& c : payload) c = static_cast<char>(random() & 0xff);
  const std::string file = dir.write("payload.bin", payload);

  // Retained, so each reader comes after its writer with nothing to wait for.
  // mote pub -f → mosquitto_sub -N (the payload exactly, nothing after it).
  std::string out;
  ASSERT_EQ(run(mote("pub", {"-t", "bin/1", "-f", file, "-q", "1", "-r"})), 0);
  ASSERT_EQ(run(mosquitto("sub", {"-t", "bin/1", "-C", "1", "-N"}), &out), 0);
  EXPECT_EQ(out.size(), payload.size());
  EXPECT_TRUE(out == payload);
  // mosquitto_pub -f → mote sub -N.
  ASSERT_EQ(run(mosquitto("pub", {"-t", "bin/2", "-f", file, "-q", "2", "-r"})), 0);
  ASSERT_EQ(run(mote("sub", {"-t", "bin/2", "-C", "1", "-N", "-q", "2"}), &out), 0);
  EXPECT_TRUE(out == payload);
  // mote pub -s (all of stdin) → mote sub, printed as hex (%x) this time.
  ChildOptions from_file;
  from_file.stdin_path = file;
  ASSERT_EQ(run(mote("pub", {"-t", "bin/3", "-s", "-q", "2", "-r"}), nullptr, nullptr, from_file),
            0);
  ASSERT_EQ(run(mote("sub", {"-t", "bin/3", "-C", "1", "-F", "%l %x"}), &out), 0);
  std::string hex;
  static constexpr char kDigits[] = "0123456789abcdef";
  for (const char c : payload) {
    hex += kDigits[static_cast<unsigned char>(c) >> 4];
    hex += kDigits[static_cast<unsigned char>(c) & 0xf];
  }
  EXPECT_TRUE(out == std::to_string(payload.size()) + " " + hex + "\n");
}

TEST_P(PubSub, Mqtt5PropertiesBothWays) {
  const std::vector<std::string> properties = {"-V",
                                               "mqttv5",
                                               "-D",
                                               "publish",
                                               "user-property",
                                               "site",
                                               "north",
                                               "-D",
                                               "publish",
                                               "user-property",
                                               "unit",
                                               "C",
                                               "-D",
                                               "publish",
                                               "content-type",
                                               "text/plain",
                                               "-D",
                                               "publish",
                                               "response-topic",
                                               "reply/here",
                                               "-D",
                                               "publish",
                                               "correlation-data",
                                               "req-7",
                                               "-D",
                                               "publish",
                                               "payload-format-indicator",
                                               "1",
                                               "-D",
                                               "publish",
                                               "message-expiry-interval",
                                               "3600"};
  const std::string format = "%C|%R|%P|%D|%F|%E|%p";
  auto sub = subscriber(mosquitto("sub", {"-V", "mqttv5", "-t", "p", "-C", "1", "-F", format}));
  ASSERT_EQ(run(mote("pub", concat({"-t", "p", "-m", "21.5"}, properties))), 0);
  auto mote_sub = subscriber(mote("sub", {"-V", "5", "-t", "p", "-C", "1", "-F", format}));
  ASSERT_EQ(run(mosquitto("pub", concat({"-t", "p", "-m", "21.5"}, properties))), 0);
  // The expiry counts down while the message waits, so it is at most 3600.
  for (ChildProcess* child : {sub.get(), mote_sub.get()}) {
    const std::string line = messages(*child);
    EXPECT_EQ(line.substr(0, line.find("|36")), "text/plain|reply/here|site:north unit:C|req-7|1")
        << line;
    EXPECT_NE(line.find("|21.5\n"), std::string::npos) << line;
  }
  // A subscription identifier comes back with the message (%S).
  auto identified = subscriber(mote("sub", {"-V", "5", "-t", "s", "-C", "1", "-F", "%S %p", "-D",
                                            "subscribe", "subscription-identifier", "42"}));
  ASSERT_EQ(run(mote("pub", {"-V", "5", "-t", "s", "-m", "x"})), 0);
  EXPECT_EQ(messages(*identified), "42 x\n");
}

TEST_P(PubSub, PersistentSessionGetsWhatCameWhileAway) {
  ASSERT_EQ(run(mote("sub", {"-t", "away", "-q", "1", "-c", "-i", "mote-away", "-W", "1"})), 27);
  ASSERT_EQ(run(mote("pub", {"-t", "away", "-m", "while you were out", "-q", "1"})), 0);
  std::string out;
  ASSERT_EQ(
      run(mote("sub", {"-t", "away", "-q", "1", "-c", "-i", "mote-away", "-C", "1", "-v"}), &out),
      0);
  EXPECT_EQ(out, "away while you were out\n");
}

INSTANTIATE_TEST_SUITE_P(Brokers, PubSub, ::testing::Values("mosquitto", "mote"),
                         [](const auto& info) { return std::string(info.param); });

// `mote broker` killed with -9 while clients are connected: the restarted
// broker publishes the wills of those that were connected (their
// connections ended without DISCONNECT), not of one that said goodbye.
TEST(BrokerRestart, WillsOfConnectedClientsArePublishedAfterKillNine) {
  testing::TempDir data;
  const std::string port = std::to_string(testing::unused_port(SOCK_STREAM));
  const std::vector<std::string> broker_argv = {MOTE_BINARY, "broker",    "-p", port,
                                                "-b",        "127.0.0.1", "-d", data.path()};
  auto broker = std::make_unique<ChildProcess>(broker_argv);
  ASSERT_TRUE(broker->wait_for_output("listening on", 10s)) << broker->describe();
  const auto client = [&](const std::string& id) {
    auto child = std::make_unique<ChildProcess>(std::vector<std::string>{
        MOTE_BINARY, "sub", "-p", port, "-i", id, "-t", "x", "-d", "--will-topic", "status/" + id,
        "--will-payload", id + " offline", "--will-retain", "--will-qos", "1"});
    EXPECT_TRUE(child->wait_for_output("Subscribed:", 10s)) << child->describe();
    return child;
  };
  auto holder = client("holder");
  auto v5 = std::make_unique<ChildProcess>(std::vector<std::string>{
      MOTE_BINARY, "sub", "-p", port, "-V", "5", "-i", "v5", "-t", "x", "-d", "--will-topic",
      "status/v5", "--will-payload", "v5 offline", "--will-retain", "-x", "600"});
  ASSERT_TRUE(v5->wait_for_output("Subscribed:", 10s)) << v5->describe();
  auto polite = client("polite");
  polite->signal(SIGTERM);
  ASSERT_EQ(polite->wait_for_exit(10s), 0) << polite->describe();
  std::this_thread::sleep_for(300ms);  // the broker commits every 5 ms
  broker->signal(SIGKILL);
  ASSERT_TRUE(broker->wait_for_exit(5s).has_value());
  holder->signal(SIGKILL);
  v5->signal(SIGKILL);

  broker = std::make_unique<ChildProcess>(broker_argv);
  ASSERT_TRUE(broker->wait_for_output("listening on", 10s)) << broker->describe();
  std::string out;
  EXPECT_EQ(
      run({MOTE_BINARY, "sub", "-p", port, "-t", "status/#", "-v", "-C", "2", "-W", "10"}, &out),
      0);
  EXPECT_TRUE(out == "status/holder holder offline\nstatus/v5 v5 offline\n" ||
              out == "status/v5 v5 offline\nstatus/holder holder offline\n")
      << out;
  EXPECT_EQ(run({MOTE_BINARY, "sub", "-p", port, "-t", "status/polite", "-W", "1"}, &out), 27);
  EXPECT_EQ(out, "");
}

TEST(PubSubRefusals, ConnackCodesAreTheExitCode) {
  MOTE_SKIP_UNLESS_PROGRAM("mosquitto");
  for (const char* kind : {"mosquitto", "mote"}) {
    Broker broker(kind, /*anonymous=*/false);
    ASSERT_TRUE(broker.ready()) << broker.process().describe();
    std::string err;
    // 3.1.1: return code 5 (not authorised); MQTT 5: reason code 0x87.
    EXPECT_EQ(run({MOTE_BINARY, "pub", "-p", broker.port(), "-t", "a", "-m", "b"}, nullptr, &err),
              5)
        << kind;
    EXPECT_NE(err.find("Connection Refused"), std::string::npos) << err;
    EXPECT_EQ(run({MOTE_BINARY, "sub", "-p", broker.port(), "-t", "a", "-V", "5"}), 135) << kind;
  }
}

TEST(PubSubRefusals, NoBrokerAndBadCommandLinesExitOne) {
  const std::string closed = std::to_string(testing::unused_port(SOCK_STREAM));
  std::string err;
  EXPECT_EQ(run({MOTE_BINARY, "pub", "-p", closed, "-t", "a", "-m", "b"}, nullptr, &err), 1);
  EXPECT_NE(err.find("cannot connect to localhost port " + closed), std::string::npos) << err;
  EXPECT_EQ(run({MOTE_BINARY, "sub", "-p", closed, "-t", "a", "--quiet"}, nullptr, &err), 1);
  EXPECT_EQ(err, "");

  const std::vector<std::pair<std::vector<std::string>, std::string>> bad = {
      {{"pub", "-t", "a"}, "Both topic and message must be supplied"},
      {{"pub", "-t", "a", "-m", "x", "-n"}, "Only one type of message"},
      {{"pub", "-t", "a/#", "-m", "x"}, "Invalid publish topic 'a/#'"},
      {{"pub", "-t", "a", "-m", "x", "-q", "3"}, "--qos: Value 3 not in range"},
      {{"pub", "-t", "a", "-m", "x", "-V", "6"}, "Invalid protocol version '6'"},
      {{"pub", "-t", "a", "-m", "x", "-c"}, "You must provide a client id"},
      {{"pub", "-t", "a", "-m", "x", "-x", "60"}, "-x is only valid with MQTT v5"},
      {{"pub", "-t", "a", "-m", "x", "-V", "5", "-D", "publish", "no-such", "1"},
       "no such property"},
      {{"pub", "-t", "a", "-m", "x", "-V", "5", "-D", "subscribe", "user-property", "k", "v"},
       "'subscribe' is not a packet this command sends"},
      {{"pub", "-t", "a", "-m", "x", "-V", "5", "-D", "publish", "message-expiry-interval", "soon"},
       "is not an integer"},
      {{"pub", "-t", "a", "-m", "x", "-f", "/nonexistent/file"}, "Only one type of message"},
      {{"pub", "-t", "a", "-f", "/nonexistent/file"}, "Unable to read file"},
      {{"pub", "-t", "a", "-m", "x", "--bogus"}, "--bogus"},
      {{"pub", "-t", "a", "-m", "x", "--will-qos", "1"}, "without --will-topic"},
      {{"sub"}, "You must specify a topic"},
      {{"sub", "-t", "a/#/b"}, "Invalid subscription topic 'a/#/b'"},
      {{"sub", "-t", "a", "-T", "+x"}, "Invalid filter topic '+x'"},
      {{"sub", "-t", "a", "-F", "%z"}, "'%z' is not a format field"},
      {{"sub", "-t", "a", "-k", "2"}, "Invalid keepalive"},
      {{"sub", "-t", "a", "-W", "0"}, "--timeout: Value 0 not in range"},
  };
  for (const auto& [args, message] : bad) {
    std::string out;
    EXPECT_EQ(run(concat({MOTE_BINARY}, args), &out, &err), 1) << args[1] << " " << message;
    EXPECT_NE(err.find(message), std::string::npos) << "stderr: " << err;
    EXPECT_EQ(out, "");
  }
  // --help is -h's long form only: -h is the host, as in mosquitto_pub.
  std::string out;
  EXPECT_EQ(run({MOTE_BINARY, "pub", "--help"}, &out), 0);
  EXPECT_NE(out.find("-h,--host"), std::string::npos);
  EXPECT_EQ(run({MOTE_BINARY, "help", "sub"}, &out), 0);
  EXPECT_NE(out.find("-W,--timeout"), std::string::npos);
}

}  // namespace
}  // namespace mote::cli
