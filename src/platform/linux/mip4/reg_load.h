// Registration load generator for `mipsec bench reg` (issue 4 item 9):
// authenticated Registration Requests for many mobile nodes sent to a home
// agent over real UDP sockets, with a bounded window of outstanding requests
// (closed loop, so a slow or lossy HA shows up as loss and latency rather
// than as an unbounded queue), and the replies checked and counted.
//
// Three layers:
//   RegLoadEngine  sans-I/O: builds each mobile node's request (RFC 5944 3.3,
//                  MN-HA HMAC-MD5 over 3.5.1's coverage, a fresh
//                  Identification per 5.7) and matches replies to the
//                  outstanding requests (3.6.2.1: code, home address and the
//                  Identification's low 32 bits; the whole Identification in
//                  timestamp mode). Unit-tested against the HomeAgent core.
//   RunRegLoad     drives one engine per thread over a LinuxUdpSocket:
//                  a first pass where every MN registers once (bindings are
//                  created: the HA installs interception state), then a
//                  steady phase of re-registrations (binding refreshes) for
//                  a fixed duration; reports rates, loss and latency.
//   PrivateHaNetwork / SpawnedHa  `--spawn-ha`: the calling process moves
//                  itself into a new network namespace (so the HA's TUN,
//                  routes and port 434 never touch the host), creates the
//                  home interface there, and runs `mipsec ha --config` as a
//                  child, which inherits the namespace.
//
// Not thread-safe: one RegLoadEngine per thread; RunRegLoad makes its own.
#ifndef MIPSEC_PLATFORM_LINUX_MIP4_REG_LOAD_H_
#define MIPSEC_PLATFORM_LINUX_MIP4_REG_LOAD_H_

#include <sys/types.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/bytes.h"
#include "common/ip/address.h"
#include "common/result.h"
#include "common/secret.h"
#include "common/time.h"
#include "config/daemon_config.h"
#include "mip4/security/sa_database.h"
#include "mip4/security/security_association.h"
#include "platform/netlink.h"

namespace mipsec::mip4d {

// One mobile node the generator speaks for.
struct LoadMobileNode {
  Ipv4Address home_address;
  std::uint32_t spi = 0;
  SecretBytes key;
  mip4::ReplayMethod replay = mip4::ReplayMethod::kTimestamp;
};

// A generated population and the home agent serving it.
struct SyntheticHaSpec {
  std::size_t mobile_nodes = 10'000;
  std::uint64_t seed = 1;
  // Mobile node i has home address home_network.address() + 0x10000 + i
  // (10.1.0.0 upwards by default); the HA's own address is below that.
  Ipv4Prefix home_network = *Ipv4Prefix::Parse("10.0.0.0/8");
  Ipv4Address ha_address = Ipv4Address::FromOctets(10, 0, 0, 1);
  std::uint32_t spi = 1000;
  mip4::ReplayMethod replay = mip4::ReplayMethod::kTimestamp;
};

// The mobile nodes of `spec`: deterministic 16-byte keys from (seed, i).
// kInvalidArgument when they do not fit in the home network.
Result<std::vector<LoadMobileNode>> MakeSyntheticMobileNodes(const SyntheticHaSpec& spec);

// What else the generated ha.toml needs.
struct HaTomlParams {
  std::string interface;                   // [home_agent] interface
  std::vector<Ipv4Prefix> trusted_subnets; // must cover the generator's source
  std::string control_socket;
  std::string log_level = "warning";       // per-registration logging would be measured too
  std::uint16_t max_lifetime_seconds = 1800;
};
// A complete `mipsec ha` config (docs/configuration.md) serving `mns`.
// Contains keys: write it to a private (0600) file.
std::string MakeHaConfigToml(const SyntheticHaSpec& spec, std::span<const LoadMobileNode> mns,
                             const HaTomlParams& params);

// The mobile nodes of an HA config that have a home address (NAI-only ones
// cannot be addressed by a generator that sends no NAI; they are skipped).
std::vector<LoadMobileNode> MobileNodesFromConfig(const config::HaConfig& config);

struct RegLoadOptions {
  Ipv4Address home_agent;       // the requests' Home Agent field
  Ipv4Address care_of_address;  // co-located care-of address (D set): the
                                // generator's source, so the HA sees no NAT
  std::uint16_t lifetime = 1800;
  bool reverse_tunnel = true;   // T (RFC 3024)
  // An outstanding request without a reply after this long is lost.
  Duration timeout = Duration::Seconds(1);
  // Verify the MN-HA authenticator of every k-th accepted reply (1: all, 0:
  // none). Replies that change the engine's state (a nonce or a clock offset
  // from a 133, every reply in nonce mode) are always verified first.
  std::uint32_t verify_every = 16;
  std::size_t max_keyed_contexts = 0;  // SaDatabase budget; 0: unlimited
};

struct RegLoadCounters {
  std::uint64_t sent = 0;
  std::uint64_t accepted = 0;      // code 0/1, Identification and home address match
  std::uint64_t denied = 0;        // matched, another code (by_code says which)
  std::uint64_t resyncs = 0;       // matched 133 the engine resynchronised from
  std::uint64_t lost = 0;          // no reply within the timeout
  std::uint64_t late = 0;          // a reply to a request already declared lost
  std::uint64_t mismatched = 0;    // outstanding MN, wrong Identification
  std::uint64_t unexpected = 0;    // unknown home address / nothing outstanding
  std::uint64_t malformed = 0;     // not a parsable Registration Reply
  std::uint64_t verified = 0;      // reply authenticators checked
  std::uint64_t auth_failed = 0;   // ... and wrong (the reply is not counted accepted)
  std::array<std::uint64_t, 256> by_code{};

  void Add(const RegLoadCounters& o);
};

enum class ReplyOutcome : std::uint8_t {
  kAccepted,
  kDenied,
  kResync,
  kLate,
  kMismatched,
  kUnexpected,
  kMalformed,
  kAuthFailed,
};

class RegLoadEngine {
 public:
  // kInvalidArgument for an empty population, a bad SA (SecurityAssociation
  // ::Create's errors) or a home address given twice.
  static Result<std::unique_ptr<RegLoadEngine>> Create(std::vector<LoadMobileNode> mns,
                                                       RegLoadOptions options);

  std::size_t size() const { return mns_.size(); }
  const RegLoadCounters& counters() const { return counters_; }
  void ResetCounters() { counters_ = RegLoadCounters{}; }
  std::size_t outstanding() const { return outstanding_; }
  bool is_outstanding(std::size_t index) const { return mns_[index].outstanding; }

  // Builds mobile node `index`'s next request into `out` (replaced) at time
  // of day `unix_nanos`, and returns its Identification. Timestamp mode: the
  // NTP time (plus any offset learnt from a 133), forced above the last one
  // this MN sent; nonce mode: the last nonce received (0 before any) and a
  // per-MN counter. Nothing is recorded until MarkSent.
  Result<std::uint64_t> BuildRequest(std::size_t index, std::int64_t unix_nanos, Bytes& out);
  // The request built with `identification` left at `now` (monotonic):
  // outstanding until its reply or `timeout`.
  void MarkSent(std::size_t index, std::uint64_t identification, Timestamp now);
  // The next MN with nothing outstanding, round robin; nullopt if none.
  std::optional<std::size_t> NextIdle();

  // A datagram from the HA at `now`. On kAccepted/kDenied/kResync,
  // *latency (if given) is set to the time since MarkSent.
  ReplyOutcome OnReply(ByteSpan payload, Timestamp now, Duration* latency = nullptr);
  // Declares lost every request outstanding since before now - timeout.
  std::size_t ExpireLost(Timestamp now);

 private:
  struct Mn {
    Ipv4Address home;
    mip4::MobileNodeSecurity* security = nullptr;
    std::uint32_t spi = 0;
    mip4::ReplayMethod replay = mip4::ReplayMethod::kTimestamp;
    bool outstanding = false;
    std::uint64_t last_id = 0;         // last Identification sent
    std::uint64_t outstanding_id = 0;
    Timestamp sent_at;
    std::uint32_t nonce = 0;           // nonce mode: echo this
    std::uint32_t counter = 0;         // nonce mode: low 32 bits
    std::uint64_t lost_id = 0;         // last request declared lost (to count late replies)
  };
  struct Pending {
    std::uint32_t index;
    std::uint64_t identification;
    Timestamp sent_at;
  };

  explicit RegLoadEngine(RegLoadOptions options) : options_(options) {}
  bool VerifyReply(Mn& mn, ByteSpan payload);

  RegLoadOptions options_;
  std::unique_ptr<mip4::SaDatabase> sas_;
  std::unordered_map<Ipv4Address, std::uint32_t> index_;  // home address -> mns_
  std::vector<Mn> mns_;
  std::deque<Pending> pending_;  // send order = expiry order
  std::size_t outstanding_ = 0;
  std::size_t cursor_ = 0;
  std::uint64_t accepted_seen_ = 0;
  std::int64_t clock_offset_seconds_ = 0;  // timestamp mode, from verified 133s
  RegLoadCounters counters_;
};

// Latency percentiles (nanoseconds) of a sample.
struct LatencySummary {
  std::uint64_t count = 0;
  double p50_us = 0, p90_us = 0, p99_us = 0, max_us = 0;
};
LatencySummary SummarizeLatency(std::vector<std::int64_t>& nanos);

struct RegLoadRunOptions {
  Ipv4Endpoint home_agent;             // where requests go (port 434 usually)
  Ipv4Address source;                  // local address to bind (also the CoA)
  std::size_t window = 256;            // outstanding requests per thread
  Duration duration = Duration::Seconds(10);  // steady phase
  int threads = 1;
  std::optional<int> first_cpu;        // pin thread i to CPU first_cpu + i
  bool first_pass = true;              // every MN registers once before the steady phase
  Duration probe_timeout = Duration::Seconds(10);
  // Polled while waiting; false: give up (e.g. the spawned HA died).
  std::function<bool()> alive = [] { return true; };
};

struct PhaseReport {
  double seconds = 0;
  RegLoadCounters counters;
  LatencySummary latency;
  double sent_per_second() const { return seconds > 0 ? counters.sent / seconds : 0; }
  double accepted_per_second() const { return seconds > 0 ? counters.accepted / seconds : 0; }
  double generator_cpu_seconds = 0;  // user+system of the generator threads
  // Time the generator threads spent runnable but waiting for a CPU
  // (/proc/thread-self/schedstat): a loaded machine shows up here.
  double generator_runqueue_seconds = 0;
};

struct RegLoadReport {
  std::size_t mobile_nodes = 0;
  PhaseReport first_pass;  // seconds == 0 when not run
  PhaseReport steady;
};

// Waits until the HA answers one registration (mobile node 0 of the first
// thread, sent again each time the previous one times out), then runs. Errors: socket errors, the HA
// not answering within probe_timeout, `alive` turning false, or every
// reply of the first pass being wrong (nothing to measure).
Result<RegLoadReport> RunRegLoad(std::vector<LoadMobileNode> mns, const RegLoadOptions& options,
                                 const RegLoadRunOptions& run);

// `--spawn-ha`'s private network: unshare(CLONE_NEWNET) for the calling
// process (call it before any thread starts), loopback up, and a veth pair
// `interface` / `interface`+"p", both up, with `ha` on `interface` and
// `generator` on the peer. Both addresses are local, so traffic between them
// goes over loopback. (The generator cannot use 127.0.0.1: it is also the
// care-of address, and the HA refuses a non-unicast one with 134.) Needs
// CAP_SYS_ADMIN and CAP_NET_ADMIN. The namespace goes away with the last
// process in it.
Status EnterPrivateHaNetwork(const std::string& interface, platform::InterfaceAddress ha,
                             platform::InterfaceAddress generator);

// A `mipsec ha` child process. Start() execs `exe ha --config config_path`
// with stdout/stderr to `log_path`, optionally pinned to `cpu`.
class SpawnedHa {
 public:
  static Result<std::unique_ptr<SpawnedHa>> Start(const std::string& exe,
                                                  const std::string& config_path,
                                                  const std::string& log_path,
                                                  std::optional<int> cpu);
  ~SpawnedHa();  // Stop() if still running
  SpawnedHa(const SpawnedHa&) = delete;
  SpawnedHa& operator=(const SpawnedHa&) = delete;

  pid_t pid() const { return pid_; }
  // Whether the child is still running (reaps it if not).
  bool Alive();
  // SIGTERM, wait up to 5 s, then SIGKILL. Returns the exit description,
  // e.g. "exit 0" or "signal 9".
  std::string Stop();
  // utime + stime of the child so far, seconds (/proc/<pid>/stat).
  double CpuSeconds() const;
  // Seconds on a CPU and seconds runnable but waiting for one, so far, all
  // threads (/proc/<pid>/schedstat); {0, 0} when unavailable.
  std::pair<double, double> SchedSeconds() const;

 private:
  explicit SpawnedHa(pid_t pid) : pid_(pid) {}
  pid_t pid_;
  bool reaped_ = false;
  int status_ = 0;
};

}  // namespace mipsec::mip4d

#endif  // MIPSEC_PLATFORM_LINUX_MIP4_REG_LOAD_H_
