#include "platform/linux/control_dispatch.h"

#include <utility>
#include <vector>

namespace mipsec::platform {
namespace {

using json = ControlJson;

std::string Dump(const json& j) {
  // Peer-supplied strings (NAIs, identities) may hold invalid UTF-8:
  // replaced, never an exception.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

Status ControlDispatcher::Register(const std::string& command,
                                   const std::string& description, Handler handler) {
  if (command.empty() || !handler) {
    return Error(Errc::kInvalidArgument, "control command: empty name or handler");
  }
  if (command == "help" || handlers_.contains(command)) {
    return Error(Errc::kAlreadyExists, "control command '" + command + "' already registered");
  }
  handlers_[command] = Entry{description, std::move(handler)};
  return Ok{};
}

std::vector<std::string> ControlDispatcher::Commands() const {
  std::vector<std::string> out;
  bool help_done = false;
  for (const auto& [name, e] : handlers_) {
    if (!help_done && name > "help") {
      out.push_back("help");
      help_done = true;
    }
    out.push_back(name);
  }
  if (!help_done) out.push_back("help");
  return out;
}

json ControlDispatcher::ErrorJson(const std::string& message, bool list_commands) const {
  json j = {{"ok", false}, {"error", message}};
  if (list_commands) j["commands"] = Commands();
  return j;
}

std::string ControlDispatcher::Respond(const std::string& request_text) {
  json req = json::parse(request_text, nullptr, /*allow_exceptions=*/false);
  if (req.is_discarded()) {
    ++errors_;
    return Dump(ErrorJson("malformed request: not JSON (expected {\"command\":\"NAME\"})", false));
  }
  if (!req.is_object()) {
    ++errors_;
    return Dump(ErrorJson("malformed request: not a JSON object (expected {\"command\":\"NAME\"})",
                          false));
  }
  auto it = req.find("command");
  if (it == req.end() || !it->is_string()) {
    ++errors_;
    return Dump(ErrorJson("malformed request: no \"command\" string", true));
  }
  const std::string command = it->get<std::string>();
  if (command == "help") {
    json list = json::array();
    list.push_back({{"command", "help"}, {"description", "this list"}});
    for (const auto& [name, e] : handlers_) {
      list.push_back({{"command", name}, {"description", e.description}});
    }
    ++requests_;
    return Dump({{"ok", true}, {"command", command}, {"data", {{"commands", list}}}});
  }
  auto h = handlers_.find(command);
  if (h == handlers_.end()) {
    ++errors_;
    std::string shown = command.size() > 64 ? command.substr(0, 64) + "..." : command;
    return Dump(ErrorJson("unknown command '" + shown + "'", true));
  }
  Result<json> data = h->second.handler(req);
  if (!data.ok()) {
    ++errors_;
    return Dump(ErrorJson(command + ": " + data.error().detail(), false));
  }
  ++requests_;
  return Dump({{"ok", true}, {"command", command}, {"data", std::move(data).value()}});
}

std::string ControlDispatcher::ErrorLine(const std::string& message) const {
  return Dump(ErrorJson(message, false));
}

}  // namespace mipsec::platform
