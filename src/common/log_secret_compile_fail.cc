// Must NOT compile: the ctest `log_refuses_secret` runs the compiler on this
// file and passes only if compilation fails with the logger's message
// "key material must never be logged". If it ever compiles, key material
// could reach a log line.
#include "common/log.h"
#include "common/secret.h"

void LogAKey(const mipsec::Logger& log) {
  mipsec::SecretBytes key(16);
  MIPSEC_LOG(log, kInfo) << "key is " << key;
}
