#include "testing/fakes/fake_tun.h"

#include <algorithm>
#include <cstring>

#include "common/bug.h"

namespace mipsec::testing {

Result<std::size_t> FakeTun::ReadBatch(std::span<platform::PacketBuf> bufs, std::size_t offset) {
  std::size_t n = 0;
  for (platform::PacketBuf& b : bufs) {
    if (inbox_.empty()) break;
    if (MIPSEC_BUG_IF(b.buffer.size() <= offset, "TUN read buffer has no room after offset")) break;
    const Bytes& p = inbox_.front();
    std::size_t len = std::min(p.size(), b.buffer.size() - offset);
    std::memcpy(b.buffer.data() + offset, p.data(), len);
    b.length = len;
    inbox_.pop_front();
    ++n;
  }
  ready_.Set(!inbox_.empty());
  return n;
}

Result<std::size_t> FakeTun::WriteBatch(std::span<const platform::PacketBuf> bufs,
                                        std::size_t offset) {
  std::size_t n = 0;
  for (const platform::PacketBuf& b : bufs) {
    if (MIPSEC_BUG_IF(offset + b.length > b.buffer.size(), "TUN write past the buffer")) break;
    ByteSpan p = b.Packet(offset);
    int version = p.empty() ? 0 : p[0] >> 4;
    if (version != 4 && version != 6) {
      if (n > 0) break;
      return Error(Errc::kSystem, "write " + name_ + " (" + std::to_string(p.size()) +
                                      " bytes): Invalid argument");
    }
    written_.emplace_back(p.begin(), p.end());
    ++n;
  }
  return n;
}

bool FakeTun::InjectPacket(ByteSpan packet) {
  if (inbox_.size() >= queue_limit_) {
    ++dropped_;
    return false;
  }
  inbox_.emplace_back(packet.begin(), packet.end());
  ready_.Set(true);
  return true;
}

std::optional<Bytes> FakeTun::PopWritten() {
  if (written_.empty()) return std::nullopt;
  Bytes p = std::move(written_.front());
  written_.pop_front();
  return p;
}

}  // namespace mipsec::testing
