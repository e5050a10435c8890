// For the daemons' root tests: a private directory for a control socket and
// the real `mipsec ctl` run against it (a Unix socket needs no namespace).
//
//   TestCtlDir ctl("ha");                       // /tmp/mipsec-ha-ctl-XXXXXX/ha.sock
//   CtlRun r = RunCtl(MIPSEC_BINARY, ctl.socket(), "--json bindings");
#ifndef MIPSEC_PLATFORM_LINUX_TEST_CTL_H_
#define MIPSEC_PLATFORM_LINUX_TEST_CTL_H_

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <filesystem>
#include <string>
#include <system_error>

#include <gtest/gtest.h>

namespace mipsec::platform {

// The directory is removed however the test ends.
struct TestCtlDir {
  explicit TestCtlDir(const std::string& daemon) : daemon_(daemon) {
    std::string t = "/tmp/mipsec-" + daemon + "-ctl-XXXXXX";
    EXPECT_NE(mkdtemp(t.data()), nullptr);
    dir = t;
  }
  ~TestCtlDir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  TestCtlDir(const TestCtlDir&) = delete;
  TestCtlDir& operator=(const TestCtlDir&) = delete;
  std::string socket() const { return dir + "/" + daemon_ + ".sock"; }
  std::string dir;

 private:
  std::string daemon_;
};

struct CtlRun {
  int exit_code = -1;
  std::string out;  // stdout and stderr
};

// `<binary> ctl --socket <socket> <args>`.
inline CtlRun RunCtl(const std::string& binary, const std::string& socket,
                     const std::string& args) {
  CtlRun r;
  const std::string cmd = binary + " ctl --socket " + socket + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  const int st = pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_LINUX_TEST_CTL_H_
