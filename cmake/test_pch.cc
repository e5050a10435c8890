// Anchor for the shared precompiled test header (see mipsec_test()).
