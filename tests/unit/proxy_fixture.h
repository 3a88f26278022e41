// tests/unit/proxy_fixture.h — fakes and a fixture for the sleep-proxy unit tests: a fake clock,
// hook spawner, WoL sender, frame sink, firewall and host view, and helpers to build frames and
// to run the proxy's timers. Test-only; no sockets, no real time.
#pragma once

#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/core.h"
#include "core/event_sinks.h"
#include "packet/decode.h"
#include "packet/encode.h"
#include "packet/parse.h"
#include "proxy/proxy.h"
#include "sys/log.h"

namespace nw::proxytest {

using packet::Addr;
using packet::Mac;
constexpr int64_t kMs = 1000000;

// A literal address (usable in static initializers: no doctest assertion here).
inline Addr A(const char* s) {
    Addr a;
    if (!packet::parse_addr(s, &a, nullptr)) throw std::invalid_argument(s);
    return a;
}

struct FakeClock : core::Clock {
    int64_t t = 1000 * kMs;
    int64_t now_ns() const override { return t; }
    int64_t wall_s() const override { return 1700000000 + t / 1000000000; }
};

struct FakeHooks : core::HookSpawner {
    std::vector<core::HookJob> jobs;
    void submit(core::HookJob j) override { jobs.push_back(std::move(j)); }
    size_t pending() const override { return 0; }
    void kill_all() override {}
    std::string events() const {
        std::string s;
        for (auto& j : jobs) s += (s.empty() ? "" : " ") + j.event;
        return s;
    }
    std::string env(size_t i, const std::string& k) const {
        for (auto& [n, v] : jobs.at(i).env)
            if (n == k) return v;
        return "<absent>";
    }
};

struct FakeWol : core::WolSender {
    FakeClock* clock = nullptr;
    std::vector<std::pair<int64_t, Mac>> sent;
    bool send(const config::WolConf& w, std::string* desc, std::string*) override {
        sent.emplace_back(clock->t, w.mac);
        *desc = "fake";
        return true;
    }
};

struct Sent {
    std::string ifname;
    std::vector<uint8_t> bytes;
    int64_t t = 0;
    packet::Decoded d() const {
        packet::Decoded x;
        REQUIRE(packet::decode(packet::LinkType::Ethernet, bytes, &x) == packet::Error::Ok);
        return x;
    }
};

struct FakeSink : proxy::FrameSink {
    FakeClock* clock = nullptr;
    std::vector<Sent> sent;
    std::map<std::string, proxy::Interest> interest;
    std::map<std::string, uint64_t> dropped;  // what PACKET_STATISTICS would have counted so far
    uint64_t drops(const std::string& ifname) override { return dropped[ifname]; }
    bool send(const std::string& ifname, std::span<const uint8_t> f) override {
        sent.push_back({ifname, std::vector<uint8_t>(f.begin(), f.end()), clock->t});
        return true;
    }
    void set_interest(const std::string& ifname, const proxy::Interest& in) override { interest[ifname] = in; }
};

struct FakeFirewall : proxy::Firewall {
    std::vector<std::vector<std::pair<std::string, Addr>>> updates;
    void set_held(const std::vector<std::pair<std::string, Addr>>& h) override { updates.push_back(h); }
};

struct FakeHost : proxy::HostView {
    std::map<std::string, Mac> macs;
    std::set<Mac> own;
    std::vector<Addr> own_addrs;
    std::map<std::string, std::vector<proxy::IfAddr>> addrs;
    std::optional<Mac> if_mac(const std::string& n) override {
        auto it = macs.find(n);
        if (it == macs.end()) return std::nullopt;
        return it->second;
    }
    bool own_mac(const Mac& m) override { return own.count(m) != 0; }
    bool own_addr(const Addr& a) override {
        for (auto& x : own_addrs)
            if (x == a) return true;
        return false;
    }
    std::vector<proxy::IfAddr> if_addrs(const std::string& n) override { return addrs[n]; }
};

// One proxy on interface "lan0"; the host is P with 192.0.2.1/24, fe80::1, 2001:db8::1/64.
struct Lab {
    static constexpr Mac P{2, 0, 0, 0, 0, 1};      // the proxy host
    static constexpr Mac M{2, 0, 0, 0, 0, 0x20};   // the sleeping machine
    static constexpr Mac C{2, 0, 0, 0, 0, 0x30};   // a client
    static constexpr Mac X{2, 0, 0, 0, 0, 0x40};   // some other machine
    FakeClock clock;
    core::TimerQueue timers{clock};  // the loop's queue: advance() fires it
    FakeHooks hooks;
    core::EventBus events;
    core::HookSink hook_sink{&hooks};
    core::LogSink log_sink;
    FakeWol wol;
    FakeSink sink;
    FakeFirewall fw;
    FakeHost host;
    std::vector<std::string> log;
    config::Config cfg;
    std::unique_ptr<proxy::SleepProxy> p;

    explicit Lab(bool with_log_sink = true);  // false: the events reach no LogSink
    ~Lab() { log::set_sink(nullptr); }
    // A target "nas" (machine M) with the given addresses; timing: 1 s probes, 3 misses,
    // 3 wake attempts 10 s apart, wol repeat 3 every 500 ms.
    static config::TargetConf target(std::vector<config::ProxyAddress> addrs, bool keep = true);
    void configure(std::vector<config::TargetConf> targets, bool with_register = false);
    // Runs every timer due up to now + ms, in order.
    void advance(int64_t ms);
    void rx(const std::vector<uint8_t>& frame) { p->on_frame("lan0", frame, clock.t); }
    proxy::State state(const std::string& name = "nas") const;
    std::vector<Addr> held(const std::string& name = "nas") const;
    bool logged(const std::string& needle) const;
    // Frames sent since index `from` that decode and satisfy `pred`.
    template <class F>
    size_t count_sent(size_t from, F pred) const {
        size_t n = 0;
        for (size_t i = from; i < sink.sent.size(); ++i)
            if (pred(sink.sent[i].d())) ++n;
        return n;
    }
    // Keeps the machine answering every probe (as a live machine does) for `ms`.
    void answer_probes_for(int64_t ms);
    // Lets every probe go unanswered until the machine is asleep.
    void put_to_sleep();
};

// Frame builders (test side).
std::vector<uint8_t> arp_request(const Mac& from, const Addr& spa, const Addr& tpa);
std::vector<uint8_t> arp_reply(const Mac& from, const Addr& spa, const Mac& to, const Addr& tpa);
std::vector<uint8_t> ns(const Mac& from, const Addr& src, const Addr& target);
std::vector<uint8_t> na(const Mac& from, const Addr& target, uint8_t flags);
std::vector<uint8_t> tcp4(const Mac& from, const Mac& to, const Addr& s, const Addr& d, uint16_t sp, uint16_t dp,
                          uint8_t flags, bool ip_options = false);
std::vector<uint8_t> udp4(const Mac& from, const Mac& to, const Addr& s, const Addr& d, uint16_t sp, uint16_t dp);
std::vector<uint8_t> icmp4(const Mac& from, const Mac& to, const Addr& s, const Addr& d);
std::vector<uint8_t> from_hex(const char* hex);

}  // namespace nw::proxytest
