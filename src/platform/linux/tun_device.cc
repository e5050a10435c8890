#include "platform/linux/tun_device.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/bug.h"
#include "common/checksum.h"
#include "common/ip/tcp_coalesce.h"
#include "platform/linux/sys_error.h"

namespace mipsec::platform {

Result<std::unique_ptr<LinuxTunDevice>> LinuxTunDevice::Create(std::string_view name, bool gro) {
  if (name.size() >= IFNAMSIZ) {
    return Error(Errc::kInvalidArgument, "TUN name too long: " + std::string(name));
  }
  ScopedFd fd(open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) return SysError("open /dev/net/tun");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI | (gro ? IFF_VNET_HDR : 0);
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(fd.get(), TUNSETIFF, &ifr) != 0) {
    return SysError("TUNSETIFF " +
                    (name.empty() ? std::string("(kernel-chosen name)") : std::string(name)));
  }
  // With the virtio header, let the host hand over TCP super-packets (cut
  // in ReadBatch) and packets whose checksum is left to us. Without it
  // working, reads are plain packets.
  bool tso = false;
  if (gro) tso = ioctl(fd.get(), TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) == 0;
  std::string actual(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
  unsigned index = if_nametoindex(actual.c_str());
  if (index == 0) return SysError("if_nametoindex " + actual);
  return std::unique_ptr<LinuxTunDevice>(
      new LinuxTunDevice(std::move(fd), std::move(actual), static_cast<int>(index), gro, tso));
}

Result<std::size_t> LinuxTunDevice::ReadBatch(std::span<PacketBuf> bufs, std::size_t offset) {
  for (const PacketBuf& b : bufs) {
    if (MIPSEC_BUG_IF(b.buffer.size() <= offset, "TUN read buffer has no room after offset")) {
      return 0;
    }
  }
  if (vnet_) return ReadBatchVnet(bufs, offset);
  std::size_t n = 0;
  for (PacketBuf& b : bufs) {
    ssize_t r = read(fd_.get(), b.buffer.data() + offset, b.buffer.size() - offset);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || n > 0) break;
      return SysError("read " + name_);
    }
    b.length = static_cast<std::size_t>(r);
    ++n;
  }
  return n;
}

std::size_t LinuxTunDevice::EmitSegments(std::span<PacketBuf> bufs, std::size_t offset) {
  std::size_t n = 0;
  const ByteSpan packet(big_.data(), big_length_);
  while (n < bufs.size() && next_segment_ < gso_.segments) {
    PacketBuf& b = bufs[n];
    const std::size_t len =
        ip::WriteTcpGsoSegment(packet, gso_, next_segment_, b.buffer.subspan(offset));
    ++next_segment_;
    if (len == 0) continue;  // no room for it (buffers smaller than the MTU): dropped
    b.length = len;
    ++n;
  }
  tso_segments_.fetch_add(n, std::memory_order_relaxed);
  return n;
}

Result<std::size_t> LinuxTunDevice::ReadBatchVnet(std::span<PacketBuf> bufs, std::size_t offset) {
  std::size_t n = 0;
  while (n < bufs.size()) {
    if (next_segment_ < gso_.segments) {  // the rest of a super-packet first
      n += EmitSegments(bufs.subspan(n), offset);
      continue;
    }
    std::uint8_t vh[ip::VirtioNetHdr::kSize];
    iovec iov[2] = {{vh, sizeof vh}, {big_.data(), big_.size()}};
    ssize_t r = readv(fd_.get(), iov, 2);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || n > 0) break;
      return SysError("read " + name_);
    }
    if (static_cast<std::size_t>(r) < sizeof vh) continue;
    const std::size_t len = static_cast<std::size_t>(r) - sizeof vh;
    std::uint16_t gso_size, csum_start, csum_offset;
    std::memcpy(&gso_size, vh + 4, 2);
    std::memcpy(&csum_start, vh + 6, 2);
    std::memcpy(&csum_offset, vh + 8, 2);
    if (vh[1] == ip::VirtioNetHdr::kGsoTcpV4) {
      // A TCP super-packet (TSO): cut into gso_size segments, checksums in full.
      big_length_ = len;
      next_segment_ = 0;
      if (!ip::ViewTcpGsoPacket(ByteSpan(big_.data(), len), gso_size, gso_)) gso_ = {};
      continue;
    }
    if (vh[1] != ip::VirtioNetHdr::kGsoNone) continue;  // not enabled: never sent to us
    PacketBuf& b = bufs[n];
    const std::size_t room = b.buffer.size() - offset;
    if (len > room) continue;  // larger than the MTU the caller sized for: dropped
    std::uint8_t* p = b.buffer.data() + offset;
    std::memcpy(p, big_.data(), len);
    if ((vh[0] & ip::VirtioNetHdr::kNeedsCsum) && std::size_t{csum_start} + csum_offset + 2u <= len) {
      // TUN_F_CSUM: the checksum from csum_start on is left to us. The field
      // holds the pseudo-header sum (CHECKSUM_PARTIAL), so summing from
      // csum_start with it in place gives the final value.
      const std::uint16_t sum = InternetChecksum(ByteSpan(p + csum_start, len - csum_start));
      p[csum_start + csum_offset] = static_cast<std::uint8_t>(sum >> 8);
      p[csum_start + csum_offset + 1] = static_cast<std::uint8_t>(sum);
    }
    b.length = len;
    ++n;
  }
  return n;
}

ssize_t LinuxTunDevice::WriteOne(const std::uint8_t* data, std::size_t length) {
  if (!vnet_) return write(fd_.get(), data, length);
  static const std::uint8_t kEmpty[ip::VirtioNetHdr::kSize] = {};
  iovec iov[2] = {{const_cast<std::uint8_t*>(kEmpty), sizeof kEmpty},
                  {const_cast<std::uint8_t*>(data), length}};
  return writev(fd_.get(), iov, 2);
}

ssize_t LinuxTunDevice::WriteRun(std::span<const PacketBuf> run,
                                 std::span<const ByteSpan> packets, std::size_t offset) {
  constexpr std::size_t kMaxRun = 64;
  const std::size_t count = std::min(run.size(), kMaxRun);
  MutableByteSpan head = run[0].buffer.subspan(offset, run[0].length);
  std::uint8_t saved[20 + 60];
  const std::size_t header_length = 20 + static_cast<std::size_t>(head[32] >> 4) * 4;
  std::memcpy(saved, head.data(), header_length);
  const ip::VirtioNetHdr vh =
      ip::MergeTcpRun(head, packets.first(count));
  const auto vh_bytes = vh.Encode();
  iovec iov[kMaxRun + 1];
  iov[0] = iovec{const_cast<std::uint8_t*>(vh_bytes.data()), vh_bytes.size()};
  iov[1] = iovec{head.data(), head.size()};
  for (std::size_t i = 1; i < count; ++i) {
    iov[i + 1] = iovec{run[i].buffer.data() + offset + header_length,
                       run[i].length - header_length};
  }
  ssize_t r = writev(fd_.get(), iov, static_cast<int>(count + 1));
  if (r < 0) std::memcpy(head.data(), saved, header_length);
  return r;
}

Result<std::size_t> LinuxTunDevice::WriteBatch(std::span<const PacketBuf> bufs,
                                               std::size_t offset) {
  for (const PacketBuf& b : bufs) {
    if (MIPSEC_BUG_IF(offset + b.length > b.buffer.size(), "TUN write past the buffer")) return 0;
  }
  if (gro_) {
    spans_.clear();
    for (const PacketBuf& b : bufs) spans_.push_back(b.Packet(offset));
  }
  std::size_t n = 0;
  while (n < bufs.size()) {
    std::size_t run = gro_ ? std::min<std::size_t>(ip::CoalescibleRun(spans_, n), 64) : 1;
    if (run > 1) {
      ssize_t r = WriteRun(bufs.subspan(n, run), std::span<const ByteSpan>(spans_).subspan(n, run),
                           offset);
      const int err = errno;
      if (r >= 0) {
        n += run;
        gro_segments_.fetch_add(run, std::memory_order_relaxed);
        gro_writes_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      if (err == EAGAIN || err == EWOULDBLOCK || err == EINTR) break;
      gro_ = false;  // the kernel refused the merged packet: one by one from now on
      continue;
    }
    const PacketBuf& b = bufs[n];
    ssize_t r = WriteOne(b.buffer.data() + offset, b.length);
    if (r < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR || n > 0) break;
      return SysError("write " + name_ + " (" + std::to_string(b.length) + " bytes)");
    }
    ++n;
  }
  return n;
}

Status ConfigureInterface(Netlink& netlink, int ifindex, InterfaceAddress address,
                          std::optional<std::uint32_t> mtu) {
  if (mtu) MIPSEC_TRY(netlink.SetMtu(ifindex, *mtu));
  MIPSEC_TRY(netlink.AddAddress(ifindex, address));
  return netlink.SetLinkUp(ifindex, true);
}

}  // namespace mipsec::platform
