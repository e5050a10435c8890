// A libFuzzer-compatible driver that needs no libFuzzer: it replays a seed
// corpus and then N deterministic pseudo-random mutations of it, so that the
// regular test suite (also under ASan+UBSan) runs every decoder on malformed
// input. It does not search for coverage; `-DMIPSEC_LIBFUZZER=ON` does.
//
//   fuzz_<target> [--runs=N] [--seed=S] [--max-len=L] [--only=I] PATH...
//
// PATH is a corpus directory (every regular file in it, in name order) or a
// single file. Defaults: 20000 runs, seed 1, max length 4096; the
// environment variables MIPSEC_FUZZ_RUNS and MIPSEC_FUZZ_SEED override the
// defaults, and flags override both. Inputs are numbered: the seeds first
// (0 .. seeds-1), then the mutations. The sequence depends only on the seed
// files, --seed and --max-len, so `--only=I` replays input I alone (and
// prints it as hex first) to reproduce a failure.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/random.h"
#include "fuzz_target.h"

namespace {

using Input = std::vector<std::uint8_t>;

struct Options {
  std::uint64_t runs = 20000;
  std::uint64_t seed = 1;
  std::size_t max_len = 4096;
  std::optional<std::uint64_t> only;
  std::vector<std::string> paths;
};

[[noreturn]] void Usage(const char* argv0, const std::string& why) {
  std::fprintf(stderr,
               "%s: %s\nusage: %s [--runs=N] [--seed=S] [--max-len=L] [--only=I] "
               "CORPUS_DIR_OR_FILE...\n",
               argv0, why.c_str(), argv0);
  std::exit(2);
}

std::optional<std::uint64_t> ParseU64(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

Options ParseArgs(int argc, char** argv) {
  Options o;
  if (const char* e = std::getenv("MIPSEC_FUZZ_RUNS")) {
    if (auto v = ParseU64(e)) o.runs = *v;
  }
  if (const char* e = std::getenv("MIPSEC_FUZZ_SEED")) {
    if (auto v = ParseU64(e)) o.seed = *v;
  }
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto flag = [&](std::string_view name) -> std::optional<std::uint64_t> {
      if (a.substr(0, name.size()) != name) return std::nullopt;
      std::optional<std::uint64_t> v = ParseU64(a.substr(name.size()));
      if (!v) Usage(argv[0], "bad value in " + std::string(a));
      return v;
    };
    if (auto v = flag("--runs=")) {
      o.runs = *v;
    } else if (auto s = flag("--seed=")) {
      o.seed = *s;
    } else if (auto m = flag("--max-len=")) {
      o.max_len = std::max<std::uint64_t>(*m, 1);
    } else if (auto only = flag("--only=")) {
      o.only = *only;
    } else if (a.substr(0, 1) == "-") {
      Usage(argv[0], "unknown flag " + std::string(a));
    } else {
      o.paths.emplace_back(a);
    }
  }
  return o;
}

Input ReadFile(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  return Input(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::vector<Input> LoadSeeds(const std::vector<std::string>& paths, const char* argv0) {
  std::vector<Input> seeds;
  for (const std::string& path : paths) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
      std::vector<std::filesystem::path> files;
      for (const auto& e : std::filesystem::directory_iterator(path, ec)) {
        if (e.is_regular_file()) files.push_back(e.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& f : files) seeds.push_back(ReadFile(f));
    } else if (std::filesystem::is_regular_file(path, ec)) {
      seeds.push_back(ReadFile(path));
    } else {
      Usage(argv0, "no such corpus file or directory: " + path);
    }
  }
  return seeds;
}

// Values that tend to sit on boundaries of length and type fields.
constexpr std::uint8_t kInteresting8[] = {0x00, 0x01, 0x04, 0x05, 0x06, 0x0f, 0x10, 0x11,
                                          0x14, 0x40, 0x45, 0x4f, 0x7f, 0x80, 0xfe, 0xff};
constexpr std::uint16_t kInteresting16[] = {0x0000, 0x0001, 0x0007, 0x0008, 0x0013, 0x0014,
                                            0x0015, 0x001c, 0x003c, 0x0100, 0x05dc, 0x7fff,
                                            0x8000, 0xfffe, 0xffff};

class Mutator {
 public:
  Mutator(std::uint64_t seed, std::size_t max_len) : rng_(seed), max_len_(max_len) {}

  Input Next(const std::vector<Input>& seeds) {
    Input in = seeds.empty() ? Input() : seeds[Pick(seeds.size())];
    const int n = 1 + static_cast<int>(Pick(4));
    for (int i = 0; i < n; ++i) MutateOnce(in, seeds);
    if (in.size() > max_len_) in.resize(max_len_);
    return in;
  }

 private:
  std::size_t Pick(std::size_t bound) {
    return bound == 0 ? 0 : rng_.Uniform(static_cast<std::uint32_t>(bound));
  }

  void MutateOnce(Input& in, const std::vector<Input>& seeds) {
    switch (Pick(10)) {
      case 0:  // flip one bit
        if (!in.empty()) in[Pick(in.size())] ^= static_cast<std::uint8_t>(1u << Pick(8));
        break;
      case 1:  // random byte
        if (!in.empty()) in[Pick(in.size())] = static_cast<std::uint8_t>(rng_.U32());
        break;
      case 2:  // interesting byte
        if (!in.empty()) in[Pick(in.size())] = kInteresting8[Pick(std::size(kInteresting8))];
        break;
      case 3:  // interesting big-endian 16-bit value (lengths, ports, MTUs)
        if (in.size() >= 2) {
          const std::size_t at = Pick(in.size() - 1);
          const std::uint16_t v = kInteresting16[Pick(std::size(kInteresting16))];
          in[at] = static_cast<std::uint8_t>(v >> 8);
          in[at + 1] = static_cast<std::uint8_t>(v);
        }
        break;
      case 4: {  // insert random bytes
        const std::size_t at = Pick(in.size() + 1);
        Input extra(1 + Pick(16));
        rng_.Fill(extra);
        in.insert(in.begin() + static_cast<std::ptrdiff_t>(at), extra.begin(), extra.end());
        break;
      }
      case 5:  // erase a range
        if (!in.empty()) {
          const std::size_t at = Pick(in.size());
          const std::size_t n = 1 + Pick(std::min<std::size_t>(in.size() - at, 16));
          in.erase(in.begin() + static_cast<std::ptrdiff_t>(at),
                   in.begin() + static_cast<std::ptrdiff_t>(at + n));
        }
        break;
      case 6:  // truncate
        in.resize(Pick(in.size() + 1));
        break;
      case 7:  // duplicate a range in place
        if (!in.empty()) {
          const std::size_t at = Pick(in.size());
          const std::size_t n = 1 + Pick(std::min<std::size_t>(in.size() - at, 32));
          Input copy(in.begin() + static_cast<std::ptrdiff_t>(at),
                     in.begin() + static_cast<std::ptrdiff_t>(at + n));
          in.insert(in.begin() + static_cast<std::ptrdiff_t>(Pick(in.size() + 1)), copy.begin(),
                    copy.end());
        }
        break;
      case 8:  // splice: a prefix of this, a suffix of another seed
        if (!seeds.empty()) {
          const Input& other = seeds[Pick(seeds.size())];
          in.resize(Pick(in.size() + 1));
          const std::size_t from = Pick(other.size() + 1);
          in.insert(in.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
        }
        break;
      default:  // increment / decrement a byte (off-by-one lengths)
        if (!in.empty()) {
          std::uint8_t& b = in[Pick(in.size())];
          b = static_cast<std::uint8_t>(Pick(2) == 0 ? b + 1 : b - 1);
        }
        break;
    }
  }

  mipsec::DeterministicRandom rng_;
  std::size_t max_len_;
};

void Run(const Input& in) {
  // An exactly-sized heap copy (also for an empty input): one byte past the
  // end is outside the allocation, so ASan reports any over-read.
  std::unique_ptr<std::uint8_t[]> buf(new std::uint8_t[in.size()]);
  if (!in.empty()) std::memcpy(buf.get(), in.data(), in.size());
  LLVMFuzzerTestOneInput(buf.get(), in.size());
}

void PrintHex(const Input& in) {
  for (std::uint8_t b : in) std::fprintf(stderr, "%02x", b);
  std::fprintf(stderr, "\n");
}

}  // namespace

int main(int argc, char** argv) {
  const Options o = ParseArgs(argc, argv);
  if (o.paths.empty()) Usage(argv[0], "give at least one corpus directory or file");
  const std::vector<Input> seeds = LoadSeeds(o.paths, argv[0]);
  const auto start = std::chrono::steady_clock::now();

  Mutator mutator(o.seed, o.max_len);
  const std::uint64_t total = seeds.size() + o.runs;
  for (std::uint64_t i = 0; i < total; ++i) {
    Input in = i < seeds.size() ? seeds[i] : mutator.Next(seeds);
    if (o.only && *o.only > i) continue;  // generated, to keep the sequence
    if (o.only && *o.only < i) break;
    if (o.only) {
      std::fprintf(stderr, "input %llu (%zu bytes): ", static_cast<unsigned long long>(i),
                   in.size());
      PrintHex(in);
    }
    Run(in);
  }
  if (o.only && *o.only >= total) {
    std::fprintf(stderr, "no input %llu: there are %llu\n",
                 static_cast<unsigned long long>(*o.only), static_cast<unsigned long long>(total));
    return 2;
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (o.only) {
    std::printf("%s: input %llu ran in %.3f s, no failure\n", argv[0],
                static_cast<unsigned long long>(*o.only), secs);
    return 0;
  }
  std::printf("%s: %zu seeds + %llu mutations (seed %llu) in %.2f s, no failure\n", argv[0],
              seeds.size(), static_cast<unsigned long long>(o.runs),
              static_cast<unsigned long long>(o.seed), secs);
  return 0;
}
