# Thin wrapper over CMake. `make demo` and `make test` are the README's two
# commands; both install missing Debian packages first (scripts/deps.sh).
JOBS ?= $(shell nproc)
CTEST_ARGS ?=
CMAKE_GEN := -G Ninja

.PHONY: all deps release debug asan libfuzzer demo test test-release test-asan test-fuzz bench clean

all: release

deps:
	@scripts/deps.sh

# The shipped programs and the benchmarks; the test suites are built and run
# in build/asan (at -O2, under ASan+UBSan), not a second time here.
build/release/build.ninja: | deps
	cmake -S . -B build/release $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Release -DMIPSEC_BUILD_TESTS=OFF

build/debug/build.ninja: | deps
	cmake -S . -B build/debug $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=Debug

# Every test, under ASan+UBSan at -O2, compiled with clang (three times
# faster than GCC 12 here, which builds the release tree), together with the
# coverage-guided libFuzzer build of every fuzz/ target. Debug info is line
# tables only: sanitizer reports keep file:line, and each file compiles about
# 12 % faster than with full -g (measured on ike_sa_ike_rekey_test.cc and
# src/cli/vpn.cc). The test programs' own files are compiled at -O0
# (MIPSEC_TEST_CXX_FLAGS) while the libraries under test keep -O2: on a
# rebuild of every test file that took 598 s of CPU against 1603 s at -O2,
# and the suite ran in 208 s against about 170 s. The fuzz targets link the
# tree's own libraries, which MIPSEC_LIBFUZZER builds with libFuzzer's
# coverage instrumentation for the tests and the fuzzers alike (until
# 2026-12, instrumented copies of 9 libraries, 104 files, were compiled a
# second time, 391 s of CPU); the test programs share one precompiled
# header of GoogleTest/GoogleMock (MIPSEC_TEST_PCH). A clean build of this
# tree: 537 steps (648 before), 1781 s of CPU (user+sys, 2026-12-01,
# `/usr/bin/time -v cmake --build build/asan -j 2` on a loaded machine).
build/asan/build.ninja: | deps
	cmake -S . -B build/asan $(CMAKE_GEN) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" \
	  -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -gline-tables-only -DNDEBUG" \
	  -DCMAKE_CXX_COMPILER=clang++ -DMIPSEC_SANITIZE=ON -DMIPSEC_LIBFUZZER=ON \
	  -DMIPSEC_BUILD_BENCH=OFF -DMIPSEC_TEST_CXX_FLAGS=-O0 -DMIPSEC_TEST_PCH=ON

release: deps build/release/build.ninja
	cmake --build build/release -j $(JOBS)

debug: deps build/debug/build.ninja
	cmake --build build/debug -j $(JOBS)

asan: deps build/asan/build.ninja
	cmake --build build/asan -j $(JOBS)

libfuzzer: asan

# The main job.
demo: release
	build/release/src/cli/mipsec demo

# The whole suite: every test under ASan+UBSan (clang, RelWithDebInfo, -O2) first,
# then a bounded coverage-guided libFuzzer run of every decoder
# (MIPSEC_LIBFUZZER_SECONDS each, ASan+UBSan), then the release build of the
# programs and benchmarks with its smoke tests (the demo, the CLI, the fuzz
# seeds), whose ctest summary is the last line printed.
test: test-asan test-fuzz test-release

test-asan: asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --test-dir build/asan --output-on-failure -j $(JOBS) -LE libfuzzer $(CTEST_ARGS)

test-fuzz: libfuzzer
	ctest --test-dir build/asan --output-on-failure -j $(JOBS) -L libfuzzer $(CTEST_ARGS)

test-release: release
	ctest --test-dir build/release --output-on-failure -j $(JOBS) $(CTEST_ARGS)

bench: release
	@for b in build/release/bench/bench_*; do [ -x "$$b" ] && "$$b"; done

clean:
	rm -rf build
