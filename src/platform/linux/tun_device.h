// LinuxTunDevice: TunDevice (platform/tun.h) over /dev/net/tun with
// IFF_TUN | IFF_NO_PI, non-blocking. The interface exists while this object
// lives (it is not made persistent). Configure it with Netlink: SetMtu,
// AddAddress, SetLinkUp (see ConfigureTun below). Needs CAP_NET_ADMIN.
//
// With `gro` (IFF_VNET_HDR, and TUNSETOFFLOAD CSUM|TSO4), reads may return a
// TCP packet of up to 64 KiB, which ReadBatch cuts into MSS segments
// exactly as the kernel's GSO would (common/ip/tcp_coalesce.h), handing them
// out over one or more calls; a checksum the host left to us is completed.
// Without it, one read(2) per packet. Writes, with `gro`,
// merge runs of consecutive TCP segments of one flow into one packet with
// a virtio_net_hdr (common/ip/tcp_coalesce.h, the kernel's own GRO rules)
// and write each run with one writev(2): the host stack then forwards or
// receives the run as one packet. Other packets are written one by one,
// behind an empty virtio_net_hdr. If the kernel refuses a merged packet,
// merging is turned off for good and the packets are written one by one.
#ifndef MIPSEC_PLATFORM_LINUX_TUN_DEVICE_H_
#define MIPSEC_PLATFORM_LINUX_TUN_DEVICE_H_

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/ip/tcp_coalesce.h"
#include "common/result.h"
#include "platform/linux/fd.h"
#include "platform/netlink.h"
#include "platform/tun.h"

namespace mipsec::platform {

class LinuxTunDevice final : public TunDevice {
 public:
  static constexpr std::size_t kBatchSize = 64;

  // `name` empty: the kernel picks "tunN". A name containing "%d" is a
  // pattern the kernel completes.
  static Result<std::unique_ptr<LinuxTunDevice>> Create(std::string_view name = "",
                                                        bool gro = false);

  int fd() const override { return fd_.get(); }
  const std::string& name() const override { return name_; }
  int ifindex() const override { return ifindex_; }
  std::size_t BatchSize() const override { return kBatchSize; }
  Result<std::size_t> ReadBatch(std::span<PacketBuf> bufs, std::size_t offset) override;
  // With gro, the head packet of each merged run has its IPv4 and TCP
  // headers rewritten in its buffer. Not thread-safe (one writer).
  Result<std::size_t> WriteBatch(std::span<const PacketBuf> bufs, std::size_t offset) override;

  bool gro() const { return gro_; }
  bool tso() const { return tso_; }
  // Packets ReadBatch cut from TCP super-packets (TSO done here).
  std::uint64_t SegmentedPackets() const override {
    return tso_segments_.load(std::memory_order_relaxed);
  }
  std::uint64_t CoalescedPackets() const override {
    return gro_segments_.load(std::memory_order_relaxed);
  }
  // Merged writes (each of CoalescedPackets() / gro_writes() packets on average).
  std::uint64_t gro_writes() const { return gro_writes_.load(std::memory_order_relaxed); }

 private:
  LinuxTunDevice(ScopedFd fd, std::string name, int ifindex, bool gro, bool tso)
      : fd_(std::move(fd)),
        name_(std::move(name)),
        ifindex_(ifindex),
        vnet_(gro),
        gro_(gro),
        tso_(tso),
        big_(vnet_ ? 65536 : 0) {}
  Result<std::size_t> ReadBatchVnet(std::span<PacketBuf> bufs, std::size_t offset);
  // Segments of the pending super-packet into bufs; how many were filled.
  std::size_t EmitSegments(std::span<PacketBuf> bufs, std::size_t offset);
  // One packet (behind an empty virtio_net_hdr when vnet_): the write(2)
  // result.
  ssize_t WriteOne(const std::uint8_t* data, std::size_t length);
  // One merged run (`packets` are the run's packets as spans): the
  // writev(2) result; the head's headers are restored when the kernel
  // refuses it.
  ssize_t WriteRun(std::span<const PacketBuf> run, std::span<const ByteSpan> packets,
                   std::size_t offset);

  ScopedFd fd_;
  std::string name_;
  int ifindex_;
  bool vnet_;  // opened with IFF_VNET_HDR
  bool gro_;   // merge TCP runs (until the kernel refuses one)
  bool tso_;   // TUNSETOFFLOAD TSO4|CSUM accepted: reads may be super-packets
  std::vector<std::uint8_t> big_;      // vnet reads land here
  std::size_t big_length_ = 0;
  ip::TcpGsoView gso_;                 // the super-packet in big_ being cut
  std::size_t next_segment_ = 0;
  std::atomic<std::uint64_t> tso_segments_{0};
  std::vector<ByteSpan> spans_;
  std::atomic<std::uint64_t> gro_segments_{0};  // written by the writer, read by anyone
  std::atomic<std::uint64_t> gro_writes_{0};
};

// The usual set-up of a TUN (or any) interface: MTU (when given), the
// address, then up.
Status ConfigureInterface(Netlink& netlink, int ifindex, InterfaceAddress address,
                          std::optional<std::uint32_t> mtu = std::nullopt);

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_LINUX_TUN_DEVICE_H_
