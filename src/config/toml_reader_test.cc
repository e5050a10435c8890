#include "config/toml_reader.h"

#include <gtest/gtest.h>

namespace mipsec::config {
namespace {

TEST(TomlReaderTest, Durations) {
  EXPECT_EQ(*ParseDurationText("110s"), Duration::Seconds(110));
  EXPECT_EQ(*ParseDurationText("30m"), Duration::Seconds(1800));
  EXPECT_EQ(*ParseDurationText("1.5s"), Duration::Millis(1500));
  EXPECT_EQ(*ParseDurationText("1h"), Duration::Seconds(3600));
  EXPECT_FALSE(ParseDurationText("110").ok());
  EXPECT_FALSE(ParseDurationText("-1s").ok());
  EXPECT_FALSE(ParseDurationText("1 s").ok());
}

TEST(TomlReaderTest, SyntaxErrorsNameFileAndLine) {
  Result<toml::table> t = ParseTomlDocument("a = 1\nb = = 2\n", "x.toml");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().detail().rfind("x.toml:2: TOML syntax: ", 0), 0u) << t.error().detail();
}

TEST(TomlReaderTest, TypedGettersReportPathAndLine) {
  Result<toml::table> doc = ParseTomlDocument(
      "[s]\nname = \"n\"\ncount = 70000\nflag = 1\nd = \"5ms\"\nlist = [\"a\", 2]\n"
      "[[arr]]\nx = 1\n",
      "t.toml");
  ASSERT_TRUE(doc.ok());
  TomlReader r("t.toml");
  const toml::table& s = *(*doc)["s"].as_table();
  EXPECT_EQ(*r.String(s, "s", "name"), "n");
  EXPECT_EQ(r.String(s, "s", "missing").error().detail(), "t.toml:1: s.missing: missing (required)");
  EXPECT_EQ(r.OptInt(s, "s", "count", 0, 65535).error().detail(),
            "t.toml:3: s.count: 70000 is outside 0..65535");
  EXPECT_EQ(r.OptBool(s, "s", "flag").error().detail(), "t.toml:4: s.flag: must be true or false");
  EXPECT_EQ(**r.OptDuration(s, "s", "d"), Duration::Millis(5));
  EXPECT_EQ(r.StringOrList(s, "s", "list").error().detail(),
            "t.toml:6: s.list: must be a list of strings");
  EXPECT_EQ(r.CheckKeys(s, "s", {"name", "count", "flag", "d"}).error().detail(),
            "t.toml:6: s.list: unknown key (expected one of: name, count, flag, d)");
  EXPECT_EQ(r.Tables(*doc, "", "arr")->size(), 1u);
  EXPECT_FALSE(r.Tables(*doc, "", "s").ok());
  EXPECT_EQ(*r.OptTable(*doc, "", "nothing"), nullptr);
  EXPECT_FALSE(r.OptTable(s, "s", "name").ok());
}

}  // namespace
}  // namespace mipsec::config
