// Checks a segment's capture for user data in clear: the invariant of RFC
// 5266 / RFC 5265 4.1 (R24) that, on an untrusted network, nothing to or
// from the mobile node's home address travels unencrypted.
//
// Input: the bytes of one pcap (what Segment::pcap().bytes() gives:
// PcapWriter's LINKTYPE_RAW with nanosecond timestamps; microsecond files,
// either byte order, LINKTYPE_IPV4 and Ethernet are read too) and the
// protected addresses (the MN's home address).
//
// Allowed, whatever the addresses (they carry no user data in clear):
//   IKE             UDP 500, and UDP 4500 starting with the non-ESP marker
//   ESP             IP protocol 50, and UDP 4500 without the marker
//                   (RFC 3948 2.1); the NAT keepalive 0xFF (RFC 3948 2.3)
//   Mobile IP       UDP 434 Registration Request / Reply (types 1 and 3):
//                   the RFC 5266 3.4 direct probe
//   DHCP            UDP 67 / 68
//   ICMP            Router Solicitation / Advertisement (types 10 / 9: agent
//                   discovery, RFC 5944 2)
//   ARP             (Ethernet captures only)
// Reported (one violation per packet):
//   - any other packet whose outer source or destination is protected;
//   - IP-in-IP (protocol 4) and RFC 3519 Tunnel Data (UDP 434, type 4)
//     whose inner source or destination is protected;
//   - ICMP errors quoting a packet to or from a protected address (they
//     carry its header and first 8 bytes);
//   - a record that is not a parseable IPv4 packet (nothing can be proven
//     about it).
// Everything is bounds-checked: a truncated or malformed file is an Error
// (kTruncated / kMalformed) naming the record and offset, never a crash.
#ifndef MIPSEC_SIM_PCAP_INVARIANTS_H_
#define MIPSEC_SIM_PCAP_INVARIANTS_H_

#include <cstddef>
#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"
#include "common/time.h"

namespace mipsec::sim {

struct PcapViolation {
  std::size_t index = 0;     // record number in the file, from 0
  Timestamp time;            // the record's timestamp (virtual time for our pcaps)
  std::string description;   // e.g. "udp 10.1.0.10:7000 -> 10.0.0.100:9000 in clear"
  std::string ToString() const;  // "#12 at 3.250000000 s: <description>"
};

// The violations in `pcap`, in file order (empty: the invariant holds).
Result<std::vector<PcapViolation>> FindCleartextViolations(
    ByteSpan pcap, const std::vector<Ipv4Address>& protected_addresses);

}  // namespace mipsec::sim

#endif  // MIPSEC_SIM_PCAP_INVARIANTS_H_
