#include "esp/sa_table.h"

#include <string>
#include <utility>

#include "common/bug.h"
#include "esp/udp_encap.h"

namespace mipsec::esp {

Status SaTable::Add(Sa sa) {
  if (sa.direction() != Direction::kInbound) {
    return Error(Errc::kInvalidArgument, "sa table: only inbound SAs are keyed by SPI");
  }
  const std::uint32_t spi = sa.spi();
  if (sas_.contains(spi)) {
    return Error(Errc::kAlreadyExists, "sa table: spi " + std::to_string(spi) + " already present");
  }
  sas_.emplace(spi, std::make_unique<Sa>(std::move(sa)));
  return Ok{};
}

Sa* SaTable::Find(std::uint32_t spi) {
  if (spi == last_spi_ && last_sa_ != nullptr) return last_sa_;
  auto it = sas_.find(spi);
  if (it == sas_.end()) return nullptr;
  last_spi_ = spi;
  last_sa_ = it->second.get();
  return last_sa_;
}

const Sa* SaTable::Find(std::uint32_t spi) const {
  auto it = sas_.find(spi);
  return it == sas_.end() ? nullptr : it->second.get();
}

bool SaTable::Remove(std::uint32_t spi) {
  auto it = sas_.find(spi);
  if (it == sas_.end()) return false;
  while (std::optional<SaEvent> e = it->second->PollEvent()) events_.push_back(*e);
  if (last_sa_ == it->second.get()) {
    last_sa_ = nullptr;
    last_spi_ = 0;
  }
  sas_.erase(it);
  return true;
}

PacketResult SaTable::Decapsulate(Timestamp now, PacketBuf& pkt, InputForm form) {
  PacketResult r;
  if (!pkt.Valid()) {
    ++counters_.malformed;
    r.reason = DropReason::kMalformed;
    return r;
  }
  std::size_t offset = pkt.offset;
  std::size_t length = pkt.length;
  Udp4500Kind kind = Udp4500Kind::kEsp;
  if (form == InputForm::kIpv4) {
    Result<OuterPacket> outer = LocateEsp(ByteSpan(pkt.buffer.data() + offset, length));
    if (!outer.ok()) {
      ++counters_.malformed;
      r.reason = DropReason::kMalformed;
      return r;
    }
    kind = outer->kind;
    offset += outer->offset;
    length = outer->length;
  } else if (form == InputForm::kUdp4500) {
    const Udp4500Classified c = ClassifyUdp4500(ByteSpan(pkt.buffer.data() + offset, length));
    if (c.kind == Udp4500Kind::kInvalid) {
      ++counters_.malformed;
      r.reason = DropReason::kMalformed;
      return r;
    }
    kind = c.kind;
    offset += c.offset;
    length -= c.offset;
  }
  if (kind == Udp4500Kind::kIke) {
    ++counters_.ike;
    pkt.offset = offset;
    pkt.length = length;
    r.action = Action::kToIke;
    return r;
  }
  if (kind == Udp4500Kind::kKeepalive) {
    ++counters_.keepalives;
    r.action = Action::kKeepalive;
    return r;
  }
  if (length < 8) {
    ++counters_.malformed;
    r.reason = DropReason::kMalformed;
    return r;
  }
  const std::uint8_t* p = pkt.buffer.data() + offset;
  const std::uint32_t spi = static_cast<std::uint32_t>(p[0]) << 24 |
                            static_cast<std::uint32_t>(p[1]) << 16 |
                            static_cast<std::uint32_t>(p[2]) << 8 | p[3];
  r.spi = spi;
  Sa* sa = Find(spi);
  if (sa == nullptr) {
    // RFC 4303 3.4.2: no SA for the SPI, the packet is discarded (auditable).
    ++counters_.unknown_spi;
    r.reason = DropReason::kUnknownSpi;
    return r;
  }
  PacketBuf esp{pkt.buffer, offset, length};
  r = sa->Decapsulate(now, esp);
  if (r.action == Action::kDeliver) {
    pkt.offset = esp.offset;
    pkt.length = esp.length;
  }
  if (sa->has_events()) {
    while (std::optional<SaEvent> e = sa->PollEvent()) events_.push_back(*e);
  }
  return r;
}

void SaTable::DecapsulateBatch(Timestamp now, std::span<PacketBuf> pkts,
                               std::span<PacketResult> results, InputForm form) {
  if (MIPSEC_BUG_IF(results.size() < pkts.size(), "sa table: results span shorter than batch")) {
    pkts = pkts.first(results.size());
  }
  for (std::size_t i = 0; i < pkts.size(); ++i) results[i] = Decapsulate(now, pkts[i], form);
}

std::optional<SaEvent> SaTable::PollEvent() {
  if (events_.empty()) return std::nullopt;
  SaEvent e = events_.front();
  events_.pop_front();
  return e;
}

}  // namespace mipsec::esp
