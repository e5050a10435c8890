// LinuxTunDevice: TunDevice (platform/tun.h) over /dev/net/tun with
// IFF_TUN | IFF_NO_PI, non-blocking. The interface exists while this object
// lives (it is not made persistent). Configure it with Netlink: SetMtu,
// AddAddress, SetLinkUp (see ConfigureTun below). Needs CAP_NET_ADMIN.
//
// There is no GSO/GRO yet (IFF_VNET_HDR), so a batch costs one read(2) or
// write(2) per packet; the batch shape is kept so offloads can come later.
#ifndef MIPSEC_PLATFORM_LINUX_TUN_DEVICE_H_
#define MIPSEC_PLATFORM_LINUX_TUN_DEVICE_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

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
  static Result<std::unique_ptr<LinuxTunDevice>> Create(std::string_view name = "");

  int fd() const override { return fd_.get(); }
  const std::string& name() const override { return name_; }
  int ifindex() const override { return ifindex_; }
  std::size_t BatchSize() const override { return kBatchSize; }
  Result<std::size_t> ReadBatch(std::span<PacketBuf> bufs, std::size_t offset) override;
  Result<std::size_t> WriteBatch(std::span<const PacketBuf> bufs, std::size_t offset) override;

 private:
  LinuxTunDevice(ScopedFd fd, std::string name, int ifindex)
      : fd_(std::move(fd)), name_(std::move(name)), ifindex_(ifindex) {}

  ScopedFd fd_;
  std::string name_;
  int ifindex_;
};

// The usual set-up of a TUN (or any) interface: MTU (when given), the
// address, then up.
Status ConfigureInterface(Netlink& netlink, int ifindex, InterfaceAddress address,
                          std::optional<std::uint32_t> mtu = std::nullopt);

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_LINUX_TUN_DEVICE_H_
