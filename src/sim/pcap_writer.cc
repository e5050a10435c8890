#include "sim/pcap_writer.h"

#include <algorithm>

namespace mipsec::sim {

PcapWriter::PcapWriter() {
  // Global header: magic, version 2.4, thiszone, sigfigs, snaplen, linktype.
  U32(kMagicNanos);
  buf_.push_back(2);
  buf_.push_back(0);
  buf_.push_back(4);
  buf_.push_back(0);
  U32(0);
  U32(0);
  U32(kSnapLen);
  U32(kLinkTypeRaw);
}

void PcapWriter::U32(std::uint32_t v) {
  for (int i = 0; i < 4; ++i) buf_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void PcapWriter::Add(Timestamp t, ByteSpan packet) {
  std::int64_t ns = t.nanos() < 0 ? 0 : t.nanos();
  std::uint32_t incl = static_cast<std::uint32_t>(std::min<std::size_t>(packet.size(), kSnapLen));
  U32(static_cast<std::uint32_t>(ns / 1'000'000'000));
  U32(static_cast<std::uint32_t>(ns % 1'000'000'000));
  U32(incl);
  U32(static_cast<std::uint32_t>(packet.size()));
  buf_.insert(buf_.end(), packet.begin(), packet.begin() + incl);
  ++records_;
}

}  // namespace mipsec::sim
