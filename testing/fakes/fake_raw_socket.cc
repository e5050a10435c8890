#include "testing/fakes/fake_raw_socket.h"

#include <algorithm>
#include <cstring>

#include "common/checksum.h"

namespace mipsec::testing {
namespace {

Ipv4Address ReadAddr(ByteSpan p, std::size_t at) {
  return Ipv4Address::FromBytes(std::span<const std::uint8_t, 4>(p.data() + at, 4));
}

void WriteAddr(std::uint8_t* p, Ipv4Address a) {
  auto b = a.ToBytes();
  std::memcpy(p, b.data(), b.size());
}

void WriteU16(std::uint8_t* p, std::uint16_t v) {
  p[0] = static_cast<std::uint8_t>(v >> 8);
  p[1] = static_cast<std::uint8_t>(v);
}

// The header checksum as the kernel writes it (RFC 791, RFC 1071).
void FillChecksum(std::uint8_t* h, std::size_t ihl) {
  h[10] = h[11] = 0;
  WriteU16(h + 10, InternetChecksum(ByteSpan(h, ihl)));
}

// A plausible IPv4 header: version 4, IHL >= 5, within the data.
bool ValidIpv4(ByteSpan p) {
  if (p.size() < 20 || (p[0] >> 4) != 4 || (p[0] & 0x0f) < 5) return false;
  return p.size() >= static_cast<std::size_t>(p[0] & 0x0f) * 4;
}

}  // namespace

bool FakeRawSocket::Inject(ByteSpan p, int ifindex) {
  if (!ValidIpv4(p)) return false;
  if (p[9] != options_.protocol) return false;
  const std::size_t ihl = static_cast<std::size_t>(p[0] & 0x0f) * 4;
  if (options_.protocol == platform::kIpProtoIcmp && !options_.icmp_types.empty()) {
    if (p.size() <= ihl) return false;
    if (std::find(options_.icmp_types.begin(), options_.icmp_types.end(), p[ihl]) ==
        options_.icmp_types.end()) {
      return false;
    }
  }
  const Ipv4Address dst = ReadAddr(p, 16);
  if (!options_.bind_address.IsAny() && dst != options_.bind_address) return false;
  if (dst.IsMulticast() && dst != Ipv4Address::AllSystems() && !groups_.contains({dst, ifindex}) &&
      !groups_.contains({dst, 0})) {
    return false;
  }
  inbox_.push_back(Received{Bytes(p.begin(), p.end()), ifindex});
  ready_.Set(true);
  return true;
}

Result<std::size_t> FakeRawSocket::RecvBatch(std::span<platform::Datagram> batch) {
  std::size_t n = 0;
  while (n < batch.size() && !inbox_.empty()) {
    const Received& r = inbox_.front();
    platform::Datagram& d = batch[n];
    d.length = std::min(r.packet.size(), d.buffer.size());
    d.truncated = r.packet.size() > d.buffer.size();
    std::memcpy(d.buffer.data(), r.packet.data(), d.length);
    d.remote = Ipv4Endpoint{ReadAddr(r.packet, 12), 0};
    d.local = Ipv4Endpoint{ReadAddr(r.packet, 16), 0};
    d.ifindex = r.ifindex;
    d.tos = r.packet[1];
    inbox_.pop_front();
    ++n;
  }
  ready_.Set(!inbox_.empty());
  return n;
}

Result<std::size_t> FakeRawSocket::SendBatch(std::span<const platform::OutgoingDatagram> batch) {
  std::size_t n = 0;
  for (const platform::OutgoingDatagram& d : batch) {
    const Ipv4Address dst = d.remote.address;
    const bool too_long = d.payload.size() > 65515;
    if ((dst.IsLimitedBroadcast() && !options_.broadcast) || too_long) {
      if (n > 0) break;
      return Error(Errc::kSystem, "sendmmsg on fake raw socket to " + dst.ToString() +
                                      (too_long ? ": Message too long" : ": Permission denied"));
    }
    Sent s;
    s.packet.resize(20 + d.payload.size());
    std::uint8_t* h = s.packet.data();
    h[0] = 0x45;
    h[1] = options_.tos.value_or(0);
    WriteU16(h + 2, static_cast<std::uint16_t>(s.packet.size()));
    WriteU16(h + 4, next_id_++);
    h[8] = dst.IsMulticast() ? options_.multicast_ttl : options_.ttl.value_or(64);
    h[9] = options_.protocol;
    Ipv4Address src = !d.source.IsAny()                ? d.source
                      : !options_.bind_address.IsAny() ? options_.bind_address
                                                       : source_;
    WriteAddr(h + 12, src);
    WriteAddr(h + 16, dst);
    FillChecksum(h, 20);
    if (!d.payload.empty()) std::memcpy(h + 20, d.payload.data(), d.payload.size());
    s.destination = dst;
    s.ifindex = d.ifindex;
    sent_.push_back(std::move(s));
    ++n;
  }
  return n;
}

Status FakeRawSocket::SendIpPacket(ByteSpan packet, int ifindex) {
  if (!ValidIpv4(packet)) {
    return Error(Errc::kInvalidArgument,
                 "SendIpPacket: not an IPv4 packet (" + std::to_string(packet.size()) + " bytes)");
  }
  Sent s;
  s.packet.assign(packet.begin(), packet.end());
  std::uint8_t* h = s.packet.data();
  // What the kernel fills in for IP_HDRINCL (raw(7)).
  WriteU16(h + 2, static_cast<std::uint16_t>(s.packet.size()));
  if (h[4] == 0 && h[5] == 0) WriteU16(h + 4, next_id_++);
  if (ReadAddr(s.packet, 12).IsAny()) WriteAddr(h + 12, source_);
  FillChecksum(h, static_cast<std::size_t>(h[0] & 0x0f) * 4);
  s.destination = ReadAddr(s.packet, 16);
  if (s.destination.IsLimitedBroadcast() && !options_.broadcast) {
    return Error(Errc::kSystem,
                 "sendmmsg on fake raw socket to 255.255.255.255: Permission denied");
  }
  s.header_included = true;
  s.ifindex = ifindex;
  sent_.push_back(std::move(s));
  return Ok{};
}

Status FakeRawSocket::JoinMulticast(Ipv4Address group, int ifindex) {
  const std::string what =
      "IP_ADD_MEMBERSHIP " + group.ToString() + " on ifindex " + std::to_string(ifindex);
  if (!group.IsMulticast()) return Error(Errc::kSystem, what + ": Invalid argument");
  if (!groups_.insert({group, ifindex}).second) {
    return Error(Errc::kSystem, what + ": Address already in use");
  }
  return Ok{};
}

Status FakeRawSocket::LeaveMulticast(Ipv4Address group, int ifindex) {
  if (groups_.erase({group, ifindex}) == 0) {
    return Error(Errc::kSystem, "IP_DROP_MEMBERSHIP " + group.ToString() + " on ifindex " +
                                    std::to_string(ifindex) + ": Cannot assign requested address");
  }
  return Ok{};
}

}  // namespace mipsec::testing
