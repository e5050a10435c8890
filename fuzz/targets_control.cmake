# The control socket's request dispatch (src/platform/linux/control_dispatch.h).
# Seeds in corpus/control_request: requests `mipsec ctl` sends and malformed
# ones.
list(APPEND MIPSEC_FUZZ_TARGETS control_request)
set(MIPSEC_FUZZ_LIBS_control_request control_dispatch)
