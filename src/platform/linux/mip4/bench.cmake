# `mipsec bench reg`: the registration load generator (issue 4 item 9).
# Linked into `mipsec` by src/cli/CMakeLists.txt when this target exists.
mipsec_library(mip4_reg_load
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/reg_load.cc
  DEPS common config crypto mip4_codec mip4_security platform_linux)

# The request builder and reply matcher against the real HomeAgent core and
# the config parser (no sockets).
mipsec_test(mip4_reg_load_test
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/reg_load_test.cc
  DEPS mip4_reg_load mip4_ha)

# End to end (root: a private network namespace): `mipsec bench reg` spawns
# `mipsec ha` with 200 generated mobile nodes, every request is answered
# with code 0 and nothing is lost. Skipped (77) when not root.
if(MIPSEC_BUILD_TESTS)
  add_test(NAME mipsec_bench_reg_spawn_ha
    COMMAND sh -c "[ \"$(id -u)\" = 0 ] || exit 77; exec $<TARGET_FILE:mipsec> bench reg --spawn-ha --mobile-nodes 200 --duration 1s")
  set_tests_properties(mipsec_bench_reg_spawn_ha PROPERTIES LABELS root SKIP_RETURN_CODE 77 TIMEOUT 120
    PASS_REGULAR_EXPRESSION "refreshes: [0-9.]+ s, sent [1-9][0-9]* [^\n]*, denied 0, resync 0, lost 0 \\(0.000%\\), late 0, mismatched 0, unexpected 0, malformed 0, authenticators verified [1-9][0-9]* \\(failed 0\\).*stopped: exit 0")
endif()
