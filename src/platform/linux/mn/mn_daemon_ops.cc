// MnDaemon's operations around the data path (mn_daemon.h): the control
// socket, the SIGHUP reload and the clean stop. Kept apart from
// mn_daemon.cc, which wires the controller to the host.
#include <utility>

#include "config/mn_config.h"
#include "platform/linux/ikev2/ike_sas_json.h"
#include "platform/linux/mn/mn_control.h"
#include "platform/linux/mn/mn_daemon.h"
#include "platform/linux/reload_report.h"

namespace mipsec::mnd {

Status MnDaemon::OpenControlSocket() {
  platform::ControlServerOptions co;
  co.path = options_.control_socket.empty() ? config_.control_socket : options_.control_socket;
  MIPSEC_ASSIGN_OR_RETURN(control_,
                          platform::ControlServer::Create(*loop_, co, log_.Child("control")));
  // The handlers run on the loop, once Init is over (controller_ and tun_
  // exist by then).
  std::function<platform::ControlJson()> ike_sas;
  if (config_.vpn) {
    // ike_ exists by the time a request is answered (after Init).
    ike_sas = [this] {
      return ike_ ? ikev2d::IkeSasJson(*ike_, loop_->Now())
                  : platform::ControlJson{{"ike_sas", 0}, {"sas", platform::ControlJson::array()}};
    };
  }
  for (MnControlCommand& c : MnControlCommands([this] { return status(); }, ike_sas)) {
    MIPSEC_TRY(control_->Register(c.name, c.description, std::move(c.handler)));
  }
  return Ok{};
}

void MnDaemon::BeginShutdown(const char* why) {
  const Timestamp now = loop_->Now();
  if (stopping_) {
    MIPSEC_LOG(log_, kNotice) << why << " again: stopping now";
    loop_->Stop();
    return;
  }
  stopping_ = true;
  MIPSEC_LOG(log_, kNotice) << why << ": deregistering, then stopping (at most "
                            << options_.shutdown_grace.ToString() << ")";
  grace_timer_ = loop_->CreateTimer([this](Timestamp) {
    MIPSEC_LOG(log_, kWarning) << "shutdown grace period over: stopping with the "
                                  "deregistration unfinished";
    loop_->Stop();
  });
  loop_->SetDeadline(grace_timer_, now + options_.shutdown_grace);
  // User data is blocked in this step; the deregistrations leave in the
  // Drain below, the VPN disconnect once they are answered (controller.h).
  controller_->Shutdown(now);
  Drain(now);  // ends with StopIfShutDown()
}

void MnDaemon::StopIfShutDown() {
  if (!controller_->shutdown_complete()) return;
  // The Drain that called this has carried out the VpnCommand kDisconnect.
  MIPSEC_LOG(log_, kNotice) << "deregistration done: stopping";
  loop_->Stop();
}

Status MnDaemon::Reload() {
  const std::string& path = options_.config_path;
  const platform::ReloadReport report(log_, path);
  MIPSEC_TRY(report.CheckPath());
  // 1. The whole file, validated (errors name file:line: key: reason).
  Result<config::MnConfig> loaded = config::LoadMnConfig(path);
  if (!loaded.ok()) return report.Failed(loaded.error());
  if (options_.log_level) loaded->log_level = *options_.log_level;
  const config::ReloadDiff diff = config::DiffMnConfig(config_, *loaded);
  config::MnConfig next = config::MergeMnReload(config_, *loaded);
  // 2. The controller takes the live settings whole, or nothing changes.
  mn::LiveSettings live;
  live.use_foreign_agents = next.use_foreign_agents;
  live.t_monitor = next.t_monitor;
  live.monitor_margin = next.monitor_margin;
  live.probe_domains = next.probe_domains;
  if (Status st = controller_->ApplyLiveSettings(live); !st.ok()) {
    return report.FailedIn(st.error());
  }
  config_ = std::move(next);
  SetLogLevel(config_.log_level);
  report.RestartOnly(diff.RestartKeys());
  MIPSEC_LOG(log_, kNotice) << "reloaded " << path << ": " << diff.Summary("");
  return Ok{};
}

}  // namespace mipsec::mnd
