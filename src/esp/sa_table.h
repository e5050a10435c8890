// SaTable: the inbound SAs of one node, keyed by SPI, and the inbound
// dispatch for a batch of received packets (RFC 4303 3.4.2: the SA is found
// from the SPI; for unicast SAs the SPI alone suffices, RFC 4301 4.1).
//
// Only inbound SAs go in (SPIs are chosen by this node, so they are unique
// here; the outbound SPIs belong to the peers and may collide). Outbound SAs
// are owned by whoever routes packets to them.
//
// Input forms for Decapsulate/DecapsulateBatch (the packet at pkt.offset):
//   kEsp      the ESP packet from the SPI on (raw IPPROTO_ESP socket after the
//             IP header, or a datagram already classified as ESP);
//   kUdp4500  the payload of a UDP datagram received on port 4500: IKE
//             messages come back as Action::kToIke with pkt moved past the
//             non-ESP marker, keepalives as Action::kKeepalive (RFC 3948);
//   kIpv4     a whole outer IPv4 packet (ESP or UDP), as from a raw socket.
// On kDeliver, pkt is the inner IPv4 packet. PacketResult::spi names the SA.
//
// Reference driver loop (a runtime; nothing here does I/O):
//
//   inbound:  n = recvmmsg(udp4500, ...) into buffers at offset kEncapHeadroom
//             table.DecapsulateBatch(now, pkts[0..n), results, InputForm::kUdp4500)
//             kDeliver -> TUN write (batch); kToIke -> IKE core; else count/drop
//   outbound: n = TUN batch read into buffers at offset kEncapHeadroom
//             route each packet to its outbound Sa (traffic selectors)
//             sa.EncapsulateBatch(now, pkts, results, OuterForm::kEspOnly)
//             kSend -> sendmmsg to sa.remote() from sa.local()
//   after either: while (auto e = table.PollEvent() / sa.PollEvent()) tell IKE
//             (kSoftExpired: rekey; kHardExpired: delete the CHILD_SA).
//
// Lifetime events of every SA are collected after each packet; PollEvent()
// returns them in order. Pointers from Find() stay valid until Remove() of
// that SPI or the table's destruction. Not thread-safe.
#ifndef MIPSEC_ESP_SA_TABLE_H_
#define MIPSEC_ESP_SA_TABLE_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <unordered_map>

#include "common/result.h"
#include "common/time.h"
#include "esp/sa.h"

namespace mipsec::esp {

enum class InputForm : std::uint8_t { kEsp, kUdp4500, kIpv4 };

// Drops that happen before an SA is found, and the non-ESP traffic seen.
struct SaTableCounters {
  std::uint64_t unknown_spi = 0;
  std::uint64_t malformed = 0;
  std::uint64_t ike = 0;
  std::uint64_t keepalives = 0;
};

class SaTable {
 public:
  SaTable() = default;
  SaTable(SaTable&&) = default;
  SaTable& operator=(SaTable&&) = default;

  // kInvalidArgument for an outbound SA, kAlreadyExists for a known SPI.
  Status Add(Sa sa);
  // nullptr when absent.
  Sa* Find(std::uint32_t spi);
  const Sa* Find(std::uint32_t spi) const;
  // True if the SPI was present. Its pending events are kept for PollEvent.
  bool Remove(std::uint32_t spi);
  std::size_t size() const { return sas_.size(); }

  PacketResult Decapsulate(Timestamp now, PacketBuf& pkt, InputForm form = InputForm::kEsp);
  // results.size() must be >= pkts.size() (BUG; the excess is not processed).
  void DecapsulateBatch(Timestamp now, std::span<PacketBuf> pkts, std::span<PacketResult> results,
                        InputForm form = InputForm::kEsp);

  std::optional<SaEvent> PollEvent();
  const SaTableCounters& counters() const { return counters_; }

 private:
  std::unordered_map<std::uint32_t, std::unique_ptr<Sa>> sas_;
  std::deque<SaEvent> events_;
  SaTableCounters counters_;
  // One-entry lookup cache: batches from one peer mostly share an SPI.
  std::uint32_t last_spi_ = 0;
  Sa* last_sa_ = nullptr;
};

}  // namespace mipsec::esp

#endif  // MIPSEC_ESP_SA_TABLE_H_
