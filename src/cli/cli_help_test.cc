// `--help` documents every option: the test builds the same CLI11 tree as
// main.cc (the subcommands' Add* functions), walks every subcommand and every
// option in it, and checks against the real program that
//   - `mipsec <sub> [<sub>...] --help` exits 0,
//   - every option has a description and is not hidden (empty group),
//   - every option's names (--long, -s) appear in that help text.
// The option list comes from CLI11, so a new option is checked without
// touching this test; a new subcommand is added to kCommands below.
#include <sys/wait.h>

#include <cstdio>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli/commands.h"

#ifndef MIPSEC_BINARY
#error "MIPSEC_BINARY must name the mipsec program"
#endif

namespace mipsec::cli {
namespace {

struct Help {
  int exit_code = -1;
  std::string out;
};

Help RunHelp(const std::vector<std::string>& path) {
  std::string cmd = MIPSEC_BINARY;
  for (const std::string& p : path) cmd += " " + p;
  cmd += " --help 2>&1";
  Help h;
  FILE* f = popen(cmd.c_str(), "r");
  if (f == nullptr) return h;
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) h.out.append(buf, n);
  const int status = pclose(f);
  h.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return h;
}

std::string Joined(const std::vector<std::string>& path) {
  std::string s = "mipsec";
  for (const std::string& p : path) s += " " + p;
  return s;
}

int Walk(CLI::App& app, const std::vector<std::string>& path) {
  int checked = 0;
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    std::vector<std::string> p = path;
    p.push_back(sub->get_name());
    const Help h = RunHelp(p);
    EXPECT_EQ(h.exit_code, 0) << Joined(p) << " --help\n" << h.out;
    EXPECT_FALSE(sub->get_description().empty()) << Joined(p) << ": no description";
    for (const CLI::Option* opt : sub->get_options()) {
      if (opt == sub->get_help_ptr() || opt == sub->get_help_all_ptr()) continue;
      const std::string who = Joined(p) + " " + opt->get_name();
      EXPECT_FALSE(opt->get_description().empty()) << who << ": no description";
      EXPECT_FALSE(opt->get_group().empty()) << who << ": hidden from --help";
      std::vector<std::string> names;
      for (const std::string& l : opt->get_lnames()) names.push_back("--" + l);
      for (const std::string& s : opt->get_snames()) names.push_back("-" + s);
      if (names.empty()) names.push_back(opt->get_name());  // positional
      for (const std::string& n : names) {
        EXPECT_NE(h.out.find(n), std::string::npos) << who << ": " << n << " not in --help\n"
                                                    << h.out;
      }
      ++checked;
    }
    checked += Walk(*sub, p);
  }
  return checked;
}

TEST(CliHelpTest, EverySubcommandDocumentsEveryOption) {
  CLI::App app{"mipsec", "mipsec"};
  // As main.cc registers them.
  (void)AddDemo(app);
  (void)AddHa(app);
  (void)AddFa(app);
  (void)AddBench(app);
  (void)AddGw(app);
  (void)AddVpn(app);
  (void)AddMn(app);
  (void)AddProbe(app);
  const Help top = RunHelp({});
  EXPECT_EQ(top.exit_code, 0) << top.out;
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    EXPECT_NE(top.out.find(sub->get_name()), std::string::npos)
        << "mipsec --help does not list " << sub->get_name();
  }
  const int checked = Walk(app, {});
  EXPECT_GT(checked, 20) << "options checked";
  std::printf("checked %d options\n", checked);
}

}  // namespace
}  // namespace mipsec::cli
