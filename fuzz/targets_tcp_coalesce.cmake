# TCP receive coalescing fuzz target (included by fuzz/CMakeLists.txt).
#   fuzz_tcp_coalesce: common/ip/tcp_coalesce.h on packet lists.
list(APPEND MIPSEC_FUZZ_TARGETS tcp_coalesce)

# Regenerates fuzz/corpus/tcp_coalesce/:
#   build/<dir>/fuzz/fuzz_tcp_coalesce_gen_corpus fuzz/corpus
add_executable(fuzz_tcp_coalesce_gen_corpus fuzz_tcp_coalesce.cc)
target_compile_definitions(fuzz_tcp_coalesce_gen_corpus PRIVATE MIPSEC_TCP_COALESCE_GEN_CORPUS)
target_link_libraries(fuzz_tcp_coalesce_gen_corpus PRIVATE common)
