#include "mote/net/linux/pcap_file.hpp"

#include <cerrno>

#include "mote/platform/kernel_sockets.hpp"

namespace mote::net {

PcapFile& PcapFile::operator=(PcapFile&& other) noexcept {
  if (this != &other) {
    close();
    file_ = other.file_;
    other.file_ = nullptr;
  }
  return *this;
}

Result<PcapFile> PcapFile::create(const std::string& path) {
  PcapFile file;
  file.file_ = std::fopen(path.c_str(), "wb");
  if (file.file_ == nullptr) {
    return errno == ENOENT ? Status::not_found() : platform::status_from_socket_errno(errno);
  }
  return file;
}

void PcapFile::write(ConstByteSpan bytes) {
  if (file_ == nullptr) return;
  std::fwrite(bytes.data(), 1, bytes.size(), file_);
  std::fflush(file_);
}

void PcapFile::close() {
  if (file_ != nullptr) std::fclose(file_);
  file_ = nullptr;
}

}  // namespace mote::net
