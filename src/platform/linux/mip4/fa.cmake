# mip4_fa_daemon: `mipsec fa`, the foreign agent daemon (fa_daemon.h), and
# its tests.
mipsec_library(mip4_fa_daemon
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fa_daemon.cc
  DEPS mip4_linux mip4_fa mip4_security config crypto platform_linux platform_control common)

if(MIPSEC_BUILD_TESTS)
  # The command line: help documents the options; a bad config names file,
  # line and key and exits 1 before anything is opened; so does an
  # interface that does not exist (no privileges needed for either).
  set(_fa_dir ${CMAKE_CURRENT_BINARY_DIR}/fa_cli)
  file(MAKE_DIRECTORY ${_fa_dir})
  file(WRITE ${_fa_dir}/bad_key.toml
    "[foreign_agent]\nadvertisement_interval = \"1s\"\ncolour = \"blue\"\n")
  file(WRITE ${_fa_dir}/no_such_link.toml
    "[[interface]]\nname = \"mipsecnolink0\"\naddress = \"10.20.0.1/24\"\n"
    "care_of_addresses = [\"10.20.0.1\"]\n")
  add_test(NAME cli_fa_help COMMAND $<TARGET_FILE:mipsec> fa --help)
  set_tests_properties(cli_fa_help PROPERTIES LABELS unit
    PASS_REGULAR_EXPRESSION "foreign agent.*--config.*--log-level")
  add_test(NAME cli_fa_requires_config COMMAND $<TARGET_FILE:mipsec> fa)
  set_tests_properties(cli_fa_requires_config PROPERTIES LABELS unit WILL_FAIL TRUE)
  add_test(NAME cli_fa_bad_config_exits_1
    COMMAND sh -c "$<TARGET_FILE:mipsec> fa --config ${_fa_dir}/bad_key.toml; test $? -eq 1")
  set_tests_properties(cli_fa_bad_config_exits_1 PROPERTIES LABELS unit)
  add_test(NAME cli_fa_bad_config_names_the_key
    COMMAND sh -c "$<TARGET_FILE:mipsec> fa --config ${_fa_dir}/bad_key.toml 2>&1; true")
  set_tests_properties(cli_fa_bad_config_names_the_key PROPERTIES LABELS unit
    PASS_REGULAR_EXPRESSION "bad_key.toml:3: foreign_agent.colour: unknown key")
  add_test(NAME cli_fa_missing_config_file
    COMMAND sh -c "$<TARGET_FILE:mipsec> fa --config ${_fa_dir}/absent.toml 2>&1; test $? -eq 1 && echo exit-1")
  set_tests_properties(cli_fa_missing_config_file PROPERTIES LABELS unit
    PASS_REGULAR_EXPRESSION "absent.toml.*exit-1")
  add_test(NAME cli_fa_unknown_interface
    COMMAND sh -c "$<TARGET_FILE:mipsec> fa --config ${_fa_dir}/no_such_link.toml 2>&1; test $? -eq 1 && echo exit-1")
  set_tests_properties(cli_fa_unknown_interface PROPERTIES LABELS unit
    PASS_REGULAR_EXPRESSION "interface\\[0\\]\\.name: no link named mipsecnolink0.*exit-1")
  add_test(NAME cli_fa_bad_log_level
    COMMAND sh -c "$<TARGET_FILE:mipsec> fa --config ${CMAKE_CURRENT_BINARY_DIR}/fa_cli/no_such_link.toml --log-level loud 2>&1; test $? -eq 1 && echo exit-1")
  set_tests_properties(cli_fa_bad_log_level PROPERTIES LABELS unit
    PASS_REGULAR_EXPRESSION "--log-level: unknown level 'loud'.*exit-1")
endif()

# The real `mipsec fa` in namespaces: advertisements, solicitations, relaying
# to a home agent played by the test, the visitor's route and rule, clean exit.
mipsec_test(mip4_fa_daemon_root_test ROOT TIMEOUT 60
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/fa_daemon_root_test.cc
  DEPS mip4_fa_daemon mip4_codec mip4_ha testing_netns testing_fakes nlohmann_json::nlohmann_json)
target_compile_definitions(mip4_fa_daemon_root_test PRIVATE
  MIPSEC_BINARY="$<TARGET_FILE:mipsec>")
add_dependencies(mip4_fa_daemon_root_test mipsec)
