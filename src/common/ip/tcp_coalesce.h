// TCP segment coalescing for a TUN device with IFF_VNET_HDR (receive-side
// "GRO" done in userspace, as the kernel does on a NIC): consecutive IPv4
// TCP segments of one flow, as an ESP tunnel decrypts them from a bulk
// transfer, are written to the TUN as one packet carrying a virtio_net_hdr
// with gso_type TCPV4, so the host stack forwards or receives ~40 segments
// for the cost of one. The kernel cuts the packet again where it must
// (forwarding to a link with a smaller MTU: GSO).
//
// What may be merged follows Linux's tcp_gro_receive, strictly:
//   - IPv4 without options, DF set, not a fragment, protocol TCP; same
//     source, destination, TOS and TTL;
//   - TCP with the same ports, header length and option bytes (timestamps
//     included), ACK number and window; flags ACK, or ACK|PSH on the last
//     segment only; no SYN/FIN/RST/URG/ECE/CWR;
//   - a payload (non-empty) that continues the previous one's sequence
//     space; every payload the first one's size except a shorter last one;
//   - each segment's TCP checksum correct (a bad one is not laundered by
//     the merge: it is written alone and the host drops it);
//   - at most 65535 bytes of IPv4 total length.
// Everything here is bounds-checked; malformed packets simply never merge.
#ifndef MIPSEC_COMMON_IP_TCP_COALESCE_H_
#define MIPSEC_COMMON_IP_TCP_COALESCE_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/bytes.h"

namespace mipsec::ip {

// struct virtio_net_hdr (linux/virtio_net.h), the 10 bytes before every
// packet read from or written to a TUN opened with IFF_VNET_HDR. Fields in
// host byte order (a TUN's default on little-endian hosts).
struct VirtioNetHdr {
  static constexpr std::uint8_t kNeedsCsum = 1;  // VIRTIO_NET_HDR_F_NEEDS_CSUM
  static constexpr std::uint8_t kGsoNone = 0;
  static constexpr std::uint8_t kGsoTcpV4 = 1;
  static constexpr std::size_t kSize = 10;

  std::uint8_t flags = 0;
  std::uint8_t gso_type = kGsoNone;
  std::uint16_t hdr_len = 0;      // IP + TCP header bytes
  std::uint16_t gso_size = 0;     // payload bytes per segment
  std::uint16_t csum_start = 0;   // where the TCP checksum coverage starts
  std::uint16_t csum_offset = 0;  // of the checksum field, from csum_start

  std::array<std::uint8_t, kSize> Encode() const;
};

// Whether `packet` may lead or join a merge at all (the per-segment rules
// above, checksum included); its header lengths and payload size.
struct TcpSegmentView {
  std::size_t header_length = 0;  // IP + TCP
  std::size_t payload_length = 0;
};
bool ViewCoalescibleSegment(ByteSpan packet, TcpSegmentView& view);

// How many of packets[first..] form one run starting at packets[first]
// (1 when it merges with nothing, 0 when first is out of range).
std::size_t CoalescibleRun(std::span<const ByteSpan> packets, std::size_t first);

// Makes packets[0] the head of a merged packet of `run` (count >= 2,
// from CoalescibleRun) in place: IPv4 total length and header checksum,
// PSH when the last segment had it, the TCP checksum field set to the
// pseudo-header sum the kernel completes (NEEDS_CSUM). The merged packet
// is `head` followed by the payloads of run[1..] (each run[i] minus
// header_length bytes). Returns its virtio_net_hdr.
VirtioNetHdr MergeTcpRun(MutableByteSpan head, std::span<const ByteSpan> run);

// The other direction (TSO done in userspace): a TUN with TUN_F_TSO4 hands
// over TCP packets of up to 64 KiB with gso_type TCPV4; they are cut into
// segments of gso_size payload bytes, each a complete IPv4/TCP packet as the
// kernel's own GSO would make it: IPv4 total length, ID (+1 per segment) and
// header checksum; sequence number advanced; FIN and PSH only on the last
// segment, CWR only on the first; the TCP checksum computed in full.
struct TcpGsoView {
  std::size_t header_length = 0;   // IPv4 + TCP
  std::size_t payload_length = 0;  // all segments
  std::size_t gso_size = 0;
  std::size_t segments = 0;
};
// false unless `packet` is IPv4 (any header length) carrying TCP, not a
// fragment, with IPv4 total length equal to its size, a TCP header inside
// it, a payload, and gso_size > 0.
bool ViewTcpGsoPacket(ByteSpan packet, std::size_t gso_size, TcpGsoView& view);
// Writes segment `k` (< view.segments) into `out` and returns its length
// (0 when `out` is too small).
std::size_t WriteTcpGsoSegment(ByteSpan packet, const TcpGsoView& view, std::size_t k,
                               MutableByteSpan out);

}  // namespace mipsec::ip

#endif  // MIPSEC_COMMON_IP_TCP_COALESCE_H_
