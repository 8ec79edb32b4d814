#include "mote/firmware/lan9118.hpp"

#include <cstring>

#include "mote/firmware/cortex_m.hpp"

namespace mote::firmware {
namespace {

// SMSC LAN9118 datasheet, "System Control and Status Registers": offsets
// from the chip's base. The FIFO ports are windows: any word address in
// 0x00..0x1C reads the RX data FIFO, 0x20..0x3C writes the TX data FIFO.
constexpr std::uintptr_t kRxDataFifo = 0x00;
constexpr std::uintptr_t kTxDataFifo = 0x20;
constexpr std::uintptr_t kRxStatusFifo = 0x40;
constexpr std::uintptr_t kTxStatusFifo = 0x48;
constexpr std::uintptr_t kIdRev = 0x50;
constexpr std::uintptr_t kIrqCfg = 0x54;
constexpr std::uintptr_t kIntSts = 0x58;
constexpr std::uintptr_t kIntEn = 0x5C;
constexpr std::uintptr_t kByteTest = 0x64;
constexpr std::uintptr_t kFifoInt = 0x68;
constexpr std::uintptr_t kRxCfg = 0x6C;
constexpr std::uintptr_t kTxCfg = 0x70;
constexpr std::uintptr_t kHwCfg = 0x74;
constexpr std::uintptr_t kRxFifoInf = 0x7C;
constexpr std::uintptr_t kTxFifoInf = 0x80;
constexpr std::uintptr_t kPmtCtrl = 0x84;
constexpr std::uintptr_t kMacCsrCmd = 0xA4;
constexpr std::uintptr_t kMacCsrData = 0xA8;

constexpr std::uint32_t kByteTestValue = 0x87654321U;

// IRQ_CFG: the IRQ pin enabled, active high, push-pull (QEMU's model drives
// its line high only with both POL and TYPE set).
constexpr std::uint32_t kIrqEnable = 1U << 8;
constexpr std::uint32_t kIrqPolarityHigh = 1U << 4;
constexpr std::uint32_t kIrqPushPull = 1U << 0;

// INT_STS / INT_EN bits.
constexpr std::uint32_t kIntRxStatusLevel = 1U << 3;  // RSFL
constexpr std::uint32_t kIntTxError = 1U << 13;       // TXE
constexpr std::uint32_t kIntRxError = 1U << 14;       // RXE

// FIFO_INT: TX data available level (bits 31:24, the reset value 0x48) and
// the RX status level 0 (bits 7:0): the interrupt fires for the first status.
constexpr std::uint32_t kFifoIntLevels = 0x48U << 24;

// TX_CFG: transmitter on; a full TX status FIFO does not stop transmission
// (the driver reads it after each frame anyway).
constexpr std::uint32_t kTxCfgTxOn = 1U << 1;
constexpr std::uint32_t kTxCfgStatusOverrun = 1U << 2;
constexpr std::uint32_t kTxCfgDumpStatus = 1U << 15;
constexpr std::uint32_t kTxCfgDumpData = 1U << 14;
// RX_CFG: RX_DUMP empties the RX FIFOs; 0 otherwise (no offset, 4-byte end
// alignment).
constexpr std::uint32_t kRxCfgDump = 1U << 15;

// HW_CFG: soft reset (self-clearing), TX FIFO size 5 KiB (the reset value;
// the RX FIFO gets the rest), bit 20 must be written as one.
constexpr std::uint32_t kHwCfgSoftReset = 1U << 0;
constexpr std::uint32_t kHwCfgTxFifo5k = 5U << 16;
constexpr std::uint32_t kHwCfgMustBeOne = 1U << 20;
constexpr std::uint32_t kPmtCtrlReady = 1U << 0;

// MAC_CSR_CMD: busy, read (vs write), the MAC register's index.
constexpr std::uint32_t kMacCsrBusy = 1U << 31;
constexpr std::uint32_t kMacCsrRead = 1U << 30;

// MAC control and status registers (indexes for MAC_CSR_CMD).
constexpr std::uint32_t kMacCr = 1;
constexpr std::uint32_t kMacAddrH = 2;
constexpr std::uint32_t kMacAddrL = 3;
constexpr std::uint32_t kMacMiiAcc = 6;
constexpr std::uint32_t kMacMiiData = 7;

// MAC_CR bits.
constexpr std::uint32_t kMacCrRxEnable = 1U << 2;
constexpr std::uint32_t kMacCrTxEnable = 1U << 3;
constexpr std::uint32_t kMacCrPromiscuous = 1U << 18;
constexpr std::uint32_t kMacCrPassAllMulticast = 1U << 19;
constexpr std::uint32_t kMacCrFullDuplex = 1U << 20;

// MII_ACC: PHY address (15:11; the internal PHY is 1), register (10:6),
// write (1), busy (0).
constexpr std::uint32_t kPhyAddress = 1;
constexpr std::uint32_t kMiiWrite = 1U << 1;
constexpr std::uint32_t kMiiBusy = 1U << 0;

// IEEE 802.3 clause 22 PHY registers.
constexpr std::uint32_t kPhyBmcr = 0;
constexpr std::uint32_t kPhyBmsr = 1;
constexpr std::uint32_t kPhyAdvertise = 4;
constexpr std::uint32_t kBmcrReset = 1U << 15;
constexpr std::uint32_t kBmcrAutoNegotiate = 1U << 12;
constexpr std::uint32_t kBmcrRestartAutoNegotiation = 1U << 9;
constexpr std::uint32_t kBmsrLinkUp = 1U << 2;
// 100BASE-TX and 10BASE-T, full and half duplex, IEEE 802.3 selector.
constexpr std::uint32_t kAdvertiseAll = 0x01E1;

// RX status word: frame length with the CRC (29:16), error summary (15).
constexpr std::uint32_t kRxStatusError = 1U << 15;
constexpr std::uint32_t kRxStatusLengthShift = 16;
constexpr std::uint32_t kRxStatusLengthMask = 0x3FFF;
// TX status word: error summary (15).
constexpr std::uint32_t kTxStatusError = 1U << 15;

// TX command A: interrupt on completion (31), first segment (13), last
// segment (12), buffer size (10:0). Command B: tag (31:16), frame length (10:0).
constexpr std::uint32_t kTxCmdAFirst = 1U << 13;
constexpr std::uint32_t kTxCmdALast = 1U << 12;

constexpr std::size_t kCrcLen = 4;
constexpr std::size_t kEthernetHeaderLen = 14;

// Register accesses that poll a busy bit give up after this many reads: far
// longer than any operation takes on the chip (microseconds), short enough
// that a missing chip is reported instead of hanging.
constexpr int kBusyPolls = 100'000;

volatile std::uint32_t& reg(std::uintptr_t offset) {
  return *reinterpret_cast<volatile std::uint32_t*>(Lan9118::kBase +
                                                    offset);  // NOLINT(performance-no-int-to-ptr)
}

bool mac_csr_idle() {
  for (int i = 0; i < kBusyPolls; ++i) {
    if ((reg(kMacCsrCmd) & kMacCsrBusy) == 0) return true;
  }
  return false;
}

Result<std::uint32_t> mac_read(std::uint32_t index) {
  if (!mac_csr_idle()) return Status::deadline_exceeded();
  reg(kMacCsrCmd) = kMacCsrBusy | kMacCsrRead | index;
  if (!mac_csr_idle()) return Status::deadline_exceeded();
  return static_cast<std::uint32_t>(reg(kMacCsrData));
}

Status mac_write(std::uint32_t index, std::uint32_t value) {
  if (!mac_csr_idle()) return Status::deadline_exceeded();
  reg(kMacCsrData) = value;
  reg(kMacCsrCmd) = kMacCsrBusy | index;
  if (!mac_csr_idle()) return Status::deadline_exceeded();
  return ok_status();
}

Status mii_idle() {
  for (int i = 0; i < kBusyPolls; ++i) {
    Result<std::uint32_t> access = mac_read(kMacMiiAcc);
    if (!access.ok()) return access.status();
    if ((*access & kMiiBusy) == 0) return ok_status();
  }
  return Status::deadline_exceeded();
}

Result<std::uint32_t> phy_read(std::uint32_t index) {
  MOTE_TRY(mii_idle());
  MOTE_TRY(mac_write(kMacMiiAcc, (kPhyAddress << 11) | (index << 6) | kMiiBusy));
  MOTE_TRY(mii_idle());
  MOTE_TRY_ASSIGN(const std::uint32_t data, mac_read(kMacMiiData));
  return data & 0xFFFFU;
}

Status phy_write(std::uint32_t index, std::uint32_t value) {
  MOTE_TRY(mii_idle());
  MOTE_TRY(mac_write(kMacMiiData, value & 0xFFFFU));
  MOTE_TRY(mac_write(kMacMiiAcc, (kPhyAddress << 11) | (index << 6) | kMiiWrite | kMiiBusy));
  return mii_idle();
}

// The LAN9118 family's ID_REV high halves: LAN9115..LAN9118, their
// LAN9215..LAN9218 successors and the LAN9210/9211/9220/9221 (the MPS2
// board carries a LAN9220; QEMU models a LAN9118).
bool known_chip(std::uint32_t id_rev) {
  const std::uint32_t id = id_rev >> 16;
  return (id >= 0x0115 && id <= 0x0118) || (id >= 0x0215 && id <= 0x0218) || id == 0x9210 ||
         id == 0x9211 || id == 0x9220 || id == 0x9221;
}

// Reads `words` words from the RX data FIFO and keeps the first `keep`
// bytes in `out` (the frame; the rest is the CRC and the end padding).
void read_rx_words(std::byte* out, std::size_t words, std::size_t keep) {
  for (std::size_t i = 0; i < words; ++i) {
    const std::uint32_t word = reg(kRxDataFifo);
    const std::size_t at = i * 4;
    if (at >= keep) continue;  // CRC and padding: read to discard
    // The FIFO is little-endian: the first byte on the wire is bits 7:0.
    const std::size_t n = keep - at < 4 ? keep - at : 4;
    for (std::size_t b = 0; b < n; ++b) out[at + b] = static_cast<std::byte>(word >> (8 * b));
  }
}

}  // namespace

Lan9118* Lan9118::instance_ = nullptr;

Lan9118::~Lan9118() { close(); }

Status Lan9118::open(const Lan9118Config& config) {
  if (open_ || instance_ != nullptr) return Status::failed_precondition();
  // BYTE_TEST reads a fixed pattern whatever the state of the chip: the
  // datasheet's test that the bus works and the byte order is right.
  if (reg(kByteTest) != kByteTestValue) return Status::not_found();
  chip_id_ = reg(kIdRev);
  if (!known_chip(chip_id_)) return Status::not_found();

  // Soft reset: every register to its default, the FIFOs emptied. The
  // chip clears SRST when done and sets PMT_CTRL.READY once it may be used.
  reg(kHwCfg) = kHwCfgSoftReset;
  bool ready = false;
  for (int i = 0; i < kBusyPolls && !ready; ++i) {
    ready = (reg(kHwCfg) & kHwCfgSoftReset) == 0 && (reg(kPmtCtrl) & kPmtCtrlReady) != 0;
  }
  if (!ready) return Status::deadline_exceeded();
  reg(kHwCfg) = kHwCfgTxFifo5k | kHwCfgMustBeOne;

  // The station address: ADDRL holds octets 0..3, ADDRH octets 4..5, the
  // first octet in the low byte.
  if (config.mac_address) {
    const auto& o = config.mac_address->octets();
    MOTE_TRY(mac_write(kMacAddrL, static_cast<std::uint32_t>(o[0]) |
                                      (static_cast<std::uint32_t>(o[1]) << 8) |
                                      (static_cast<std::uint32_t>(o[2]) << 16) |
                                      (static_cast<std::uint32_t>(o[3]) << 24)));
    MOTE_TRY(mac_write(kMacAddrH,
                       static_cast<std::uint32_t>(o[4]) | (static_cast<std::uint32_t>(o[5]) << 8)));
  }
  MOTE_TRY_ASSIGN(const std::uint32_t low, mac_read(kMacAddrL));
  MOTE_TRY_ASSIGN(const std::uint32_t high, mac_read(kMacAddrH));
  mac_ = net::wire::MacAddress(
      static_cast<std::uint8_t>(low), static_cast<std::uint8_t>(low >> 8),
      static_cast<std::uint8_t>(low >> 16), static_cast<std::uint8_t>(low >> 24),
      static_cast<std::uint8_t>(high), static_cast<std::uint8_t>(high >> 8));
  if (config.mac_address && mac_ != *config.mac_address) return Status::data_loss();

  // The PHY: reset (the bit clears itself when done), advertise every
  // mode, auto-negotiate. The link comes up on its own; link_up() says when.
  MOTE_TRY(phy_write(kPhyBmcr, kBmcrReset));
  bool phy_ready = false;
  for (int i = 0; i < kBusyPolls && !phy_ready; ++i) {
    MOTE_TRY_ASSIGN(const std::uint32_t bmcr, phy_read(kPhyBmcr));
    phy_ready = (bmcr & kBmcrReset) == 0;
  }
  if (!phy_ready) return Status::deadline_exceeded();
  MOTE_TRY(phy_write(kPhyAdvertise, kAdvertiseAll));
  MOTE_TRY(phy_write(kPhyBmcr, kBmcrAutoNegotiate | kBmcrRestartAutoNegotiation));

  // FIFOs empty, transmitter and receiver on.
  reg(kRxCfg) = kRxCfgDump;
  reg(kRxCfg) = 0;
  reg(kTxCfg) = kTxCfgDumpStatus | kTxCfgDumpData;
  reg(kTxCfg) = kTxCfgTxOn | kTxCfgStatusOverrun;
  std::uint32_t mac_cr = kMacCrRxEnable | kMacCrTxEnable | kMacCrFullDuplex;
  if (config.promiscuous) mac_cr |= kMacCrPromiscuous;
  if (config.all_multicast) mac_cr |= kMacCrPassAllMulticast;
  MOTE_TRY(mac_write(kMacCr, mac_cr));

  // The interrupt: a received frame's status (and the FIFO error bits, to
  // count them).
  counters_ = {};
  instance_ = this;
  open_ = true;
  reg(kFifoInt) = kFifoIntLevels;
  reg(kIntEn) = 0;
  reg(kIntSts) = 0xFFFFFFFFU;  // write 1 to clear
  reg(kIrqCfg) = kIrqEnable | kIrqPolarityHigh | kIrqPushPull;
  reg(kIntEn) = kIntRxStatusLevel | kIntRxError | kIntTxError;
  cortex_m::nvic::clear_pending(kIrq);
  cortex_m::nvic::enable(kIrq);
  // Frames that came in before the interrupt was on are found by the first
  // receive(): the stack polls the device once before it first waits.
  return ok_status();
}

void Lan9118::close() {
  if (!open_) return;
  cortex_m::nvic::disable(kIrq);
  reg(kIntEn) = 0;
  reg(kIrqCfg) = 0;
  static_cast<void>(mac_write(kMacCr, 0));
  reg(kTxCfg) = 0;
  open_ = false;
  instance_ = nullptr;
}

bool Lan9118::link_up() const {
  if (!open_) return false;
  Result<std::uint32_t> bmsr = phy_read(kPhyBmsr);
  return bmsr.ok() && (*bmsr & kBmsrLinkUp) != 0;
}

Result<std::size_t> Lan9118::receive(net::Instant /*now*/, ByteSpan buffer) {
  if (!open_) return Status::failed_precondition();
  for (;;) {
    // RX_FIFO_INF: RX status FIFO words used (23:16).
    if (((reg(kRxFifoInf) >> 16) & 0xFFU) == 0) return Status::unavailable();
    const std::uint32_t status = reg(kRxStatusFifo);
    const std::size_t length = (status >> kRxStatusLengthShift) & kRxStatusLengthMask;
    const std::size_t words = (length + 3) / 4;
    // Errors (CRC, runt, too long, collision): read the frame out and drop
    // it. So is anything too short to hold an Ethernet header and CRC.
    if ((status & kRxStatusError) != 0 || length < kEthernetHeaderLen + kCrcLen) {
      read_rx_words(nullptr, words, 0);
      ++counters_.rx_errors;
      continue;
    }
    const std::size_t frame_len = length - kCrcLen;
    if (frame_len > buffer.size()) {
      read_rx_words(nullptr, words, 0);
      ++counters_.rx_too_long;
      return Status::resource_exhausted();
    }
    read_rx_words(buffer.data(), words, frame_len);
    ++counters_.rx_frames;
    return frame_len;
  }
}

bool Lan9118::can_transmit() const {
  if (!open_) return false;
  // TX_FIFO_INF: free bytes in the TX data FIFO (15:0). Room for the two
  // command words and the largest frame.
  const std::size_t free_bytes = reg(kTxFifoInf) & 0xFFFFU;
  return free_bytes >= 8 + capabilities().max_frame_len() + 3;
}

Status Lan9118::transmit(net::Instant /*now*/, ConstByteSpan frame) {
  if (!open_) return Status::failed_precondition();
  if (frame.size() < kEthernetHeaderLen || frame.size() > capabilities().max_frame_len()) {
    return Status::invalid_argument();
  }
  if (!can_transmit()) return Status::unavailable();
  drain_tx_status();
  const auto size = static_cast<std::uint32_t>(frame.size());
  const std::uint32_t tag = ++tx_tag_;
  reg(kTxDataFifo) = kTxCmdAFirst | kTxCmdALast | size;
  reg(kTxDataFifo) = (tag << 16) | size;
  // Short frames are padded to 64 bytes by the MAC (command B's padding
  // disable bit is clear), and the CRC is appended.
  const std::byte* data = frame.data();
  std::size_t at = 0;
  for (; at + 4 <= frame.size(); at += 4) {
    std::uint32_t word = 0;
    std::memcpy(&word, data + at, 4);  // little-endian, as the FIFO wants
    reg(kTxDataFifo) = word;
  }
  if (at < frame.size()) {
    std::uint32_t word = 0;
    for (std::size_t b = 0; at + b < frame.size(); ++b) {
      word |= static_cast<std::uint32_t>(std::to_integer<std::uint8_t>(data[at + b])) << (8 * b);
    }
    reg(kTxDataFifo) = word;
  }
  ++counters_.tx_frames;
  return ok_status();
}

// The TX status of frames sent so far (one word each): errors are counted;
// with TXSAO set an unread status never stops the transmitter.
void Lan9118::drain_tx_status() {
  while (((reg(kTxFifoInf) >> 16) & 0xFFU) != 0) {
    if ((reg(kTxStatusFifo) & kTxStatusError) != 0) ++counters_.tx_errors;
  }
}

void Lan9118::on_interrupt() {
  // Clear what fired (write 1 to clear); RSFL comes again with the next
  // frame's status, so a frame arriving after this point interrupts again.
  const std::uint32_t fired = reg(kIntSts) & reg(kIntEn);
  reg(kIntSts) = fired;
  ++counters_.interrupts;
  if ((fired & (kIntRxError | kIntTxError)) != 0) ++counters_.fifo_errors;
  rx_event_.raise();
}

}  // namespace mote::firmware

extern "C" void ETHERNET_IRQHandler() {
  mote::firmware::Lan9118* nic = mote::firmware::Lan9118::instance_;
  if (nic != nullptr) {
    nic->on_interrupt();
  } else {
    // Not ours to handle: silence the line so it does not fire forever.
    mote::firmware::cortex_m::nvic::disable(mote::firmware::Lan9118::kIrq);
  }
}
