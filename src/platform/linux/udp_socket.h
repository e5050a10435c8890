// LinuxUdpSocket: UdpSocket (platform/udp.h) over an AF_INET SOCK_DGRAM
// socket: non-blocking, IP_PKTINFO and IP_RECVTOS always on, recvmmsg and
// sendmmsg for batches.
#ifndef MIPSEC_PLATFORM_LINUX_UDP_SOCKET_H_
#define MIPSEC_PLATFORM_LINUX_UDP_SOCKET_H_

#include <atomic>
#include <memory>

#include "common/result.h"
#include "platform/linux/fd.h"
#include "platform/udp.h"

namespace mipsec::platform {

class LinuxUdpSocket final : public UdpSocket {
 public:
  // Creates, configures and binds the socket. Errors name the step and the
  // address: "bind 127.0.0.1:500: Address already in use".
  static Result<std::unique_ptr<LinuxUdpSocket>> Open(const UdpOptions& options);

  int fd() const override { return fd_.get(); }
  Ipv4Endpoint local() const override { return local_; }
  Result<std::size_t> RecvBatch(std::span<Datagram> batch) override;
  Result<std::size_t> SendBatch(std::span<const OutgoingDatagram> batch) override;
  Status SetTos(std::uint8_t tos) override;
  Result<std::optional<SocketError>> ReadError() override;

 private:
  LinuxUdpSocket(ScopedFd fd, Ipv4Endpoint local, bool gso)
      : fd_(std::move(fd)), local_(local), gso_(gso) {}
  std::string Name() const { return "udp " + local_.ToString(); }

  ScopedFd fd_;
  Ipv4Endpoint local_;
  // UdpOptions::segmentation_offload, until the kernel refuses it. Atomic:
  // a data path's TX worker and the event loop thread may both send.
  std::atomic<bool> gso_;
};

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_LINUX_UDP_SOCKET_H_
