// core/relay.cc — RelayEngine (see relay.h, SPEC §7.2). Pure decision logic over a Hit.
#include "core/relay.h"

#include <algorithm>

#include "packet/magic.h"

namespace nw::core {

RelayEngine::RelayEngine(const config::Config& cfg) : cfg_(cfg) {}

const config::RelayConf* RelayEngine::rule_for(const Hit& h) const {
    if (h.d.proto != packet::kProtoUdp || !h.d.has_l4) return nullptr;
    for (const auto& r : cfg_.wol_relay) {
        if (!r.sensors.empty() && std::find(r.sensors.begin(), r.sensors.end(), h.sensor) == r.sensors.end()) continue;
        if (std::find(r.ports.begin(), r.ports.end(), h.d.dst_port) != r.ports.end()) return &r;
    }
    return nullptr;
}

bool RelayEngine::wants(const Hit& h) const { return rule_for(h) != nullptr; }

std::string RelayEngine::decide(const Hit& h, int64_t now_ns, std::string* why) {
    const config::RelayConf* r = rule_for(h);
    if (!r) return {};
    const auto frame = frame_bytes(h);
    packet::MagicView m;
    const size_t off = h.d.payload_offset, len = std::min(h.d.payload_len, frame.size() > off ? frame.size() - off : 0);
    if (off > frame.size() || !packet::parse_magic(frame.subspan(off, len), &m)) {
        ++stats_.not_magic;
        *why = "not a magic packet";
        return {};
    }
    const config::TargetConf* t = nullptr;
    for (const std::string& name : r->allow)
        for (const auto& tc : cfg_.targets)
            if (tc.name == name && tc.wol && tc.wol->mac == m.mac) t = &tc;
    if (!t) {
        ++stats_.unknown_mac;
        *why = "magic packet for " + packet::mac_str(m.mac) + ", no allowed target has that MAC";
        return {};
    }
    const auto& pw = t->wol->password;
    // required: the packet carries the target's password; optional: it may carry none, but what
    // it carries must be the password; none: not checked.
    const bool need = r->password == config::RelayPassword::Required ||
                      (r->password == config::RelayPassword::Optional && !pw.empty() && !m.rest.empty());
    if (need && (pw.empty() || !packet::magic_password_is(m, pw))) {
        ++stats_.bad_password;
        *why = "magic packet for " + t->name + ": " + (m.rest.size() < pw.size() || pw.empty() ? "missing" : "wrong") +
               " SecureOn password";
        return {};
    }
    auto& times = recent_[t->name];
    const int64_t per = int64_t(r->rate_per.count()) * 1'000'000;
    times.erase(std::remove_if(times.begin(), times.end(), [&](int64_t x) { return now_ns - x >= per; }), times.end());
    if (times.size() >= r->rate_count) {
        ++stats_.over_rate;
        *why = "magic packet for " + t->name + ": over the rate (" + std::to_string(r->rate_count) + " per " +
               std::to_string(r->rate_per.count() / 1000) + " s)";
        return {};
    }
    times.push_back(now_ns);
    ++stats_.accepted;
    return t->name;
}

}  // namespace nw::core
