# mip4_linux: the Linux glue shared by the Mobile IPv4 daemons and the MN test
# tool: agent sockets, Transmit sending (agent_io.h) and config -> core
# mapping (sa_config.h).
mipsec_library(mip4_linux
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/agent_io.cc
    ${CMAKE_CURRENT_LIST_DIR}/sa_config.cc
  DEPS platform_linux config mip4_ha mip4_fa mip4_security common)

# No privileges needed: loopback UDP, config mapping.
mipsec_test(mip4_linux_test
  SOURCES
    ${CMAKE_CURRENT_LIST_DIR}/agent_io_test.cc
    ${CMAKE_CURRENT_LIST_DIR}/sa_config_test.cc
  DEPS mip4_linux mip4_codec)

# Raw sockets (IP-in-IP, IP_HDRINCL, on-link sends): root, in a namespace.
mipsec_test(mip4_linux_root_test ROOT
  SOURCES ${CMAKE_CURRENT_LIST_DIR}/agent_io_root_test.cc
  DEPS mip4_linux testing_fakes)
