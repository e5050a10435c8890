# Layering rules (docs/ARCHITECTURE.md, "Layers").
#
# Product code never links test code: the shipped `mipsec` program and the
# namespace lab (src/lab, which it links) must not reach anything under
# testing/ (testing_*) or GoogleTest; mipsec_check_layering() checks that too.
#
# Protocol libraries are sans-I/O: they take bytes and time in and give bytes
# and timer requests out. They must never link the Linux platform layer.
# mipsec_protocol_library() records each one; mipsec_check_layering() fails
# the configure step if any of them reaches `platform_linux` through its
# link graph, however indirectly.

set_property(GLOBAL PROPERTY MIPSEC_PROTOCOL_LIBS "")

# mipsec_library(NAME SOURCES... [DEPS ...]) — a static library rooted at src/.
function(mipsec_library name)
  cmake_parse_arguments(ARG "PROTOCOL" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(${name} STATIC ${ARG_SOURCES})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(${name} PUBLIC ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
  if(ARG_PROTOCOL)
    set_property(GLOBAL APPEND PROPERTY MIPSEC_PROTOCOL_LIBS ${name})
  endif()
endfunction()

# The compile options of a test program's own sources, besides the
# directory's: MIPSEC_TEST_CXX_FLAGS, and GCC's false positives.
function(_mipsec_test_compile_options target)
  if(MIPSEC_TEST_CXX_FLAGS)
    separate_arguments(test_flags UNIX_COMMAND "${MIPSEC_TEST_CXX_FLAGS}")
    target_compile_options(${target} PRIVATE ${test_flags})
  endif()
  # GCC 12 at -O2 with the sanitizers reports maybe-uninitialized inside
  # libstdc++ for std::optional<std::string>/<vector> members of test
  # fixtures, which are plainly initialised (a known class of false
  # positives). Library code keeps the warning as an error.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
  endif()
endfunction()

# MIPSEC_TEST_PCH: one precompiled header of GoogleTest and GoogleMock,
# compiled once with the test programs' options and reused by every
# mipsec_test() (parsing those two headers was a third of the compile time
# of a test file at -O0). Called once from the top-level CMakeLists.txt,
# after the compile options are set and before any mipsec_test().
function(mipsec_test_pch_target)
  if(NOT MIPSEC_TEST_PCH OR NOT MIPSEC_BUILD_TESTS)
    return()
  endif()
  file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/mipsec_test_pch.cc
       CONTENT "// The source of target mipsec_test_pch (cmake/MipsecLayers.cmake).\n")
  add_library(mipsec_test_pch OBJECT ${PROJECT_BINARY_DIR}/mipsec_test_pch.cc)
  target_link_libraries(mipsec_test_pch PRIVATE GTest::gtest GTest::gmock)
  _mipsec_test_compile_options(mipsec_test_pch)
  target_precompile_headers(mipsec_test_pch PRIVATE <gtest/gtest.h> <gmock/gmock.h>)
endfunction()

# mipsec_test(NAME SOURCES... [DEPS ...] [LABELS label] [ROOT]) — one GoogleTest
# binary, registered test by test with ctest. ROOT marks tests that need root
# (namespaces, TUN): they skip cleanly when not root, and ctest shows the
# skip; under CI=true the test itself turns that skip into a failure.
function(mipsec_test name)
  cmake_parse_arguments(ARG "ROOT" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  # MIPSEC_BUILD_TESTS=OFF (the release build: the shipped programs and the
  # benchmarks): the target still exists, so that callers may configure it,
  # but is not built by default and registers no test.
  if(NOT MIPSEC_BUILD_TESTS)
    add_executable(${name} EXCLUDE_FROM_ALL ${ARG_SOURCES})
    target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
    return()
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main)
  _mipsec_test_compile_options(${name})
  if(MIPSEC_TEST_PCH)
    target_precompile_headers(${name} REUSE_FROM mipsec_test_pch)
  endif()
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  # One label per test: gtest_discover_tests cannot pass a list-valued
  # property through to the tests it discovers. `root` wins (what a test
  # needs to run matters most), then the given label, else `unit`.
  set(labels unit)
  if(ARG_LABELS)
    list(GET ARG_LABELS 0 labels)
  endif()
  if(ARG_ROOT)
    set(labels root)
  endif()
  gtest_discover_tests(${name}
    DISCOVERY_TIMEOUT 60
    PROPERTIES LABELS "${labels}" TIMEOUT ${ARG_TIMEOUT}
               SKIP_REGULAR_EXPRESSION "\\[  SKIPPED \\]")
endfunction()

function(_mipsec_link_closure target out_var)
  set(seen "")
  set(queue ${target})
  while(queue)
    list(POP_FRONT queue cur)
    if(cur IN_LIST seen OR NOT TARGET ${cur})
      continue()
    endif()
    list(APPEND seen ${cur})
    get_target_property(deps ${cur} LINK_LIBRARIES)
    get_target_property(ideps ${cur} INTERFACE_LINK_LIBRARIES)
    foreach(d IN LISTS deps ideps)
      if(d AND NOT d MATCHES "-NOTFOUND$")
        string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" d "${d}")
        list(APPEND queue ${d})
      endif()
    endforeach()
  endwhile()
  set(${out_var} ${seen} PARENT_SCOPE)
endfunction()

function(mipsec_check_layering)
  foreach(product mipsec mipsec_cli mipsec_lab)
    if(NOT TARGET ${product})
      continue()
    endif()
    _mipsec_link_closure(${product} closure)
    foreach(dep IN LISTS closure)
      if(dep MATCHES "^testing_" OR dep MATCHES "^GTest::")
        message(FATAL_ERROR
          "layering violation: product target '${product}' links test code '${dep}' "
          "(link closure: ${closure}). Nothing the shipped program links may come from "
          "testing/; see docs/ARCHITECTURE.md.")
      endif()
    endforeach()
  endforeach()
  get_property(libs GLOBAL PROPERTY MIPSEC_PROTOCOL_LIBS)
  foreach(lib IN LISTS libs)
    _mipsec_link_closure(${lib} closure)
    if(platform_linux IN_LIST closure)
      message(FATAL_ERROR
        "layering violation: protocol library '${lib}' links platform_linux "
        "(link closure: ${closure}). Protocol cores are sans-I/O; see "
        "docs/ARCHITECTURE.md.")
    endif()
  endforeach()
endfunction()
