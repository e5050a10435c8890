#include "platform/linux/tun_device.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/bug.h"
#include "platform/linux/sys_error.h"

namespace mipsec::platform {

Result<std::unique_ptr<LinuxTunDevice>> LinuxTunDevice::Create(std::string_view name) {
  if (name.size() >= IFNAMSIZ) {
    return Error(Errc::kInvalidArgument, "TUN name too long: " + std::string(name));
  }
  ScopedFd fd(open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) return SysError("open /dev/net/tun");
  ifreq ifr{};
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  std::memcpy(ifr.ifr_name, name.data(), name.size());
  if (ioctl(fd.get(), TUNSETIFF, &ifr) != 0) {
    return SysError("TUNSETIFF " +
                    (name.empty() ? std::string("(kernel-chosen name)") : std::string(name)));
  }
  std::string actual(ifr.ifr_name, strnlen(ifr.ifr_name, IFNAMSIZ));
  unsigned index = if_nametoindex(actual.c_str());
  if (index == 0) return SysError("if_nametoindex " + actual);
  return std::unique_ptr<LinuxTunDevice>(
      new LinuxTunDevice(std::move(fd), std::move(actual), static_cast<int>(index)));
}

Result<std::size_t> LinuxTunDevice::ReadBatch(std::span<PacketBuf> bufs, std::size_t offset) {
  std::size_t n = 0;
  for (PacketBuf& b : bufs) {
    if (MIPSEC_BUG_IF(b.buffer.size() <= offset, "TUN read buffer has no room after offset")) {
      break;
    }
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

Result<std::size_t> LinuxTunDevice::WriteBatch(std::span<const PacketBuf> bufs,
                                               std::size_t offset) {
  std::size_t n = 0;
  for (const PacketBuf& b : bufs) {
    if (MIPSEC_BUG_IF(offset + b.length > b.buffer.size(), "TUN write past the buffer")) break;
    ssize_t r = write(fd_.get(), b.buffer.data() + offset, b.length);
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
