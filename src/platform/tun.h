// TunDevice: a layer-3 TUN interface (IPv4 packets, no packet-info header)
// read and written in batches, wireguard-go style: every buffer carries
// `offset` bytes of headroom before the packet so a caller can prepend
// headers (UDP, ESP, outer IPv4) in place without copying.
//
// Addresses, MTU and up/down are netlink matters (platform/netlink.h).
//
// Linux: platform/linux/tun_device.h. In-memory fake: testing/fakes/fake_tun.h.
#ifndef MIPSEC_PLATFORM_TUN_H_
#define MIPSEC_PLATFORM_TUN_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "common/bytes.h"
#include "common/result.h"

namespace mipsec::platform {

// A packet buffer: the packet occupies buffer[offset, offset + length), where
// `offset` is the headroom argument of the batch call.
struct PacketBuf {
  MutableByteSpan buffer{};  // caller's storage, not owned
  std::size_t length = 0;    // packet bytes after the headroom

  ByteSpan Packet(std::size_t offset) const { return ByteSpan(buffer.data() + offset, length); }
};

class TunDevice {
 public:
  virtual ~TunDevice() = default;

  // Readable (for an EventLoop) while packets are waiting.
  virtual int fd() const = 0;
  virtual const std::string& name() const = 0;
  virtual int ifindex() const = 0;
  // How many packets one ReadBatch may return (the useful batch size).
  virtual std::size_t BatchSize() const = 0;

  // Reads up to bufs.size() packets without blocking: packet i goes to
  // bufs[i].buffer[offset, ...) and its size to bufs[i].length. Returns how
  // many were read (0: nothing waiting). A packet longer than the room after
  // `offset` is truncated by the kernel: give each buffer offset + MTU bytes.
  // Every buffer must be larger than `offset` (BUG otherwise).
  virtual Result<std::size_t> ReadBatch(std::span<PacketBuf> bufs, std::size_t offset) = 0;

  // Writes bufs[i].buffer[offset, offset + length) for each i in order, as
  // packets arriving on the interface. Returns how many were written; an
  // Error means the FIRST was rejected (e.g. not an IP packet): drop it and
  // go on with the rest.
  virtual Result<std::size_t> WriteBatch(std::span<const PacketBuf> bufs, std::size_t offset) = 0;
  // Packets WriteBatch wrote merged with others (TCP receive coalescing,
  // platform/linux/tun_device.h); 0 for a device that does not merge. May
  // be read from any thread.
  virtual std::uint64_t CoalescedPackets() const { return 0; }
  // Packets ReadBatch cut from TCP super-packets the host handed over (TSO
  // done in userspace); 0 for a device that does not.
  virtual std::uint64_t SegmentedPackets() const { return 0; }
};

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_TUN_H_
