// IkeSaManager: the IKE SAs of one endpoint (a gateway or a client), sans-I/O.
// It demultiplexes datagrams to IKE SAs by SPI, creates responder IKE SAs
// for IKE_SA_INIT requests, defends them with stateless COOKIEs under load
// (RFC 7296 2.6), acts on INITIAL_CONTACT (2.4), and collects the IKE SAs'
// output and events.
//
// Call order as for IkeSa (docs/STYLE.md 1): feed OnDatagram()/OnTimeout()
// and commands (Initiate(), or an IkeSa* from Find()), then drain
// PollTransmit() and PollEvent(), then sleep until NextTimeout(). IKE SAs
// that went down are removed after their last output and event were polled;
// IkeSa pointers stay valid until then.
//
// IKE SA rekeying (RFC 7296 2.8): the new IKE SA gets its own handle and is
// found under its new SPIs; the event IkeSaRekeyed{old_sa_id, new_sa_id}
// (reported under the old handle) tells the runtime to swap, and the old
// IKE SA then goes down with IkeSaDown{kRekeyed}.
//
// Datagrams: `payload` is the UDP payload as received on our IKE ports (500
// and the NAT-T port, non-ESP marker included there). ESP and keepalives on
// the NAT-T port are not for this class (they are dropped here).
//
// Costs: polling and NextTimeout() walk all IKE SAs (fine for hundreds; a
// dirty list is the obvious next step for very large gateways).
#ifndef MIPSEC_IKEV2_SA_IKE_SA_MANAGER_H_
#define MIPSEC_IKEV2_SA_IKE_SA_MANAGER_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>

#include "common/log.h"
#include "common/random.h"
#include "common/result.h"
#include "common/time.h"
#include "ikev2/crypto/cookie.h"
#include "ikev2/sa/config.h"
#include "ikev2/sa/ike_sa.h"
#include "ikev2/sa/io.h"

namespace mipsec::ikev2 {

struct IkeSaManagerConfig {
  // The configuration of IKE SAs that peers initiate; nullopt: IKE_SA_INIT
  // requests are dropped (a pure client).
  std::optional<PeerConfig> responder;
  // RFC 7296 2.6: with this many half-open responder IKE SAs (or more), an
  // IKE_SA_INIT request without a valid COOKIE gets only a COOKIE back.
  std::size_t cookie_threshold = 10;
  // Cookie secrets are replaced this often (and the previous one honoured
  // for a few seconds).
  Duration cookie_secret_lifetime = Duration::Seconds(120);
  // Half-open responder IKE SAs beyond this are not created.
  std::size_t max_half_open = 5000;
};

struct IkeSaManagerStats {
  std::uint64_t cookies_sent = 0;
  std::uint64_t cookies_refused = 0;  // a COOKIE that did not verify
  std::uint64_t dropped = 0;          // datagrams for no IKE SA, malformed headers
};

class IkeSaManager {
 public:
  IkeSaManager(IkeSaManagerConfig config, RandomSource& rng, Logger log);
  ~IkeSaManager();

  // A new IKE SA as the original initiator, connecting at once.
  Result<IkeSa*> Initiate(Timestamp now, PeerConfig config, Ipv4Endpoint local,
                          Ipv4Endpoint remote);

  void OnDatagram(Timestamp now, const Ipv4Endpoint& local, const Ipv4Endpoint& remote,
                  ByteSpan payload);
  void OnTimeout(Timestamp now);

  std::optional<IkeTransmit> PollTransmit();
  struct Event {
    std::uint64_t sa_id;  // IkeSa handle (stable for the IKE SA's life)
    IkeEvent event;
  };
  std::optional<Event> PollEvent();
  Timestamp NextTimeout() const;

  IkeSa* Find(std::uint64_t sa_id);
  std::uint64_t IdOf(const IkeSa* sa) const;
  std::size_t size() const { return sas_.size(); }
  // Responder IKE SAs not yet established.
  std::size_t half_open() const;
  const IkeSaManagerStats& stats() const { return stats_; }

 private:
  struct Entry {
    std::shared_ptr<IkeSa> sa;
  };
  // Registers the IKE SAs that `id`'s IKE SA made by rekeying.
  void AdoptNewSas(IkeSa& sa);
  void HandleInitRequest(Timestamp now, const Ipv4Endpoint& local, const Ipv4Endpoint& remote,
                         ByteSpan payload, ByteSpan message, std::uint64_t spi_i);
  void Drain();

  IkeSaManagerConfig config_;
  RandomSource& rng_;
  Logger log_;
  CookieSecrets cookies_;
  std::uint64_t next_id_ = 1;
  std::map<std::uint64_t, Entry> sas_;
  std::unordered_map<std::uint64_t, std::uint64_t> by_local_spi_;
  std::deque<IkeTransmit> out_;
  std::deque<Event> events_;
  IkeSaManagerStats stats_;
};

}  // namespace mipsec::ikev2

#endif  // MIPSEC_IKEV2_SA_IKE_SA_MANAGER_H_
