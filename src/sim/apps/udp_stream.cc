#include "sim/apps/udp_stream.h"

#include <sstream>

#include "common/wire/reader.h"
#include "common/wire/writer.h"

namespace mipsec::sim {

namespace {
constexpr std::uint32_t kMagic = 0x4d535452;  // "MSTR"
constexpr std::uint8_t kKindData = 0;
constexpr std::uint8_t kKindEcho = 1;
constexpr std::size_t kHeaderSize = 29;

struct StreamPacket {
  std::uint8_t kind;
  std::uint64_t seq;
  std::int64_t sent_ns;
  std::uint64_t echoed;
};

Result<StreamPacket> Parse(ByteSpan payload) {
  wire::Reader r(payload);
  MIPSEC_ASSIGN_OR_RETURN(std::uint32_t magic, r.U32("stream magic"));
  if (magic != kMagic) return r.Malformed("stream magic", "not a stream packet");
  StreamPacket p{};
  MIPSEC_ASSIGN_OR_RETURN(p.kind, r.U8("stream kind"));
  MIPSEC_ASSIGN_OR_RETURN(p.seq, r.U64("stream sequence"));
  MIPSEC_ASSIGN_OR_RETURN(std::uint64_t t, r.U64("stream send time"));
  p.sent_ns = static_cast<std::int64_t>(t);
  MIPSEC_ASSIGN_OR_RETURN(p.echoed, r.U64("stream echoed sequence"));
  return p;
}

Bytes Build(std::uint8_t kind, std::uint64_t seq, Timestamp now, std::uint64_t echoed,
            std::size_t size) {
  wire::Writer w(size);
  w.U32(kMagic).U8(kind).U64(seq).U64(static_cast<std::uint64_t>(now.nanos())).U64(echoed);
  if (size > w.size()) w.Zeros(size - w.size());
  return std::move(w).Take();
}
}  // namespace

std::string StreamStats::ToString() const {
  std::ostringstream os;
  os << "sent " << sent << " delivered " << delivered << " lost " << lost << " dup " << duplicated
     << " reordered " << reordered << " longest gap " << longest_gap.ToString();
  return os.str();
}

void StreamScore::OnArrival(std::uint64_t seq, Timestamp now) {
  // Bound the bitmap: a peer claiming sequence 2^60 must not make us
  // allocate; such a packet counts as foreign.
  if (seq > (1ull << 26)) {
    ++stats_.foreign;
    return;
  }
  if (seq >= seen_.size()) seen_.resize(seq + 1, false);
  if (seen_[seq]) {
    ++stats_.duplicated;
    arrivals_.push_back({seq, now, true, false});
    return;
  }
  seen_[seq] = true;
  ++stats_.delivered;
  bool reordered = any_ && seq < max_seq_;
  if (reordered) ++stats_.reordered;
  arrivals_.push_back({seq, now, false, reordered});
  if (any_) {
    Duration gap = now - last_arrival_;
    if (gap > stats_.longest_gap) {
      stats_.longest_gap = gap;
      stats_.longest_gap_end = now;
    }
  }
  if (!any_ || seq > max_seq_) max_seq_ = seq;
  any_ = true;
  last_arrival_ = now;
}

StreamStats StreamScore::Finish(std::uint64_t sent, const std::vector<Timestamp>& send_times,
                                Timestamp end, Duration grace) const {
  StreamStats s = stats_;
  s.sent = sent;
  s.lost = 0;
  for (std::uint64_t seq = 0; seq < sent && seq < send_times.size(); ++seq) {
    if (send_times[seq] + grace > end) break;  // still in flight
    if (seq >= seen_.size() || !seen_[seq]) ++s.lost;
  }
  return s;
}

StreamStats StreamScore::Window(const std::vector<Timestamp>& send_times, Timestamp from,
                                Timestamp to, Timestamp end, Duration grace, Timestamp gap_from,
                                Timestamp gap_to) const {
  StreamStats s;
  for (std::uint64_t seq = 0; seq < send_times.size(); ++seq) {
    Timestamp t = send_times[seq];
    if (t < from || t >= to) continue;
    bool got = seq < seen_.size() && seen_[seq];
    if (!got && t + grace > end) continue;  // in flight at the end
    ++s.sent;
    if (got) {
      ++s.delivered;
    } else {
      ++s.lost;
    }
  }
  Timestamp last = gap_from;
  for (const Arrival& a : arrivals_) {
    if (a.at < from || a.at >= to) continue;
    if (a.duplicate) ++s.duplicated;
    if (a.reordered) ++s.reordered;
    if (a.at < gap_from || a.at > gap_to) continue;
    if (a.at - last > s.longest_gap) {
      s.longest_gap = a.at - last;
      s.longest_gap_end = a.at;
    }
    last = a.at;
  }
  if (gap_to > last && gap_to - last > s.longest_gap) {
    s.longest_gap = gap_to - last;
    s.longest_gap_end = gap_to;
  }
  return s;
}

std::optional<std::pair<Timestamp, Timestamp>> StreamActivity(
    const std::vector<Timestamp>& send_times, Timestamp from, Timestamp to) {
  std::optional<std::pair<Timestamp, Timestamp>> span;
  for (Timestamp t : send_times) {
    if (t < from || t >= to) continue;
    if (!span) span = std::make_pair(t, t);
    span->second = t;
  }
  return span;
}

Status StreamConfig::Validate() const {
  if (payload_size < kHeaderSize) {
    return Error(Errc::kInvalidArgument,
                 "payload_size: must be at least " + std::to_string(kHeaderSize) + " bytes");
  }
  if (payload_size > 1400) return Error(Errc::kInvalidArgument, "payload_size: at most 1400 bytes");
  if (interval < Duration::Micros(10)) {
    return Error(Errc::kInvalidArgument, "interval: at least 10us");
  }
  if (target.port == 0) return Error(Errc::kInvalidArgument, "target: port must not be 0");
  return Ok{};
}

Result<std::unique_ptr<StreamEchoer>> StreamEchoer::Create(Node& node, std::uint16_t port) {
  std::unique_ptr<StreamEchoer> e(new StreamEchoer(node, port));
  StreamEchoer* raw = e.get();
  MIPSEC_TRY(node.BindUdp({Ipv4Address::Any(), port},
                          [raw](Timestamp now, const UdpDelivery& d) { raw->OnDatagram(now, d); }));
  return e;
}

StreamEchoer::~StreamEchoer() { node_.UnbindUdp({Ipv4Address::Any(), port_}); }

void StreamEchoer::OnDatagram(Timestamp now, const UdpDelivery& d) {
  Result<StreamPacket> p = Parse(d.payload);
  if (!p.ok() || p->kind != kKindData) {
    forward_.OnForeign();
    return;
  }
  forward_.OnArrival(p->seq, now);
  // Echo from the address it was sent to (the home address), same size.
  UdpSendOptions o;
  o.source = d.local.address;
  Bytes echo = Build(kKindEcho, echo_seq_, now, p->seq, d.payload.size());
  if (node_.SendUdp(d.remote, port_, echo, o).ok()) {
    ++echo_seq_;
    echo_send_times_.push_back(now);
  }
}

Result<std::unique_ptr<StreamSender>> StreamSender::Create(Node& node, const StreamConfig& config) {
  MIPSEC_TRY(config.Validate());
  std::unique_ptr<StreamSender> s(new StreamSender(node, config));
  StreamSender* raw = s.get();
  MIPSEC_TRY(node.BindUdp({Ipv4Address::Any(), config.local_port},
                          [raw](Timestamp now, const UdpDelivery& d) { raw->OnDatagram(now, d); }));
  Timestamp first = config.start < node.sim().now() ? node.sim().now() : config.start;
  s->timer_.Set(first);
  return s;
}

StreamSender::StreamSender(Node& node, const StreamConfig& config)
    : node_(node), config_(config), timer_(node.sim(), [this](Timestamp now) { Tick(now); }) {}

StreamSender::~StreamSender() { node_.UnbindUdp({Ipv4Address::Any(), config_.local_port}); }

void StreamSender::Tick(Timestamp now) {
  if (now >= config_.stop) return;
  Bytes pkt = Build(kKindData, seq_, now, 0, config_.payload_size);
  // Every tick is a packet offered, whether or not the node can send it now
  // (no route while moving is loss, not a pause).
  if (!node_.SendUdp(config_.target, config_.local_port, pkt).ok()) ++send_errors_;
  ++seq_;
  send_times_.push_back(now);
  timer_.Set(now + config_.interval);
}

void StreamSender::OnDatagram(Timestamp now, const UdpDelivery& d) {
  Result<StreamPacket> p = Parse(d.payload);
  if (!p.ok() || p->kind != kKindEcho) {
    reverse_.OnForeign();
    return;
  }
  reverse_.OnArrival(p->seq, now);
}

StreamReport ScoreStream(const StreamSender& sender, const StreamEchoer& echoer, Timestamp end,
                         Duration grace) {
  // Scored like one window over the whole run, so a stream cut off and never
  // restored shows its gap up to its last send rather than nothing.
  StreamReport r;
  auto span = StreamActivity(sender.send_times(), Timestamp::Zero(), Timestamp::Infinite());
  Timestamp gf = span ? span->first : end, gt = span ? span->second : end;
  r.forward = echoer.forward().Window(sender.send_times(), Timestamp::Zero(), Timestamp::Infinite(),
                                      end, grace, gf, gt);
  r.forward.foreign = echoer.forward().Finish(0, {}, end, grace).foreign;
  r.reverse = sender.reverse().Window(echoer.echo_send_times(), Timestamp::Zero(),
                                      Timestamp::Infinite(), end, grace, gf, gt);
  r.reverse.foreign = sender.reverse().Finish(0, {}, end, grace).foreign;
  return r;
}

}  // namespace mipsec::sim
