# IKEv2 fuzz targets (included by fuzz/CMakeLists.txt).
#   fuzz_ikev2_message: outer decode + Validate + DecodeProtected, inner
#   chain decode, and the SKF reassembler (see fuzz_ikev2_message.cc).
list(APPEND MIPSEC_FUZZ_TARGETS ikev2_message)
set(MIPSEC_FUZZ_LIBS_ikev2_message ikev2_codec)

# Regenerates fuzz/corpus/ikev2_message/ with our encoder:
#   build/<dir>/fuzz/fuzz_ikev2_gen_corpus fuzz/corpus
add_executable(fuzz_ikev2_gen_corpus fuzz_ikev2_message.cc)
target_compile_definitions(fuzz_ikev2_gen_corpus PRIVATE MIPSEC_IKEV2_GEN_CORPUS)
target_link_libraries(fuzz_ikev2_gen_corpus PRIVATE ikev2_codec common)
