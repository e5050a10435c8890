# mip4_ha_daemon: `mipsec ha`, the home agent daemon (ha_daemon.h).
mipsec_library(mip4_ha_daemon
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/ha_daemon.cc
  DEPS mip4_linux mip4_ha mip4_codec crypto platform_linux platform_control config)

# The real `mipsec ha` in a namespace, with a mobile node in another one
# registering over a real UDP socket (root).
mipsec_test(ha_daemon_root_test ROOT TIMEOUT 60
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/ha_daemon_root_test.cc
  DEPS mip4_linux mip4_mn_reg mip4_codec testing_netns nlohmann_json::nlohmann_json)
# (src/cli is added after this directory: the generator expression and the
# dependency resolve at generate time.)
target_compile_definitions(ha_daemon_root_test PRIVATE MIPSEC_BINARY="$<TARGET_FILE:mipsec>")
add_dependencies(ha_daemon_root_test mipsec)

# The command line (no privileges): help, and a bad config exits 1 naming
# file, line and key before opening anything.
if(MIPSEC_BUILD_TESTS)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/ha_bad.toml
    "[home_agent]\naddress = \"192.0.2.1\"\nhome_network = \"192.0.2.0/24\"\ninterface = \"eth1\"\nmax_lifetime = \"0s\"\n")
  add_test(NAME cli_ha_help COMMAND $<TARGET_FILE:mipsec> ha --help)
  set_tests_properties(cli_ha_help PROPERTIES LABELS unit
    PASS_REGULAR_EXPRESSION "--config.*--log-level.*SIGTERM")
  add_test(NAME cli_ha_bad_config_exits_1
    COMMAND $<TARGET_FILE:mipsec> ha --config ${CMAKE_CURRENT_BINARY_DIR}/ha_bad.toml)
  set_tests_properties(cli_ha_bad_config_exits_1 PROPERTIES LABELS unit WILL_FAIL TRUE)
  add_test(NAME cli_ha_bad_config_names_key
    COMMAND sh -c "$<TARGET_FILE:mipsec> ha --config ${CMAKE_CURRENT_BINARY_DIR}/ha_bad.toml 2>&1; echo exit=$?")
  set_tests_properties(cli_ha_bad_config_names_key PROPERTIES LABELS unit
    PASS_REGULAR_EXPRESSION "ha_bad.toml:5: home_agent.max_lifetime: .*exit=1")
  add_test(NAME cli_ha_missing_config_file
    COMMAND sh -c "$<TARGET_FILE:mipsec> ha --config /nonexistent/ha.toml 2>&1; echo exit=$?")
  set_tests_properties(cli_ha_missing_config_file PROPERTIES LABELS unit
    PASS_REGULAR_EXPRESSION "/nonexistent/ha.toml.*exit=1")
endif()

# SIGHUP: the real `mipsec ha` reloads its file without dropping bindings
# (added, re-keyed and removed mobile nodes, a broken file) (root).
mipsec_test(ha_daemon_reload_root_test ROOT TIMEOUT 90
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/ha_daemon_reload_root_test.cc
  DEPS mip4_linux mip4_mn_reg mip4_codec testing_netns)
target_compile_definitions(ha_daemon_reload_root_test PRIVATE MIPSEC_BINARY="$<TARGET_FILE:mipsec>")
add_dependencies(ha_daemon_reload_root_test mipsec)
