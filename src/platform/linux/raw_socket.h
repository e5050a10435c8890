// LinuxRawSocket: RawIpSocket (platform/raw_socket.h) over an AF_INET
// SOCK_RAW socket. Needs CAP_NET_RAW.
#ifndef MIPSEC_PLATFORM_LINUX_RAW_SOCKET_H_
#define MIPSEC_PLATFORM_LINUX_RAW_SOCKET_H_

#include <cstdint>
#include <memory>
#include <string>

#include "common/result.h"
#include "platform/linux/fd.h"
#include "platform/raw_socket.h"

namespace mipsec::platform {

class LinuxRawSocket final : public RawIpSocket {
 public:
  static Result<std::unique_ptr<LinuxRawSocket>> Open(const RawSocketOptions& options);

  int fd() const override { return fd_.get(); }
  std::uint8_t protocol() const override { return protocol_; }
  Result<std::size_t> RecvBatch(std::span<Datagram> batch) override;
  Result<std::size_t> SendBatch(std::span<const OutgoingDatagram> batch) override;
  Status SendIpPacket(ByteSpan packet, int ifindex = 0) override;
  Status JoinMulticast(Ipv4Address group, int ifindex) override;
  Status LeaveMulticast(Ipv4Address group, int ifindex) override;

 private:
  LinuxRawSocket(ScopedFd fd, std::uint8_t protocol) : fd_(std::move(fd)), protocol_(protocol) {}
  // IP_HDRINCL follows the kind of send: on for SendIpPacket, off otherwise.
  Status SetHeaderIncluded(bool on);
  Status Membership(int option, Ipv4Address group, int ifindex);
  std::string Name() const { return "raw socket (protocol " + std::to_string(protocol_) + ")"; }

  ScopedFd fd_;
  std::uint8_t protocol_;
  bool header_included_ = false;
};

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_LINUX_RAW_SOCKET_H_
