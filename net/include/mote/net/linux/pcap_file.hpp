#pragma once
// PcapFile: a PcapSink writing to a file (host). Each record is flushed as
// it is written, so a capture is readable while the program runs and
// complete if it crashes.

#include <cstdio>
#include <string>

#include "mote/base/bytes.hpp"
#include "mote/base/result.hpp"
#include "mote/net/phy/pcap_writer.hpp"

namespace mote::net {

class PcapFile {
 public:
  PcapFile() = default;
  PcapFile(PcapFile&& other) noexcept : file_(other.file_) { other.file_ = nullptr; }
  PcapFile& operator=(PcapFile&& other) noexcept;
  PcapFile(const PcapFile&) = delete;
  PcapFile& operator=(const PcapFile&) = delete;
  ~PcapFile() { close(); }

  // Creates (or truncates) `path`. Errors: the errno of fopen as a Status.
  static Result<PcapFile> create(const std::string& path);
  void write(ConstByteSpan bytes);
  void close();

 private:
  std::FILE* file_ = nullptr;
};

static_assert(PcapSink<PcapFile>);

}  // namespace mote::net
