// ControlDispatcher: the request side of the control socket
// (control_server.h) without any I/O: commands registered by name, one
// request text in, one response line out. ControlServer owns one; the fuzz
// target fuzz/fuzz_control_request.cc drives one directly, since the request
// is the daemon's only parser of operator input.
//
//   {"command":"bindings"}  ->  {"ok":true,"command":"bindings","data":{...}}
//   anything else           ->  {"ok":false,"error":"...",["commands":[...]]}
//
// "help" is built in (every command with its one-line description). Unknown
// commands and requests without a "command" string get the list of
// commands. The response is always one line of valid JSON (strings that are
// not UTF-8 are replaced, never an exception).
#ifndef MIPSEC_PLATFORM_LINUX_CONTROL_DISPATCH_H_
#define MIPSEC_PLATFORM_LINUX_CONTROL_DISPATCH_H_

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace mipsec::platform {

// Objects keep their keys in insertion order, so a handler decides the
// order of fields and columns in `mipsec ctl`'s output.
using ControlJson = nlohmann::ordered_json;

class ControlDispatcher {
 public:
  // The "data" of a successful response; an Error is sent as ok:false with
  // "<command>: <detail>". `request` is the whole request object (handlers
  // may read options from it, e.g. "limit").
  using Handler = std::function<Result<ControlJson>(const ControlJson& request)>;

  // kAlreadyExists for a name already registered (and "help");
  // kInvalidArgument for an empty name or handler.
  Status Register(const std::string& command, const std::string& description, Handler handler);
  // Registered command names, sorted ("help" included).
  std::vector<std::string> Commands() const;

  // The response line (no newline) for one request text.
  std::string Respond(const std::string& request_text);
  // A response line for an error the transport found (e.g. too large).
  std::string ErrorLine(const std::string& message) const;

  std::uint64_t requests() const { return requests_; }  // answered ok:true
  std::uint64_t errors() const { return errors_; }      // answered ok:false
  void CountError() { ++errors_; }

 private:
  struct Entry {
    std::string description;
    Handler handler;
  };
  ControlJson ErrorJson(const std::string& message, bool list_commands) const;

  std::map<std::string, Entry> handlers_;
  std::uint64_t requests_ = 0;
  std::uint64_t errors_ = 0;
};

}  // namespace mipsec::platform

#endif  // MIPSEC_PLATFORM_LINUX_CONTROL_DISPATCH_H_
