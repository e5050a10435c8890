// Builds a classic pcap file in memory: nanosecond timestamps (magic
// 0xa1b23c4d), link type LINKTYPE_RAW (101, the packet starts with its IPv4
// header), snap length 65535. Wireshark and tshark read it as is.
//
// In memory so that runs can be hashed for the determinism check and written
// out by the caller (`mipsec demo --pcap DIR`); the simulator does no I/O.
#ifndef MIPSEC_SIM_PCAP_WRITER_H_
#define MIPSEC_SIM_PCAP_WRITER_H_

#include <cstdint>

#include "common/bytes.h"
#include "common/time.h"

namespace mipsec::sim {

class PcapWriter {
 public:
  static constexpr std::uint32_t kMagicNanos = 0xa1b23c4d;
  static constexpr std::uint32_t kLinkTypeRaw = 101;
  static constexpr std::uint32_t kSnapLen = 65535;

  PcapWriter();
  // Appends one record. Virtual time starts at the Unix epoch in the file;
  // packets longer than the snap length are truncated (orig_len is kept).
  void Add(Timestamp t, ByteSpan packet);
  const Bytes& bytes() const { return buf_; }
  std::uint64_t records() const { return records_; }

 private:
  void U32(std::uint32_t v);  // little-endian, like libpcap on x86
  Bytes buf_;
  std::uint64_t records_ = 0;
};

}  // namespace mipsec::sim

#endif  // MIPSEC_SIM_PCAP_WRITER_H_
