// ExecInNetns/SpawnInNetns without a namespace switch (netns_fd = -1): no
// root needed, no network traffic.
#include "lab/netns/exec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>

namespace mipsec::lab {
namespace {

using ::testing::HasSubstr;

// Gone, or a zombie waiting for an init that may never reap it.
bool ProcessGone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(stat, line)) return true;
  auto paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'Z';
}

std::chrono::milliseconds Since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               t);
}

TEST(NetnsExecTest, CapturesOutputAndExitCode) {
  auto r = ExecInNetns(-1, {"sh", "-c", "echo out; echo err >&2; exit 3"});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->term_signal, 0);
  EXPECT_FALSE(r->timed_out);
  EXPECT_FALSE(r->Success());
  EXPECT_EQ(r->out, "out\n");
  EXPECT_EQ(r->err, "err\n");
  EXPECT_EQ(r->Describe(), "exit 3");
}

TEST(NetnsExecTest, Success) {
  auto r = ExecInNetns(-1, {"true"});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_TRUE(r->Success());
  EXPECT_EQ(r->Describe(), "exit 0");
}

TEST(NetnsExecTest, LargeOutputIsComplete) {
  // More than a pipe buffer (64 KiB), so the loop must read while it runs.
  auto r = ExecInNetns(-1, {"sh", "-c",
                            "i=0; while [ $i -lt 20000 ]; do echo 0123456789; "
                            "i=$((i+1)); done"});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_TRUE(r->Success());
  EXPECT_EQ(r->out.size(), 20000u * 11u);
}

TEST(NetnsExecTest, FeedsStdin) {
  ExecOptions opts;
  opts.stdin_data = std::string(100000, 'x') + "\nend\n";
  auto r = ExecInNetns(-1, {"wc", "-c"}, opts);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(std::stoul(r->out), opts.stdin_data.size());
}

TEST(NetnsExecTest, ChildIgnoringStdinDoesNotHurt) {
  ExecOptions opts;
  opts.stdin_data = std::string(1 << 20, 'x');  // more than the socket buffer
  auto r = ExecInNetns(-1, {"true"}, opts);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_TRUE(r->Success());
}

TEST(NetnsExecTest, NoStdinMeansDevNull) {
  auto r = ExecInNetns(-1, {"cat"});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_TRUE(r->Success());
  EXPECT_EQ(r->out, "");
}

TEST(NetnsExecTest, TimeoutKillsTheWholeGroup) {
  ExecOptions opts;
  opts.timeout = Duration::Millis(300);
  auto start = std::chrono::steady_clock::now();
  // The shell's background child is in the same process group; it writes its
  // pid so we can check it died too.
  auto r = ExecInNetns(-1, {"sh", "-c", "sleep 30 & echo $!; wait"}, opts);
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_TRUE(r->timed_out);
  EXPECT_FALSE(r->Success());
  EXPECT_EQ(r->Describe(), "timed out");
  EXPECT_EQ(r->term_signal, SIGKILL);
  EXPECT_LT(Since(start).count(), 3000);
  pid_t bg = static_cast<pid_t>(std::stol(r->out));
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    gone = ProcessGone(bg);
    if (!gone) ::usleep(20'000);
  }
  EXPECT_TRUE(gone) << "background sleep " << bg << " survived the timeout";
}

TEST(NetnsExecTest, ReportsSignal) {
  auto r = ExecInNetns(-1, {"sh", "-c", "kill -TERM $$"});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->term_signal, SIGTERM);
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_EQ(r->Describe(), "signal 15");
}

TEST(NetnsExecTest, UnknownCommandIsAnError) {
  auto r = ExecInNetns(-1, {"mipsec-no-such-command-xyz"});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kNotFound);
  EXPECT_THAT(r.error().detail(), HasSubstr("mipsec-no-such-command-xyz"));
  EXPECT_FALSE(ExecInNetns(-1, {}).ok());
}

TEST(NetnsExecTest, BadNamespaceFdIsAnError) {
  // An fd that is not a namespace: setns fails in the child, reported here.
  int fd = ::dup(STDIN_FILENO);
  ASSERT_GE(fd, 0);
  auto r = ExecInNetns(fd, {"true"});
  ::close(fd);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code(), Errc::kSystem);
  EXPECT_THAT(r.error().detail(), HasSubstr("setns for true"));
}

TEST(NetnsExecTest, FindExecutable) {
  auto sh = FindExecutable("sh");
  ASSERT_TRUE(sh.ok());
  EXPECT_EQ(sh->front(), '/');
  EXPECT_TRUE(FindExecutable("/bin/sh").ok());
  EXPECT_FALSE(FindExecutable("/etc/passwd").ok());
  EXPECT_FALSE(FindExecutable("").ok());
  EXPECT_EQ(JoinArgv({"ip", "link", "set", "lo", "up"}), "ip link set lo up");
}

TEST(NetnsSpawnTest, StopCollectsOutput) {
  auto c = SpawnInNetns(-1, {"sh", "-c", "echo started; echo e >&2; exec sleep 30"});
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  Child& child = **c;
  EXPECT_GT(child.pid(), 0);
  EXPECT_TRUE(child.Running());
  for (int i = 0; i < 200 && child.Stdout().empty(); ++i) ::usleep(10'000);
  EXPECT_EQ(child.Stdout(), "started\n");
  auto still = child.Wait(Duration::Millis(50));
  ASSERT_FALSE(still.ok());
  EXPECT_EQ(still.error().code(), Errc::kTimeout);
  ExecResult r = child.Stop();
  EXPECT_EQ(r.term_signal, SIGTERM);
  EXPECT_EQ(r.out, "started\n");
  EXPECT_EQ(r.err, "e\n");
  EXPECT_FALSE(child.Running());
}

TEST(NetnsSpawnTest, WaitForExit) {
  auto c = SpawnInNetns(-1, {"sh", "-c", "echo done; exit 7"});
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  auto r = (*c)->Wait(Duration::Seconds(5));
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->exit_code, 7);
  EXPECT_EQ(r->out, "done\n");
}

TEST(NetnsSpawnTest, DestructorKills) {
  pid_t pid;
  {
    auto c = SpawnInNetns(-1, {"sleep", "30"});
    ASSERT_TRUE(c.ok()) << c.error().ToString();
    pid = (*c)->pid();
    EXPECT_EQ(::kill(pid, 0), 0);
  }
  // Reaped by the destructor, so the pid no longer exists.
  EXPECT_NE(::kill(pid, 0), 0);
}

TEST(NetnsSpawnTest, StopEscalatesToKill) {
  auto c = SpawnInNetns(-1, {"sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done"});
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  for (int i = 0; i < 200 && (*c)->Stdout().empty(); ++i) ::usleep(10'000);
  ExecResult r = (*c)->Stop(Duration::Millis(100));
  EXPECT_EQ(r.term_signal, SIGKILL);
}

}  // namespace
}  // namespace mipsec::lab
