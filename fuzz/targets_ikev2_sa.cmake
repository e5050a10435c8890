# IKE SA layer fuzz target (included by fuzz/CMakeLists.txt).
#   fuzz_ikev2_sa: a deterministic responder IkeSaManager (PSK, CP from a
#   TiaPool) fed datagram sequences; seeds replay real exchanges of our
#   initiator (see fuzz_ikev2_sa.cc).
list(APPEND MIPSEC_FUZZ_TARGETS ikev2_sa)
set(MIPSEC_FUZZ_LIBS_ikev2_sa ikev2_sa)

# Regenerates fuzz/corpus/ikev2_sa/ with our initiator:
#   build/<dir>/fuzz/fuzz_ikev2_sa_gen_corpus fuzz/corpus
add_executable(fuzz_ikev2_sa_gen_corpus fuzz_ikev2_sa.cc)
target_compile_definitions(fuzz_ikev2_sa_gen_corpus PRIVATE MIPSEC_IKEV2_SA_GEN_CORPUS)
target_link_libraries(fuzz_ikev2_sa_gen_corpus PRIVATE ikev2_sa common)
