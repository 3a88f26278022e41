// proxy/bpf.cc — the classic BPF program for proxy packet sockets (see bpf.h). Pure.
// Conditional jumps have 8-bit offsets, so every test is "jeq X, 0, 1; ret accept" (a local
// return) and sections are skipped with `ja` (32-bit offset).
#include "proxy/bpf.h"

#include <linux/if_packet.h>

namespace nw::proxy {

namespace {

constexpr uint32_t kMaxInsns = 4000;  // below BPF_MAXINSNS (4096)

struct Prog {
    std::vector<sock_filter> v;
    void op(uint16_t code, uint32_t k, uint8_t jt = 0, uint8_t jf = 0) { v.push_back({code, jt, jf, k}); }
    void ld_w(uint32_t off) { op(BPF_LD | BPF_W | BPF_ABS, off); }
    void ld_h(uint32_t off) { op(BPF_LD | BPF_H | BPF_ABS, off); }
    void ld_b(uint32_t off) { op(BPF_LD | BPF_B | BPF_ABS, off); }
    void accept() { op(BPF_RET | BPF_K, kSnapLen); }
    void reject() { op(BPF_RET | BPF_K, 0); }
    // if (A == k) accept
    void accept_if(uint32_t k) {
        op(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 1);
        accept();
    }
    // if (A == k) reject
    void reject_if(uint32_t k) {
        op(BPF_JMP | BPF_JEQ | BPF_K, k, 0, 1);
        reject();
    }
    size_t here() const { return v.size(); }
};

uint32_t be32(const uint8_t* p) { return uint32_t(p[0]) << 24 | uint32_t(p[1]) << 16 | uint32_t(p[2]) << 8 | p[3]; }

void mac_tests(Prog& p, const std::vector<packet::Mac>& macs) {
    for (const auto& m : macs) {  // source MAC at bytes 6..11
        p.ld_w(6);
        p.op(BPF_JMP | BPF_JEQ | BPF_K, be32(m.data()), 0, 3);
        p.ld_h(10);
        p.op(BPF_JMP | BPF_JEQ | BPF_K, uint32_t(m[4]) << 8 | m[5], 0, 1);
        p.accept();
    }
}

// if (ethertype == type) { body } — body emitted by `f`, which must end in a return.
template <class F>
void section(Prog& p, uint16_t type, F f) {
    p.ld_h(12);
    p.op(BPF_JMP | BPF_JEQ | BPF_K, type, 1, 0);  // equal: skip the `ja` into the body
    const size_t ja = p.here();
    p.op(BPF_JMP | BPF_JA, 0);
    f();
    p.v[ja].k = uint32_t(p.here() - ja - 1);
}

}  // namespace

std::vector<sock_filter> build_filter(const Interest& in) {
    size_t n4 = 0, n6 = 0;
    for (const auto& a : in.held) (a.is_v4() ? n4 : n6) += 1;
    const bool all_ip = 40 + in.macs.size() * 5 + n4 * 2 + n6 * 9 > kMaxInsns;
    const bool macs = in.macs.size() * 5 < kMaxInsns / 2;
    Prog p;
    p.ld_w(SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT);
    p.reject_if(1);
    p.ld_w(SKF_AD_OFF + SKF_AD_PKTTYPE);
    p.reject_if(PACKET_OUTGOING);
    p.ld_h(12);
    p.accept_if(0x0806);  // ARP
    if (macs) mac_tests(p, in.macs);
    else p.accept();      // absurdly many machines: everything
    section(p, 0x0800, [&] {
        if (all_ip) return p.accept();
        p.ld_w(14 + 16);  // IPv4 destination
        for (const auto& a : in.held)
            if (a.is_v4()) p.accept_if(a.v4_host());
        p.reject();
    });
    section(p, 0x86dd, [&] {
        p.ld_b(14 + 6);  // next header
        p.op(BPF_JMP | BPF_JEQ | BPF_K, 58, 0, 4);
        p.ld_b(14 + 40);  // ICMPv6 type
        p.op(BPF_JMP | BPF_JEQ | BPF_K, 135, 1, 0);
        p.op(BPF_JMP | BPF_JEQ | BPF_K, 136, 0, 1);
        p.accept();
        if (all_ip) return p.accept();
        for (const auto& a : in.held) {
            if (a.is_v4()) continue;
            for (int w = 0; w < 4; ++w) {  // IPv6 destination at 14 + 24
                p.ld_w(14 + 24 + 4 * w);
                p.op(BPF_JMP | BPF_JEQ | BPF_K, be32(&a.b[4 * w]), 0, uint8_t(7 - 2 * w));
            }
            p.accept();
        }
        p.reject();
    });
    p.reject();
    return p.v;
}

}  // namespace nw::proxy
