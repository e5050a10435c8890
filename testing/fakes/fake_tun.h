// FakeTun: TunDevice (platform/tun.h) in memory.
//
// The test plays the kernel's side: InjectPacket() is a packet the host
// routes into the tunnel (what the application then reads), and packets the
// application writes collect in written() (what the host would receive).
// As a Linux TUN with IFF_NO_PI: a read truncates a packet longer than the
// room after the headroom; a write of something that is not an IPv4/IPv6
// packet (empty, or version nibble not 4 or 6) is EINVAL; the read queue
// holds at most `queue_limit` packets (txqueuelen), the rest are dropped.
#ifndef MIPSEC_TESTING_FAKES_FAKE_TUN_H_
#define MIPSEC_TESTING_FAKES_FAKE_TUN_H_

#include <cstdint>
#include <deque>
#include <optional>
#include <string>

#include "common/bytes.h"
#include "platform/tun.h"
#include "testing/fakes/ready_fd.h"

namespace mipsec::testing {

class FakeTun final : public platform::TunDevice {
 public:
  explicit FakeTun(std::string name = "tun0", int ifindex = 10, std::size_t batch_size = 64)
      : name_(std::move(name)), ifindex_(ifindex), batch_size_(batch_size) {}

  int fd() const override { return ready_.fd(); }
  const std::string& name() const override { return name_; }
  int ifindex() const override { return ifindex_; }
  std::size_t BatchSize() const override { return batch_size_; }
  Result<std::size_t> ReadBatch(std::span<platform::PacketBuf> bufs, std::size_t offset) override;
  Result<std::size_t> WriteBatch(std::span<const platform::PacketBuf> bufs,
                                 std::size_t offset) override;

  // --- the kernel's side ---
  // Returns false (and counts a drop) when the queue is full.
  bool InjectPacket(ByteSpan packet);
  // Oldest written packet, removed; nullopt when none.
  std::optional<Bytes> PopWritten();
  const std::deque<Bytes>& written() const { return written_; }
  std::size_t pending_reads() const { return inbox_.size(); }
  std::uint64_t dropped() const { return dropped_; }
  void set_queue_limit(std::size_t n) { queue_limit_ = n; }

 private:
  std::string name_;
  int ifindex_;
  std::size_t batch_size_;
  std::size_t queue_limit_ = 1000;
  std::deque<Bytes> inbox_;
  std::deque<Bytes> written_;
  std::uint64_t dropped_ = 0;
  ReadyFd ready_;
};

}  // namespace mipsec::testing

#endif  // MIPSEC_TESTING_FAKES_FAKE_TUN_H_
