// tests/fuzz/fuzz_packet.cc — libFuzzer harness for src/packet: decoders, summarize, text parsers and
// an encoder round trip. Byte 0 selects what the rest is; the harness checks invariants, never I/O.
//   0 Ethernet  1 raw IP  2 SLL  3 SLL2  4 LINKTYPE_IPV4  5 LINKTYPE_IPV6
//   6 decode_ip with a 14-byte hw header (the first 14 bytes)  7 decode_ip without one
//   (1, 6, 7: peek_ip on the same IP packet must agree with the decoder whenever it answers)
//   8 parse_addr / parse_cidr / parse_mac on the rest as text
//   9 encoders fed from the bytes, decoded back (must round-trip)
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <string_view>

#include "packet/decode.h"
#include "packet/encode.h"
#include "packet/parse.h"
#include "packet/peek.h"

using namespace nw::packet;

namespace {

void require(bool ok) {
    if (!ok) std::abort();
}

// What any decode result must satisfy, errors included.
void check_decoded(const Decoded& d, Error e, size_t size) {
    (void)summarize(d);
    require(d.vlan_count <= 2);
    if (e != Error::Ok) return;
    if (d.has_l4) {
        require(d.l4_offset <= size);
        require(d.payload_offset >= d.l4_offset);
        require(d.payload_offset <= size);
        require(d.payload_len <= size - d.payload_offset);
        require(!d.fragment);
    }
    if (d.l3 != 0) require(d.l3_offset <= size);
}

// The sensors' hot path trusts peek_ip's key as the decoder's: when it answers, the decoder
// accepts the packet and finds the same key.
void check_peek(std::span<const uint8_t> ip) {
    Key k, k2;
    k2.src = k.src = Addr::v4(1);  // without `addrs`, peek_ip leaves them alone
    if (peek_ip(ip, false, &k2)) require(k2.src == Addr::v4(1) && k2.dst == Addr{});
    if (!peek_ip(ip, true, &k)) return;
    Decoded d;
    require(decode_ip(ip, {}, &d) == Error::Ok);
    const Key want = Key::of(d);
    require(k.head() == want.head() && k.src == want.src && k.dst == want.dst && k2.head() == want.head());
    require(k.ports == 1 && (k.proto == kProtoTcp || k.proto == kProtoUdp));
}

void decoders(uint8_t sel, std::span<const uint8_t> rest) {
    Decoded d;
    Error e;
    static constexpr LinkType kTypes[] = {LinkType::Ethernet,  LinkType::RawIp, LinkType::LinuxSll,
                                          LinkType::LinuxSll2, LinkType::Ipv4,  LinkType::Ipv6};
    if (sel < 6) {
        e = decode(kTypes[sel], rest, &d);
        check_decoded(d, e, rest.size());
        if (sel == 1) check_peek(rest);
    } else if (sel == 6) {
        const size_t hw = rest.size() < 14 ? rest.size() : 14;
        e = decode_ip(rest.subspan(hw), rest.first(hw), &d);
        require(d.has_eth == (hw == 14));
        check_decoded(d, e, rest.size() - hw);
        check_peek(rest.subspan(hw));
    } else {
        e = decode_ip(rest, {}, &d);
        check_decoded(d, e, rest.size());
        check_peek(rest);
    }
}

void parsers(std::span<const uint8_t> rest) {
    std::string_view s(reinterpret_cast<const char*>(rest.data()), rest.size());
    std::string err;
    Addr a;
    if (parse_addr(s, &a, &err)) {
        Addr b;
        require(parse_addr(a.str(), &b, nullptr) && a == b);
    }
    Cidr c;
    if (parse_cidr(s, &c, &err)) {
        Cidr c2;
        require(parse_cidr(cidr_str(c), &c2, nullptr));
        require(c2.addr == c.addr && c2.prefix_len == c.prefix_len && c2.negate == c.negate);
        require(cidr_contains(c, c.addr));
    }
    Mac m;
    if (parse_mac(s, &m, &err)) {
        Mac m2;
        require(parse_mac(mac_str(m), &m2, nullptr) && m == m2);
    }
}

// Encoders must produce frames our own decoder reads back with the same fields.
void encoders(std::span<const uint8_t> rest) {
    uint8_t in[6 + 6 + 16 + 16 + 1] = {};
    std::memcpy(in, rest.data(), rest.size() < sizeof in ? rest.size() : sizeof in);
    Mac m1, m2;
    std::memcpy(m1.data(), in, 6);
    std::memcpy(m2.data(), in + 6, 6);
    Addr ip6 = Addr::v6_bytes(in + 12), tgt6 = Addr::v6_bytes(in + 28);
    const uint8_t flags = in[44];
    uint8_t buf[128];
    Decoded d;
    if (!ip6.is_v4() && !tgt6.is_v4()) {
        size_t n = encode_ns(buf, m1, ip6, tgt6);
        require(n == kNdFrameLen && decode(LinkType::Ethernet, std::span(buf, n), &d) == Error::Ok);
        require(d.nd_target == tgt6 && d.has_nd_lladdr && d.nd_lladdr == m1 && d.src == ip6);
        require(l4_checksum(d.src, d.dst, kProtoIcmp6, std::span(buf + d.l4_offset, n - d.l4_offset)) == 0);
        n = encode_na_unsolicited(buf, m1, tgt6, m2, flags);
        require(n == kNdFrameLen && decode(LinkType::Ethernet, std::span(buf, n), &d) == Error::Ok);
        require(d.na_flags == (flags & (kNaRouter | kNaOverride)) && d.nd_lladdr == m2);
        require(l4_checksum(d.src, d.dst, kProtoIcmp6, std::span(buf + d.l4_offset, n - d.l4_offset)) == 0);
    }
    const Addr s4 = Addr::v4_bytes(in + 12), t4 = Addr::v4_bytes(in + 16);
    size_t n = encode_arp_reply(buf, m1, s4, m2, t4);
    require(n == kArpFrameLen && decode(LinkType::Ethernet, std::span(buf, n), &d) == Error::Ok);
    require(d.arp_op == kArpReply && d.arp_sha == m1 && d.arp_tha == m2 && d.src == s4 && d.dst == t4);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    const uint8_t sel = data[0] % 10;
    std::span<const uint8_t> rest(data + 1, size - 1);
    if (sel < 8)
        decoders(sel, rest);
    else if (sel == 8)
        parsers(rest);
    else
        encoders(rest);
    return 0;
}
