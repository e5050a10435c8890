// Test-only: tshark's PDML output reduced to what the mip4 oracle tests
// compare (field name, displayed value, raw hex), and pcap writing.
#ifndef MIPSEC_MIP4_CODEC_PDML_TEST_UTIL_H_
#define MIPSEC_MIP4_CODEC_PDML_TEST_UTIL_H_

#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"

namespace mipsec::mip4::testing {

struct PdmlField {
  std::string name;
  std::string show;   // the displayed value ("1800", "10.0.0.1", "0x22")
  std::string value;  // raw bytes in hex, when tshark gives them
};

struct PdmlPacket {
  int number = 0;  // frame number, from 1
  std::vector<PdmlField> fields;  // in document order

  // Every `show` of fields named `name`, in order.
  std::vector<std::string> All(const std::string& name) const;
  // The first `show` of `name`, or "" when absent.
  std::string First(const std::string& name) const;
  // The first raw hex value of `name`, or "".
  std::string FirstValue(const std::string& name) const;
  bool Has(const std::string& name) const { return !All(name).empty(); }
};

// Runs `tshark -r pcap -T pdml [-Y filter]` and parses the result.
Result<std::vector<PdmlPacket>> TsharkPdml(const std::string& pcap, const std::string& filter);

// A pcap (LINKTYPE_RAW: each record one IPv4 datagram) in a fresh temp
// file; returns its path.
Result<std::string> WriteRawIpPcap(const std::vector<Bytes>& datagrams);

}  // namespace mipsec::mip4::testing


namespace mipsec::mip4::testing {

// GoogleTest expectations: our decoding of `mip` (a UDP port 434 payload:
// Registration Request, Reply or Tunnel Data) shows the same values as
// tshark's mip.* fields in `pkt` (type, flags, code, lifetime, addresses,
// identification, extension types, NAI, SPIs, UDP tunnel fields).
// `context` names the packet in failure messages.
void ExpectMipMatchesTshark(const PdmlPacket& pkt, ByteSpan mip, const std::string& context);
// The same for an ICMP Agent Advertisement (icmp.* and icmp.mip.* fields).
void ExpectAdvertisementMatchesTshark(const PdmlPacket& pkt, ByteSpan icmp,
                                      const std::string& context);

}  // namespace mipsec::mip4::testing

#endif  // MIPSEC_MIP4_CODEC_PDML_TEST_UTIL_H_
