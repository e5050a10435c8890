// IKE SA set-up load generator for `mipsec bench ike` (issue 5 item 10):
// our initiator (IkeSaManager, unchanged) against a gateway over real UDP
// sockets, with a fixed number of set-ups in flight (closed loop). One
// set-up is IKE_SA_INIT + IKE_AUTH with a CP request and one CHILD SA; once
// the CHILD SA is up the IKE SA is deleted (INFORMATIONAL Delete, as
// strongSwan's load-tester does with delete_after_established) and the slot
// starts the next set-up at once. The CHILD SAs are not installed anywhere:
// this measures the key exchange, not a data path.
//
// Slot i uses identity "<i>-<local_id>" for FQDN and email identities (so a
// gateway sees `concurrency` clients, each with at most one set-up and one
// delete in flight) and sends no INITIAL_CONTACT.
//
// Runs on the calling thread, in the calling thread's network namespace.
#ifndef MIPSEC_PLATFORM_LINUX_IKEV2_IKE_LOAD_H_
#define MIPSEC_PLATFORM_LINUX_IKEV2_IKE_LOAD_H_

#include <cstddef>
#include <cstdint>
#include <vector>

#include "common/ip/address.h"
#include "common/log.h"
#include "common/result.h"
#include "common/time.h"
#include "ikev2/sa/config.h"

namespace mipsec::ikev2d {

struct IkeLoadOptions {
  Ipv4Address local;            // bound to ports 500 and natt_port
  Ipv4Endpoint gateway;         // its IKE port
  ikev2::PeerConfig peer;       // the initiator config (identity, auth, proposals, TS, CP)
  std::size_t concurrency = 16; // set-ups in flight
  Duration duration = Duration::Seconds(5);
  Duration warmup = Duration::Seconds(1);  // set-ups completed before this are not counted
  // After the window, set-ups in flight complete and every IKE SA is
  // deleted (answered) before RunIkeLoad returns, for at most this long.
  Duration drain_timeout = Duration::Seconds(3);
};

struct IkeLoadResult {
  std::uint64_t established = 0;  // CHILD SA up in the measured window
  std::uint64_t failed = 0;       // IKE SA down before its CHILD SA was up
  // IKE datagrams sent and received in the window (a set-up and its delete
  // take 3 each way; COOKIEs and retransmissions add to that).
  std::uint64_t datagrams_out = 0;
  std::uint64_t datagrams_in = 0;
  double seconds = 0;             // the measured window
  double rate = 0;                // established / seconds
  double latency_p50_ms = 0;      // start of IKE_SA_INIT -> CHILD SA up
  double latency_p90_ms = 0;
  double latency_p99_ms = 0;
  double latency_mean_ms = 0;
  double latency_max_ms = 0;
};

Result<IkeLoadResult> RunIkeLoad(const IkeLoadOptions& options, Logger log);

}  // namespace mipsec::ikev2d

#endif  // MIPSEC_PLATFORM_LINUX_IKEV2_IKE_LOAD_H_
