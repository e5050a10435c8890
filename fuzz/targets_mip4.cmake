# Mobile IPv4 codec fuzz targets (src/mip4/codec). Seeds in
# corpus/mip4_registration and corpus/mip4_agent_adv are our encoder's output,
# checked by mip4_codec_test (SeedCorpusTest), which also regenerates them.
list(APPEND MIPSEC_FUZZ_TARGETS mip4_registration mip4_agent_adv)
set(MIPSEC_FUZZ_LIBS_mip4_registration mip4_codec)
set(MIPSEC_FUZZ_LIBS_mip4_agent_adv mip4_codec)

# The home agent's ICMP input (HomeAgent::OnIcmp: RFC 2003 5.1 tunnel MTU
# soft state). Its seeds in corpus/mip4_ha_icmp are parameter records: the
# target builds the valid messages itself (see fuzz_mip4_ha_icmp.cc).
list(APPEND MIPSEC_FUZZ_TARGETS mip4_ha_icmp)
set(MIPSEC_FUZZ_LIBS_mip4_ha_icmp mip4_ha crypto)
