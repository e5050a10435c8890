// tshark as an independent oracle for our wire formats: tests write a pcap
// and ask Wireshark's dissectors what they see.
#ifndef MIPSEC_TESTING_TSHARK_TSHARK_H_
#define MIPSEC_TESTING_TSHARK_TSHARK_H_

#include <string>
#include <vector>

#include "common/bytes.h"
#include "common/result.h"
#include "testing/require_root.h"  // InCi()

namespace mipsec::testing {

// Whether tshark can be run (Debian package "tshark").
bool TsharkAvailable();

// Runs `tshark -r <pcap> <args...>` and returns its standard output.
// kSystem if tshark cannot be started or exits non-zero (stderr included in
// the detail).
Result<std::string> RunTshark(const std::string& pcap_path, const std::vector<std::string>& args);

// tshark options that turn on IP and UDP checksum validation (off by default
// in tshark; ICMP checksums are always checked).
std::vector<std::string> TsharkChecksumOptions();

// The packets tshark flags as malformed, with an error-level expert item, or
// with a bad IP, UDP or ICMP checksum (validation switched on), one summary
// line each; empty when the capture is clean.
Result<std::string> TsharkProblems(const std::string& pcap_path);

// Writes `bytes` to a fresh file under $TMPDIR (or /tmp) and returns its path.
Result<std::string> WriteTempFile(const std::string& stem, ByteSpan bytes);

}  // namespace mipsec::testing

// First statement of a test that needs tshark: skips with a message when it
// is not installed, except under CI=true, where that is a failure.
#define MIPSEC_REQUIRE_TSHARK()                                                   \
  do {                                                                            \
    if (!::mipsec::testing::TsharkAvailable()) {                                  \
      if (::mipsec::testing::InCi()) {                                            \
        FAIL() << "tshark missing, and CI=true: install the Debian package tshark"; \
      } else {                                                                    \
        GTEST_SKIP() << "tshark not installed (Debian package tshark)";           \
      }                                                                           \
    }                                                                             \
  } while (0)

#endif  // MIPSEC_TESTING_TSHARK_TSHARK_H_
