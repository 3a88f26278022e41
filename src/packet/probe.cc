// packet/probe.cc — the liveness probe frame (see probe.h). Pure.
#include "packet/probe.h"

#include "packet/encode.h"
#include "packet/parse.h"

namespace nw::packet {
namespace {

Addr v4_source(const std::vector<IfAddr>& addrs, const Addr& target) {
    const IfAddr* any = nullptr;
    for (const auto& a : addrs) {
        if (!a.addr.is_v4()) continue;
        if (cidr_contains(a.addr, a.prefix_len, target)) return a.addr;
        if (!any) any = &a;
    }
    return any ? any->addr : Addr::v4(0);
}

Addr v6_source(const std::vector<IfAddr>& addrs, const Mac& mac) {
    for (const auto& a : addrs)
        if (!a.addr.is_v4() && a.addr.b[0] == 0xfe && (a.addr.b[1] & 0xc0) == 0x80) return a.addr;
    Addr ll;  // RFC 4291 appendix A: fe80::/64 + modified EUI-64
    ll.b[0] = 0xfe;
    ll.b[1] = 0x80;
    ll.b[8] = mac[0] ^ 0x02;
    ll.b[9] = mac[1];
    ll.b[10] = mac[2];
    ll.b[11] = 0xff;
    ll.b[12] = 0xfe;
    ll.b[13] = mac[3];
    ll.b[14] = mac[4];
    ll.b[15] = mac[5];
    return ll;
}

}  // namespace

size_t encode_probe(std::span<uint8_t> buf, const Mac& our, const std::vector<IfAddr>& addrs, const Addr& x,
                    std::optional<Mac> unicast_to) {
    if (x.is_v4()) {
        const Addr src = v4_source(addrs, x);
        if (src == Addr::v4(0)) return encode_arp_probe(buf, our, x);
        if (unicast_to) return encode_arp(buf, {*unicast_to, our, kArpRequest, our, src, Mac{}, x});
        return encode_arp_request(buf, our, src, x);
    }
    const Addr src = v6_source(addrs, our);
    return unicast_to ? encode_ns_unicast(buf, our, src, *unicast_to, x) : encode_ns(buf, our, src, x);
}

}  // namespace nw::packet
