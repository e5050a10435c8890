# ESP data plane (src/esp): decapsulation of arbitrary bytes against fixed
# SAs, with RFC 3948 port-4500 classification. Seeds: fuzz_esp_gen_corpus.
if(TARGET esp)
  list(APPEND MIPSEC_FUZZ_TARGETS esp_decap)
  set(MIPSEC_FUZZ_LIBS_esp_decap esp)
  add_executable(fuzz_esp_gen_corpus fuzz_esp_gen_corpus.cc)
  target_link_libraries(fuzz_esp_gen_corpus PRIVATE esp)
endif()
