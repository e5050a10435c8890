// Fuzz target: the control socket's request dispatch
// (platform/linux/control_dispatch.h), the daemons' parser of what
// `mipsec ctl` (or anyone allowed on the socket) sends.
//
// Properties: any input gets exactly one response line that is a JSON
// object with a boolean "ok"; ok:false carries an "error" string; ok:true
// names a registered command; a handler runs only for its own command;
// nothing throws.
#include <string>

#include "fuzz_target.h"
#include "platform/linux/control_dispatch.h"

using namespace mipsec;  // NOLINT: a fuzz target, not library code
using platform::ControlJson;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static platform::ControlDispatcher* d = [] {
    auto* p = new platform::ControlDispatcher;
    (void)p->Register("echo", "the request back",
                      [](const ControlJson& req) -> Result<ControlJson> {
                        return ControlJson{{"request", req}};
                      });
    (void)p->Register("fail", "an error", [](const ControlJson&) -> Result<ControlJson> {
      return Error(Errc::kState, "nothing to show");
    });
    (void)p->Register("limit", "reads an option",
                      [](const ControlJson& req) -> Result<ControlJson> {
                        auto it = req.find("limit");
                        if (it == req.end() || !it->is_number_unsigned()) {
                          return Error(Errc::kInvalidArgument, "no limit");
                        }
                        return ControlJson{{"limit", it->get<std::uint64_t>()}};
                      });
    return p;
  }();
  const std::string in(reinterpret_cast<const char*>(data), size);
  const std::string out = d->Respond(in);
  FUZZ_CHECK(!out.empty());
  FUZZ_CHECK(out.find('\n') == std::string::npos);
  ControlJson r = ControlJson::parse(out, nullptr, /*allow_exceptions=*/false);
  FUZZ_CHECK(!r.is_discarded());
  FUZZ_CHECK(r.is_object());
  auto ok = r.find("ok");
  FUZZ_CHECK(ok != r.end() && ok->is_boolean());
  if (ok->get<bool>()) {
    auto cmd = r.find("command");
    FUZZ_CHECK(cmd != r.end() && cmd->is_string());
    const std::string c = cmd->get<std::string>();
    FUZZ_CHECK(c == "echo" || c == "limit" || c == "help");
    FUZZ_CHECK(r.contains("data"));
  } else {
    auto err = r.find("error");
    FUZZ_CHECK(err != r.end() && err->is_string());
  }
  return 0;
}
