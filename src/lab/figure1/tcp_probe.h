// The TCP probe: one long-lived TCP connection whose interruptions are measured —
// the correspondent node's session to the mobile node's home address in the
// Figure 1 walk (issue 8: "one long-lived TCP connection from the CN to the
// MN's home address stays up through home -> c -> f -> mc -> mc behind NAT
// -> c, with the gap of each move measured").
//
//   mipsec probe serve --bind 10.1.0.10 --port 5266              (on the MN)
//   mipsec probe connect --to 10.1.0.10 --port 5266 --interval-ms 10   (on the CN)
//
// (`mipsec probe`, src/cli/probe.cc, is these two functions; the walk,
// walk.h, spawns it in the namespaces.)
//
// `serve` accepts connections and echoes every byte back. `connect` opens
// one connection (retrying until --connect-timeout-ms) and every interval
// sends a 16-byte record (sequence number, send time); the server echoes
// it. Each echo's arrival is timed on CLOCK_MONOTONIC, the clock the test
// (std::chrono::steady_clock) uses too, in seconds. stdout gets one JSON
// line per event:
//   {"event":"connected","t":12.345678}
//   {"event":"gap","from":12.5,"to":12.8,"ms":300.0}    echo inter-arrival
//                                                        above --gap-ms
//   {"event":"summary","sent":N,"echoed":M,"max_gap_ms":X,"alive":true,
//    "error":""}                                         at SIGTERM/SIGINT,
//                                                        or when the
//                                                        connection breaks
// Exit status: 0 when the connection was alive at the end, 1 otherwise.
#ifndef MIPSEC_LAB_FIGURE1_TCP_PROBE_H_
#define MIPSEC_LAB_FIGURE1_TCP_PROBE_H_

#include <cstdint>
#include <string>

namespace mipsec::lab {

// Listens on bind_to:port (IP_FREEBIND: the address may not exist yet) and
// echoes; returns 0 at SIGTERM/SIGINT, 2 when it cannot listen.
int TcpProbeServe(const std::string& bind_to, std::uint16_t port);

// One connection to to:port, a 16-byte record every interval_ms, gaps above
// gap_ms reported; exit status as above.
int TcpProbeConnect(const std::string& to, std::uint16_t port, int interval_ms, double gap_ms,
                    int connect_timeout_ms);

}  // namespace mipsec::lab

#endif  // MIPSEC_LAB_FIGURE1_TCP_PROBE_H_
