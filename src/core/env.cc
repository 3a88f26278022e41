// core/env.cc — the NETWAKED_* hook environment describing a triggering packet (SPEC §5).
// Variables that do not apply are left out, never set empty.
#include <string>

#include "core/core.h"

namespace nw::core {

namespace {
const char* proto_label(const packet::Decoded& d) {
    if (d.l3 == 'a') return "arp";
    switch (d.proto) {
        case packet::kProtoTcp: return "tcp";
        case packet::kProtoUdp: return "udp";
        case packet::kProtoIcmp: return "icmp";
        case packet::kProtoIcmp6: return "icmp6";
        default: return nullptr;
    }
}
}  // namespace

void packet_env(const Hit& h, const std::string& sensor,
                std::vector<std::pair<std::string, std::string>>* env) {
    const auto& d = h.d;
    env->emplace_back("NETWAKED_SENSOR", sensor);
    if (d.l3 == 4 || d.l3 == 6 || d.l3 == 'a') {
        const char* p = proto_label(d);
        env->emplace_back("NETWAKED_PROTO", p ? p : std::to_string(d.proto));
        env->emplace_back("NETWAKED_SRC", d.src.str());
        env->emplace_back("NETWAKED_DST", d.dst.str());
    }
    if (d.has_l4 && (d.proto == packet::kProtoTcp || d.proto == packet::kProtoUdp)) {
        env->emplace_back("NETWAKED_SRC_PORT", std::to_string(d.src_port));
        env->emplace_back("NETWAKED_DST_PORT", std::to_string(d.dst_port));
    }
    if (d.has_eth) env->emplace_back("NETWAKED_SRC_MAC", packet::mac_str(d.src_mac));
    if (h.in_iface[0]) env->emplace_back("NETWAKED_IN_IFACE", h.in_iface);
    if (h.prefix[0]) env->emplace_back("NETWAKED_PREFIX", h.prefix);
}

}  // namespace nw::core
