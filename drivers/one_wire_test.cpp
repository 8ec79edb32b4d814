#include "mote/drivers/one_wire.hpp"

#include <algorithm>
#include <array>
#include <gtest/gtest.h>
#include <memory>
#include <vector>

#include "mote/async/executor.hpp"
#include "mote/hal/sim/ds18b20.hpp"
#include "mote/hal/sim/one_wire_bus.hpp"
#include "mote/platform/sim_driver.hpp"

namespace mote::drivers {
namespace {

using async::Task;
using async::TaskStorage;
using hal::OneWireRom;
using hal::sim::SimDs18b20;
using hal::sim::SimOneWireBus;

class OneWireSearchTest : public ::testing::Test {
 protected:
  ~OneWireSearchTest() override {
    for (auto& device : devices) bus.detach(*device);
  }

  void add(std::uint64_t serial) {
    devices.push_back(std::make_unique<SimDs18b20>(serial));
    bus.attach(*devices.back());
  }

  // Runs one_wire_search_all with room for `capacity` codes.
  Result<std::vector<OneWireRom>> search(std::size_t capacity = 8) {
    std::vector<OneWireRom> roms(capacity);
    Result<std::size_t> found = Status::unknown();
    TaskStorage<2048> task;
    auto run = [](SimOneWireBus& bus, std::span<OneWireRom> roms,
                  Result<std::size_t>& found) -> Task<void> {
      found = co_await one_wire_search_all(bus, roms);
    };
    EXPECT_TRUE(
        executor.spawn(task, run, std::ref(bus), std::span<OneWireRom>(roms), std::ref(found))
            .ok());
    EXPECT_TRUE(executor.run().ok());
    if (!found.ok()) return found.status();
    roms.resize(*found);
    return roms;
  }

  std::vector<OneWireRom> expected_sorted() const {
    std::vector<OneWireRom> roms;
    for (const auto& device : devices) roms.push_back(device->rom());
    // The search walks the tree with 0 before 1 from the first bit on the
    // wire: increasing order of the bit-reversed code.
    std::sort(roms.begin(), roms.end(), [](OneWireRom a, OneWireRom b) {
      for (int bit = 0; bit < 64; ++bit) {
        if (a.bit(bit) != b.bit(bit)) return !a.bit(bit);
      }
      return false;
    });
    return roms;
  }

  platform::SimDriver driver;
  async::Executor executor{driver};
  SimOneWireBus bus{driver};
  std::vector<std::unique_ptr<SimDs18b20>> devices;
};

TEST_F(OneWireSearchTest, EmptyBusFindsNothing) {
  auto found = search();
  ASSERT_TRUE(found.ok()) << found.status().str();
  EXPECT_TRUE(found->empty());
}

TEST_F(OneWireSearchTest, FindsOneDevice) {
  add(0x0000'0000'1234ull);
  auto found = search();
  ASSERT_TRUE(found.ok()) << found.status().str();
  EXPECT_EQ(*found, expected_sorted());
}

TEST_F(OneWireSearchTest, FindsTwoDevicesDifferingOnlyInTheirLastSerialBit) {
  // Same family, serials differ in bit 47: the ROMs share 55 bits on the
  // wire before the discrepancy (and then differ in the CRC too).
  add(0x0000'0000'0001ull);
  add(0x8000'0000'0001ull);
  auto found = search();
  ASSERT_TRUE(found.ok()) << found.status().str();
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ(*found, expected_sorted());
}

TEST_F(OneWireSearchTest, FindsFiveDevicesWithSharedPrefixes) {
  // Adversarial: long common prefixes, discrepancies at the first serial bit,
  // deep in the middle and at the very last serial bit, and all-ones/zeros.
  add(0x0000'0000'0000ull);
  add(0x0000'0000'0001ull);
  add(0x8000'0000'0000ull);
  add(0x8000'0000'0001ull);
  add(0xFFFF'FFFF'FFFFull);
  auto found = search();
  ASSERT_TRUE(found.ok()) << found.status().str();
  ASSERT_EQ(found->size(), 5u);
  EXPECT_EQ(*found, expected_sorted());
  for (OneWireRom rom : *found) EXPECT_TRUE(rom.valid());
}

TEST_F(OneWireSearchTest, SearchesAgainAfterFinishingWithTheSameResult) {
  add(0x0000'0000'0042ull);
  add(0x0000'0000'0043ull);
  add(0x0000'0100'0042ull);
  auto first = search();
  auto second = search();
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_EQ(*first, *second);
  EXPECT_EQ(first->size(), 3u);
}

TEST_F(OneWireSearchTest, MoreDevicesThanRoomIsResourceExhausted) {
  add(1);
  add(2);
  add(3);
  auto found = search(2);
  EXPECT_EQ(found.status().code(), StatusCode::resource_exhausted);
}

TEST_F(OneWireSearchTest, RomWithBadCrcIsDataLoss) {
  const OneWireRom good = OneWireRom::from_serial(0x28, 0x1234);
  devices.push_back(std::make_unique<SimDs18b20>(OneWireRom(good.value() ^ (1ull << 63))));
  bus.attach(*devices.back());
  EXPECT_EQ(search().status().code(), StatusCode::data_loss);
}

TEST_F(OneWireSearchTest, ShortedBusIsUnavailable) {
  add(1);
  bus.set_shorted(true);
  EXPECT_EQ(search().status().code(), StatusCode::unavailable);
}

TEST_F(OneWireSearchTest, SilentDeviceIsNotFound) {
  add(1);
  add(2);
  devices[0]->set_responding(false);
  auto found = search();
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ((*found)[0], devices[1]->rom());
}

Task<void> select_device(SimOneWireBus& bus, std::optional<OneWireRom> rom, Status& status) {
  status = co_await one_wire_select(bus, rom);
}

TEST_F(OneWireSearchTest, SelectMatchesOneOrSkipsToAll) {
  add(1);
  add(2);
  Status status = Status::unknown();
  TaskStorage<1024> task;
  ASSERT_TRUE(executor
                  .spawn(task, select_device, std::ref(bus),
                         std::optional<OneWireRom>(devices[1]->rom()), std::ref(status))
                  .ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(status.ok());
  EXPECT_FALSE(devices[0]->selected());
  EXPECT_TRUE(devices[1]->selected());

  ASSERT_TRUE(
      executor
          .spawn(task, select_device, std::ref(bus), std::optional<OneWireRom>(), std::ref(status))
          .ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_TRUE(status.ok());
  EXPECT_TRUE(devices[0]->selected() && devices[1]->selected());
}

TEST_F(OneWireSearchTest, SelectOnAnEmptyBusIsNotFound) {
  Status status;
  TaskStorage<1024> task;
  ASSERT_TRUE(
      executor
          .spawn(task, select_device, std::ref(bus), std::optional<OneWireRom>(), std::ref(status))
          .ok());
  EXPECT_TRUE(executor.run().ok());
  EXPECT_EQ(status.code(), StatusCode::not_found);
}

}  // namespace
}  // namespace mote::drivers
