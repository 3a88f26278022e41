// tests/unit/proxy_fixture.cc — the sleep-proxy test fixture and frame builders declared in
// proxy_fixture.h. Test-only; everything happens in memory with a fake clock.
#include "proxy_fixture.h"

#include <algorithm>
#include <cstring>

namespace nw::proxytest {

Lab::Lab(bool with_log_sink) {
    sink.clock = &clock;
    wol.clock = &clock;
    host.macs["lan0"] = P;
    host.own = {P};
    host.own_addrs = {A("192.0.2.1"), A("2001:db8::1"), A("fe80::1")};
    host.addrs["lan0"] = {{A("192.0.2.1"), 120}, {A("fe80::1"), 64}, {A("2001:db8::1"), 64}};
    log::set_sink([this](log::Level, std::string_view l) { log.emplace_back(l); });
    proxy::ProxyDeps d;
    d.clock = &clock;
    d.timers = &timers;
    d.events = &events;
    events.add(&hook_sink);
    if (with_log_sink) events.add(&log_sink);  // the daemon's order: the events' lines in `log`
    d.wol = &wol;
    d.frames = &sink;
    d.firewall = &fw;
    d.host = &host;
    p = std::make_unique<proxy::SleepProxy>(d);
}

config::TargetConf Lab::target(std::vector<config::ProxyAddress> addrs, bool keep) {
    config::TargetConf t;
    t.name = "nas";
    t.hook = "/bin/true";
    config::WolConf w;
    w.mac = M;
    w.interface = "lan0";
    w.repeat = 3;
    w.interval = std::chrono::milliseconds(500);
    t.wol = w;
    config::SleepProxyConf sp;
    sp.interface = "lan0";
    sp.addresses = std::move(addrs);
    sp.probe_interval = std::chrono::seconds(1);
    sp.probe_misses = 3;
    sp.wake_attempts = 3;
    sp.wake_interval = std::chrono::seconds(10);
    sp.keep = keep;
    t.sleep_proxy = sp;
    return t;
}

void Lab::configure(std::vector<config::TargetConf> targets, bool with_register) {
    cfg.targets = std::move(targets);
    if (with_register) {
        config::RegisterConf rc;
        rc.listen = "192.0.2.1:13717";
        rc.interface = "lan0";
        config::Cidr net;
        net.addr = A("192.0.2.0");
        net.prefix_len = 120;
        rc.allow = {net};
        rc.sleep_proxy.probe_interval = std::chrono::seconds(1);
        rc.sleep_proxy.probe_misses = 3;
        rc.sleep_proxy.shutdown_timeout = std::chrono::seconds(60);
        rc.sleep_proxy.wake_attempts = 2;
        rc.sleep_proxy.wake_interval = std::chrono::seconds(10);
        rc.sleep_proxy.keep = false;
        rc.hook = "/bin/true";
        config::WolConf w;
        w.interface = "lan0";
        w.repeat = 2;
        w.interval = std::chrono::milliseconds(500);
        rc.wol = w;
        cfg.reg = rc;
    }
    p->configure(cfg);
}

void Lab::advance(int64_t ms) {
    const int64_t end = clock.t + ms * kMs;
    for (int guard = 0; guard < 1000000; ++guard) {
        const int64_t n = timers.next_deadline_ns();
        if (n == core::TimerQueue::kNever || n > end) break;
        clock.t = std::max(clock.t, n);
        timers.run_due(clock.t);
    }
    clock.t = end;
}

proxy::State Lab::state(const std::string& name) const {
    for (const auto& v : p->machines())
        if (v.spec->name == name) return v.state;
    FAIL("no machine " << name);
    return proxy::State::Lost;
}

std::vector<Addr> Lab::held(const std::string& name) const {
    for (const auto& v : p->machines())
        if (v.spec->name == name) return v.held;
    return {};
}

bool Lab::logged(const std::string& needle) const {
    return std::any_of(log.begin(), log.end(), [&](const std::string& l) { return l.find(needle) != std::string::npos; });
}

void Lab::answer_probes_for(int64_t ms) {
    size_t seen = sink.sent.size();
    for (int64_t t = 0; t < ms; t += 100) {
        advance(100);
        for (; seen < sink.sent.size(); ++seen) {
            const packet::Decoded d = sink.sent[seen].d();
            if (d.l3 == 'a' && d.arp_op == packet::kArpRequest && d.src != d.dst)
                rx(arp_reply(M, d.dst, P, d.src));
            else if (d.l3 == 6 && d.icmp_type == packet::kIcmp6NeighborSolicit)
                rx(na(M, d.nd_target, packet::kNaSolicited | packet::kNaOverride));
        }
    }
}

void Lab::put_to_sleep() {
    for (int i = 0; i < 200 && state() != proxy::State::Asleep; ++i) advance(100);
    REQUIRE(state() == proxy::State::Asleep);
}

namespace {
std::vector<uint8_t> take(const uint8_t* b, size_t n) {
    REQUIRE(n > 0);
    return std::vector<uint8_t>(b, b + n);
}

void put16(std::vector<uint8_t>& v, size_t at, uint16_t x) {
    v[at] = uint8_t(x >> 8);
    v[at + 1] = uint8_t(x);
}

// Ethernet + IPv4 (+4 bytes of NOP options) + `l4`, with correct checksums.
std::vector<uint8_t> ipv4(const Mac& from, const Mac& to, const Addr& s, const Addr& d, uint8_t proto,
                          std::vector<uint8_t> l4, bool options) {
    const size_t ihl = options ? 24 : 20;
    std::vector<uint8_t> f(14 + ihl);
    packet::encode_eth(f, to, from, packet::kEthIpv4);
    uint8_t* ip = &f[14];
    ip[0] = uint8_t(0x40 | ihl / 4);
    ip[8] = 64;
    ip[9] = proto;
    std::memcpy(ip + 12, &s.b[12], 4);
    std::memcpy(ip + 16, &d.b[12], 4);
    if (options) std::memset(ip + 20, 1, 4);  // NOPs
    put16(f, 14 + 2, uint16_t(ihl + l4.size()));
    put16(f, 14 + 10, packet::inet_checksum(std::span<const uint8_t>(ip, ihl)));
    const size_t cs = proto == packet::kProtoTcp ? 16 : proto == packet::kProtoUdp ? 6 : 2;
    put16(l4, cs, 0);
    put16(l4, cs, proto == packet::kProtoIcmp ? packet::inet_checksum(l4) : packet::l4_checksum(s, d, proto, l4));
    f.insert(f.end(), l4.begin(), l4.end());
    return f;
}
}  // namespace

std::vector<uint8_t> arp_request(const Mac& from, const Addr& spa, const Addr& tpa) {
    uint8_t b[64];
    return take(b, packet::encode_arp_request(b, from, spa, tpa));
}
std::vector<uint8_t> arp_reply(const Mac& from, const Addr& spa, const Mac& to, const Addr& tpa) {
    uint8_t b[64];
    return take(b, packet::encode_arp_reply(b, from, spa, to, tpa));
}
std::vector<uint8_t> ns(const Mac& from, const Addr& src, const Addr& target) {
    uint8_t b[128];
    return take(b, packet::encode_ns(b, from, src, target));
}
std::vector<uint8_t> na(const Mac& from, const Addr& target, uint8_t flags) {
    uint8_t b[128];
    return take(b, packet::encode_na_unsolicited(b, from, target, from, flags));
}

std::vector<uint8_t> tcp4(const Mac& from, const Mac& to, const Addr& s, const Addr& d, uint16_t sp, uint16_t dp,
                          uint8_t flags, bool ip_options) {
    std::vector<uint8_t> t(20);
    put16(t, 0, sp);
    put16(t, 2, dp);
    t[7] = 1;  // seq
    t[12] = 5 << 4;
    t[13] = flags;
    put16(t, 14, 64240);
    return ipv4(from, to, s, d, packet::kProtoTcp, t, ip_options);
}

std::vector<uint8_t> udp4(const Mac& from, const Mac& to, const Addr& s, const Addr& d, uint16_t sp, uint16_t dp) {
    std::vector<uint8_t> u(12);
    put16(u, 0, sp);
    put16(u, 2, dp);
    put16(u, 4, 12);
    u[8] = 'n';
    u[9] = 'w';
    return ipv4(from, to, s, d, packet::kProtoUdp, u, false);
}

std::vector<uint8_t> icmp4(const Mac& from, const Mac& to, const Addr& s, const Addr& d) {
    std::vector<uint8_t> i(8);
    i[0] = 8;  // echo request
    return ipv4(from, to, s, d, packet::kProtoIcmp, i, false);
}

std::vector<uint8_t> from_hex(const char* hex) {
    std::vector<uint8_t> v;
    int hi = -1;
    for (const char* p = hex; *p; ++p) {
        int x;
        if (*p >= '0' && *p <= '9') x = *p - '0';
        else if (*p >= 'a' && *p <= 'f') x = *p - 'a' + 10;
        else continue;
        if (hi < 0) hi = x;
        else {
            v.push_back(uint8_t(hi << 4 | x));
            hi = -1;
        }
    }
    return v;
}

}  // namespace nw::proxytest
