#include "mote/platform/gpio_chip.hpp"

#include <cstring>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <linux/gpio.h>
#include <optional>
#include <string>
#include <unistd.h>
#include <vector>

#include "fake_device_io.hpp"
#include "mote/testing/process.hpp"

namespace mote::platform {
namespace {

using async::Executor;
using async::Task;
using async::TaskState;
using async::TaskStorage;
using testing::fail;
using testing::FakeDeviceIo;

void copy_name(char (&field)[GPIO_MAX_NAME_SIZE], const std::string& text) {
  std::memset(field, 0, sizeof field);
  std::memcpy(field, text.data(), std::min(text.size(), sizeof field - 1));
}

// The bytes of one struct gpio_v2_line_event as the kernel writes it.
std::vector<std::byte> event_bytes(std::uint32_t id, std::uint32_t offset, std::uint32_t seqno,
                                   std::uint64_t timestamp_ns = 1'000'000) {
  gpio_v2_line_event event{};
  event.timestamp_ns = timestamp_ns;
  event.id = id;
  event.offset = offset;
  event.seqno = seqno;
  event.line_seqno = seqno;
  std::vector<std::byte> bytes(sizeof event);
  std::memcpy(bytes.data(), &event, sizeof event);
  return bytes;
}

// A chip with `lines` lines named "L<offset>" (L3 is "BUTTON"). Line
// requests get the read end of a pipe as their line fd; the test writes
// events into the other end as the kernel would.
class FakeChip {
 public:
  explicit FakeChip(unsigned lines = 8, std::string label = "gpio-sim.0-node0")
      : lines_(lines), label_(std::move(label)) {
    io.set_handler([this](const std::string&, unsigned long request, void* arg) {
      return handle(request, arg);
    });
  }
  ~FakeChip() {
    if (event_writer >= 0) ::close(event_writer);
  }

  int handle(unsigned long request, void* arg) {
    switch (request) {
      case GPIO_GET_CHIPINFO_IOCTL: {
        auto* info = static_cast<gpiochip_info*>(arg);
        copy_name(info->name, "gpiochip0");
        copy_name(info->label, label_);
        info->lines = lines_;
        return 0;
      }
      case GPIO_V2_GET_LINEINFO_IOCTL: {
        auto* info = static_cast<gpio_v2_line_info*>(arg);
        if (info->offset >= lines_) return fail(EINVAL);
        copy_name(info->name, info->offset == 3 ? "BUTTON" : "L" + std::to_string(info->offset));
        if (info->offset == busy_line) {
          info->flags = GPIO_V2_LINE_FLAG_USED | GPIO_V2_LINE_FLAG_INPUT;
          copy_name(info->consumer, "sysfs");
        }
        return 0;
      }
      case GPIO_V2_GET_LINE_IOCTL: {
        auto* line = static_cast<gpio_v2_line_request*>(arg);
        last_request = *line;
        if (line->offsets[0] == busy_line) return fail(EBUSY);
        if (request_error != 0) return fail(request_error);
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) return fail(EMFILE);
        if (event_writer >= 0) ::close(event_writer);
        event_writer = fds[1];
        line->fd = fds[0];
        return 0;
      }
      case GPIO_V2_LINE_GET_VALUES_IOCTL: {
        auto* values = static_cast<gpio_v2_line_values*>(arg);
        if (line_error != 0) return fail(line_error);
        values->bits = level && (values->mask & 1U) != 0 ? 1U : 0U;
        return 0;
      }
      case GPIO_V2_LINE_SET_VALUES_IOCTL: {
        auto* values = static_cast<gpio_v2_line_values*>(arg);
        if (line_error != 0) return fail(line_error);
        set_values.push_back(*values);
        return 0;
      }
      default: return fail(ENOTTY);
    }
  }

  void send(const std::vector<std::byte>& bytes) const {
    ASSERT_EQ(::write(event_writer, bytes.data(), bytes.size()),
              static_cast<ssize_t>(bytes.size()));
  }

  FakeDeviceIo io;
  gpio_v2_line_request last_request{};
  std::vector<gpio_v2_line_values> set_values;
  int event_writer = -1;
  unsigned busy_line = 99;
  int request_error = 0;
  int line_error = 0;
  bool level = false;

 private:
  unsigned lines_;
  std::string label_;
};

Task<Status> wait_edge(GpioInput& input, hal::Edge edge) {
  co_return co_await input.wait_for_edge(edge);
}
Task<Status> wait_level(GpioInput& input, bool high) {
  co_return co_await input.wait_for_level(high);
}

// A chip opened through FakeChip, an epoll driver and an executor.
class GpioLineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<GpioChip> opened = GpioChip::open("/dev/gpiochip0", fake.io);
    ASSERT_TRUE(opened.ok());
    chip = std::move(*opened);
  }
  // Line 3 requested as an input (both edges unless `config` says otherwise).
  GpioInput input(const GpioInputConfig& config = {}, unsigned offset = 3) {
    Result<GpioInput> requested = chip->request_input(driver, offset, config);
    EXPECT_TRUE(requested.ok());
    return std::move(*requested);
  }
  // Spawns a wait for `edge` and runs until it blocks.
  void start_wait(TaskStorage<512>& task, GpioInput& line, hal::Edge edge) {
    ASSERT_TRUE(executor.spawn(task, wait_edge, std::ref(line), edge).ok());
    executor.run_until_stalled();
  }

  FakeChip fake;
  EpollDriver driver;
  Executor executor{driver};
  std::optional<GpioChip> chip;
};

TEST(GpioChipTest, DecodesKernelEvents) {
  Result<GpioLineEvent> rising =
      decode_gpio_line_event(event_bytes(GPIO_V2_LINE_EVENT_RISING_EDGE, 17, 4, 123456789));
  ASSERT_TRUE(rising.ok());
  EXPECT_TRUE(rising->rising);
  EXPECT_EQ(rising->offset, 17u);
  EXPECT_EQ(rising->seqno, 4u);
  EXPECT_EQ(rising->timestamp_ns, 123456789u);
  Result<GpioLineEvent> falling =
      decode_gpio_line_event(event_bytes(GPIO_V2_LINE_EVENT_FALLING_EDGE, 2, 1));
  ASSERT_TRUE(falling.ok());
  EXPECT_FALSE(falling->rising);
  EXPECT_EQ(decode_gpio_line_event(event_bytes(0, 2, 1)).status(), Status::data_loss());
  EXPECT_EQ(decode_gpio_line_event(event_bytes(3, 2, 1)).status(), Status::data_loss());
  std::vector<std::byte> short_event = event_bytes(1, 2, 1);
  short_event.pop_back();
  EXPECT_EQ(decode_gpio_line_event(short_event).status(), Status::data_loss());
  EXPECT_EQ(decode_gpio_line_event({}).status(), Status::data_loss());
}

TEST(GpioChipTest, OpensAChipAndReadsItsInfo) {
  FakeChip fake(32, "pinctrl-bcm2711");
  Result<GpioChip> chip = GpioChip::open("/dev/gpiochip0", fake.io);
  ASSERT_TRUE(chip.ok());
  EXPECT_EQ(chip->info().name, "gpiochip0");
  EXPECT_EQ(chip->info().label, "pinctrl-bcm2711");
  EXPECT_EQ(chip->info().lines, 32u);
  EXPECT_EQ(chip->path(), "/dev/gpiochip0");
}

TEST(GpioChipTest, OpenErrorsSayWhatIsWrong) {
  FakeChip fake;
  fake.io.fail_open("/dev/gpiochip7", ENOENT);
  fake.io.fail_open("/dev/gpiochip1", EACCES);
  EXPECT_EQ(GpioChip::open("/dev/gpiochip7", fake.io).status(), Status::not_found());
  EXPECT_EQ(GpioChip::open("/dev/gpiochip1", fake.io).status(), Status::permission_denied());
  // Something that is not a GPIO chip refuses the chip-info ioctl.
  FakeDeviceIo not_a_chip;
  EXPECT_EQ(GpioChip::open("/dev/null", not_a_chip).status(), Status::unimplemented());
}

TEST(GpioChipTest, FindsAChipByLabelInNameOrder) {
  mote::testing::TempDir dev;
  for (const char* name : {"gpiochip10", "gpiochip2", "gpiochip0", "ttyS0"}) dev.write(name, "");
  FakeDeviceIo io;
  io.set_handler([](const std::string& path, unsigned long request, void* arg) {
    if (request != GPIO_GET_CHIPINFO_IOCTL) return fail(ENOTTY);
    auto* info = static_cast<gpiochip_info*>(arg);
    const std::string name = path.substr(path.rfind('/') + 1);
    copy_name(info->name, name);
    // gpiochip2 and gpiochip10 carry the same label: the lower number wins.
    copy_name(info->label, name == "gpiochip0" ? "pinctrl" : "gpio-sim.0-node0");
    info->lines = 4;
    return 0;
  });
  Result<GpioChip> chip = GpioChip::open_by_label("gpio-sim.0-node0", io, dev.path());
  ASSERT_TRUE(chip.ok());
  EXPECT_EQ(chip->path(), dev.file("gpiochip2"));
  EXPECT_EQ(GpioChip::open_by_label("nothing", io, dev.path()).status(), Status::not_found());
  EXPECT_EQ(GpioChip::open_by_label("pinctrl", io, dev.path() + "/missing").status(),
            Status::not_found());
  // The only chip that could have been it is not accessible: say so.
  io.fail_open(dev.file("gpiochip0"), EACCES);
  EXPECT_EQ(GpioChip::open_by_label("pinctrl", io, dev.path()).status(),
            Status::permission_denied());
}

TEST_F(GpioLineTest, FindsLinesByName) {
  EXPECT_EQ(chip->find_line("BUTTON").value(), 3u);
  EXPECT_EQ(chip->find_line("L6").value(), 6u);
  EXPECT_EQ(chip->find_line("L8").status(), Status::not_found());
  EXPECT_EQ(chip->line_info(8).status(), Status::invalid_argument());
}

TEST_F(GpioLineTest, InputRequestCarriesTheConfiguration) {
  Result<GpioInput> line = chip->request_input(driver, 5,
                                               {.bias = GpioBias::pull_up,
                                                .active_low = true,
                                                .edges = GpioEdges::both,
                                                .debounce = std::chrono::milliseconds(5),
                                                .event_buffer_size = 32},
                                               "doorbell");
  ASSERT_TRUE(line.ok());
  const gpio_v2_line_request& r = fake.last_request;
  EXPECT_EQ(r.num_lines, 1u);
  EXPECT_EQ(r.offsets[0], 5u);
  EXPECT_STREQ(r.consumer, "doorbell");
  EXPECT_EQ(r.config.flags, GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_BIAS_PULL_UP |
                                GPIO_V2_LINE_FLAG_ACTIVE_LOW | GPIO_V2_LINE_FLAG_EDGE_RISING |
                                GPIO_V2_LINE_FLAG_EDGE_FALLING);
  ASSERT_EQ(r.config.num_attrs, 1u);
  EXPECT_EQ(r.config.attrs[0].attr.id, GPIO_V2_LINE_ATTR_ID_DEBOUNCE);
  EXPECT_EQ(r.config.attrs[0].attr.debounce_period_us, 5000u);
  EXPECT_EQ(r.config.attrs[0].mask, 1u);
  EXPECT_EQ(r.event_buffer_size, 32u);
  // The kernel's consumer field holds 31 bytes and a NUL.
  ASSERT_TRUE(chip->request_input(driver, 6, {}, std::string(40, 'c')).ok());
  EXPECT_EQ(std::string(fake.last_request.consumer), std::string(31, 'c'));
  EXPECT_EQ(fake.last_request.config.flags, GPIO_V2_LINE_FLAG_INPUT |
                                                GPIO_V2_LINE_FLAG_EDGE_RISING |
                                                GPIO_V2_LINE_FLAG_EDGE_FALLING);
  EXPECT_EQ(fake.last_request.config.num_attrs, 0u);
}

TEST_F(GpioLineTest, OutputRequestCarriesTheInitialValueAndDrive) {
  Result<GpioOutput> led = chip->request_output(
      2, {.initial = true, .drive = GpioDrive::open_drain, .bias = GpioBias::disabled});
  ASSERT_TRUE(led.ok());
  const gpio_v2_line_request& r = fake.last_request;
  EXPECT_EQ(r.offsets[0], 2u);
  EXPECT_STREQ(r.consumer, "mote");
  EXPECT_EQ(r.config.flags, GPIO_V2_LINE_FLAG_OUTPUT | GPIO_V2_LINE_FLAG_OPEN_DRAIN |
                                GPIO_V2_LINE_FLAG_BIAS_DISABLED);
  ASSERT_EQ(r.config.num_attrs, 1u);
  EXPECT_EQ(r.config.attrs[0].attr.id, GPIO_V2_LINE_ATTR_ID_OUTPUT_VALUES);
  EXPECT_EQ(r.config.attrs[0].attr.values, 1u);
  EXPECT_EQ(r.config.attrs[0].mask, 1u);
  EXPECT_TRUE(led->value());
}

TEST_F(GpioLineTest, RequestErrorsSayWhatIsWrong) {
  // Beyond the chip: refused before asking the kernel.
  EXPECT_EQ(chip->request_output(8).status(), Status::invalid_argument());
  EXPECT_EQ(fake.io.count(GPIO_V2_GET_LINE_IOCTL), 0u);
  // Busy: the holder is looked up for the log.
  fake.busy_line = 4;
  EXPECT_EQ(chip->request_input(driver, 4).status(), Status::unavailable());
  EXPECT_EQ(fake.io.count(GPIO_V2_GET_LINEINFO_IOCTL), 1u);
  EXPECT_EQ(chip->line_info(4)->consumer, "sysfs");
  EXPECT_TRUE(chip->line_info(4)->used);
  fake.request_error = EOPNOTSUPP;  // e.g. a pull-down the pin controller lacks
  EXPECT_EQ(chip->request_input(driver, 1, {.bias = GpioBias::pull_down}).status(),
            Status::unimplemented());
  fake.request_error = ENODEV;  // the chip was unbound
  EXPECT_EQ(chip->request_output(1).status(), Status::unavailable());
  fake.request_error = EINVAL;
  EXPECT_EQ(chip->request_output(1).status(), Status::invalid_argument());
  EXPECT_EQ(chip->request_input(driver, 1, {.debounce = std::chrono::microseconds(-1)}).status(),
            Status::invalid_argument());
}

TEST_F(GpioLineTest, OutputSetsAndTogglesThroughTheLineFd) {
  Result<GpioOutput> led = chip->request_output(2);
  ASSERT_TRUE(led.ok());
  EXPECT_TRUE(led->set(true).ok());
  EXPECT_TRUE(led->toggle().ok());
  EXPECT_TRUE(led->toggle().ok());
  ASSERT_EQ(fake.set_values.size(), 3u);
  EXPECT_EQ(fake.set_values[0].bits, 1u);
  EXPECT_EQ(fake.set_values[1].bits, 0u);
  EXPECT_EQ(fake.set_values[2].bits, 1u);
  for (const gpio_v2_line_values& v : fake.set_values) EXPECT_EQ(v.mask, 1u);
  fake.level = true;
  EXPECT_TRUE(led->read().value());
  fake.line_error = ENODEV;  // the chip went away
  EXPECT_EQ(led->set(false), Status::unavailable());
  EXPECT_TRUE(led->value()) << "a failed write does not change the value toggle() inverts";
  led->close();
  EXPECT_EQ(led->set(false), Status::unavailable());
}

TEST_F(GpioLineTest, WaitForEdgeWakesOnTheKernelEvent) {
  GpioInput line = input();
  TaskStorage<512> task;
  start_wait(task, line, hal::Edge::rising);
  EXPECT_EQ(task.state(), TaskState::running);
  fake.send(event_bytes(GPIO_V2_LINE_EVENT_FALLING_EDGE, 3, 1));
  executor.run_until_stalled();
  // epoll reported the falling edge; the task read it and waits on.
  EXPECT_EQ(task.state(), TaskState::running);
  EXPECT_EQ(line.events_read(), 1u);
  fake.send(event_bytes(GPIO_V2_LINE_EVENT_RISING_EDGE, 3, 2));
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(task.state(), TaskState::finished);
  EXPECT_TRUE(task.exit_status().ok());
  EXPECT_EQ(line.events_read(), 2u);
}

TEST_F(GpioLineTest, EdgesQueuedBeforeTheCallDoNotCount) {
  GpioInput line = input();
  fake.send(event_bytes(GPIO_V2_LINE_EVENT_RISING_EDGE, 3, 1));
  fake.send(event_bytes(GPIO_V2_LINE_EVENT_FALLING_EDGE, 3, 2));
  TaskStorage<512> task;
  start_wait(task, line, hal::Edge::any);
  EXPECT_EQ(task.state(), TaskState::running);
  EXPECT_EQ(line.events_read(), 2u);
  fake.send(event_bytes(GPIO_V2_LINE_EVENT_FALLING_EDGE, 3, 3));
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(task.exit_status().ok());
}

TEST_F(GpioLineTest, WaitForLevelReadsTheLineFirst) {
  GpioInput line = input();
  fake.level = true;
  EXPECT_TRUE(line.read().value());
  TaskStorage<512> at_level, to_level;
  ASSERT_TRUE(executor.spawn(at_level, wait_level, std::ref(line), true).ok());
  executor.run_until_stalled();
  EXPECT_EQ(at_level.state(), TaskState::finished);
  EXPECT_TRUE(at_level.exit_status().ok());
  ASSERT_TRUE(executor.spawn(to_level, wait_level, std::ref(line), false).ok());
  executor.run_until_stalled();
  EXPECT_EQ(to_level.state(), TaskState::running);
  fake.send(event_bytes(GPIO_V2_LINE_EVENT_RISING_EDGE, 3, 1));  // not the way it waits for
  executor.run_until_stalled();
  EXPECT_EQ(to_level.state(), TaskState::running);
  fake.send(event_bytes(GPIO_V2_LINE_EVENT_FALLING_EDGE, 3, 2));
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(to_level.exit_status().ok());
}

TEST_F(GpioLineTest, WaitingForAnUndetectedEdgeFails) {
  GpioInput falling_only = input({.edges = GpioEdges::falling}, 1);
  GpioInput none = input({.edges = GpioEdges::none}, 2);
  EXPECT_EQ(fake.last_request.config.flags, GPIO_V2_LINE_FLAG_INPUT);
  TaskStorage<512> rising, any, level, nothing;
  start_wait(rising, falling_only, hal::Edge::rising);
  start_wait(any, falling_only, hal::Edge::any);
  start_wait(nothing, none, hal::Edge::falling);
  ASSERT_TRUE(executor.spawn(level, wait_level, std::ref(falling_only), true).ok());
  executor.run_until_stalled();
  EXPECT_EQ(rising.exit_status(), Status::failed_precondition());
  EXPECT_EQ(any.exit_status(), Status::failed_precondition());
  EXPECT_EQ(level.exit_status(), Status::failed_precondition());
  EXPECT_EQ(nothing.exit_status(), Status::failed_precondition());
  // Reading works without edge detection.
  EXPECT_FALSE(none.read().value());
}

TEST_F(GpioLineTest, EventsThatDoNotDecodeAreDataLoss) {
  GpioInput line = input();
  TaskStorage<512> bad_id, torn;
  start_wait(bad_id, line, hal::Edge::any);
  fake.send(event_bytes(7, 3, 1));
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(bad_id.exit_status(), Status::data_loss());
  start_wait(torn, line, hal::Edge::any);
  std::vector<std::byte> half = event_bytes(GPIO_V2_LINE_EVENT_RISING_EDGE, 3, 2);
  half.resize(20);
  fake.send(half);
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(torn.exit_status(), Status::data_loss());
}

TEST_F(GpioLineTest, ALostLineEndsTheWait) {
  GpioInput line = input();
  TaskStorage<512> task;
  start_wait(task, line, hal::Edge::any);
  // The kernel fails the read with ENODEV when the chip goes; the pipe
  // standing in for the line fd can only hang up, which must end the wait too.
  ::close(fake.event_writer);
  fake.event_writer = -1;
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(task.exit_status(), Status::unavailable());
  fake.line_error = ENODEV;
  EXPECT_EQ(line.read().status(), Status::unavailable());
}

TEST_F(GpioLineTest, ACancelledWaitLeavesTheLineUsable) {
  GpioInput line = input();
  TaskStorage<512> first, second;
  start_wait(first, line, hal::Edge::rising);
  first.cancel();
  EXPECT_EQ(first.exit_status(), Status::cancelled());
  fake.send(event_bytes(GPIO_V2_LINE_EVENT_RISING_EDGE, 3, 1));  // nobody waits: discarded later
  start_wait(second, line, hal::Edge::rising);
  EXPECT_EQ(second.state(), TaskState::running);
  fake.send(event_bytes(GPIO_V2_LINE_EVENT_RISING_EDGE, 3, 2));
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(second.exit_status().ok());
}

TEST_F(GpioLineTest, OneWaiterAtATime) {
  GpioInput line = input();
  TaskStorage<512> first, second, third;
  start_wait(first, line, hal::Edge::rising);
  start_wait(second, line, hal::Edge::any);
  EXPECT_EQ(second.exit_status(), Status::failed_precondition());
  EXPECT_EQ(first.state(), TaskState::running);
  first.cancel();  // the line is free again
  start_wait(third, line, hal::Edge::any);
  EXPECT_EQ(third.state(), TaskState::running);
  fake.send(event_bytes(GPIO_V2_LINE_EVENT_FALLING_EDGE, 3, 1));
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(third.exit_status().ok());
}

TEST_F(GpioLineTest, MovedLinesKeepWorking) {
  GpioChip moved_chip = std::move(*chip);
  Result<GpioInput> requested = moved_chip.request_input(driver, 3);
  ASSERT_TRUE(requested.ok());
  GpioInput line = std::move(*requested);
  GpioInput moved_again(std::move(line));
  TaskStorage<512> task;
  start_wait(task, moved_again, hal::Edge::falling);
  fake.send(event_bytes(GPIO_V2_LINE_EVENT_FALLING_EDGE, 3, 1));
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(task.exit_status().ok());
  EXPECT_EQ(line.read().status(), Status::failed_precondition()) << "moved-from";
}

}  // namespace
}  // namespace mote::platform
