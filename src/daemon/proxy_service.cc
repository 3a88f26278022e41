// daemon/proxy_service.cc — ProxyService (see proxy_service.h): wiring of the sleep proxy's parts and the
// registration handler (parse -> host checks -> proxy checks -> new proxied machine).
#include "daemon/proxy_service.h"

#include <algorithm>

#include "control/register.h"
#include "proxy/host.h"
#include "proxy/nft.h"
#include "proxy/packet_io.h"
#include "proxy/persist.h"
#include "sys/log.h"

namespace nw::proxy {

ProxyService::ProxyService(sys::Loop& loop, core::Clock& clock, core::TimerQueue& timers)
    : loop_(loop), clock_(clock), timers_(timers) {}

ProxyService::~ProxyService() = default;

bool ProxyService::needed(const config::Config& cfg) {
    if (cfg.reg) return true;
    return std::any_of(cfg.targets.begin(), cfg.targets.end(), [](const auto& t) { return t.sleep_proxy.has_value(); });
}

namespace {
std::vector<std::string> interfaces_of(const config::Config& cfg) {
    std::vector<std::string> ifs;
    if (cfg.reg) ifs.push_back(cfg.reg->interface);
    for (const auto& t : cfg.targets)
        if (t.sleep_proxy && std::find(ifs.begin(), ifs.end(), t.sleep_proxy->interface) == ifs.end())
            ifs.push_back(t.sleep_proxy->interface);
    return ifs;
}
}  // namespace

bool ProxyService::open(const config::Config& cfg, std::string* err) {
    cfg_ = std::make_shared<const config::Config>(cfg);
    host_ = std::make_unique<HostInfo>(clock_);
    io_ = std::make_unique<PacketIo>(loop_, timers_, [this](const std::string& ifn, std::span<const uint8_t> f, int64_t t) {
        if (proxy_) proxy_->on_frame(ifn, f, t);
    });
    std::string why;
    if (!io_->set_interfaces(interfaces_of(cfg), &why)) log::warn("{}", why);
    nft_ = std::make_unique<NftFirewall>(loop_, timers_);
    if (!nft_->start(&why)) log::warn("{}", why);
    nft_->set_own_filter([this](const packet::Addr& a) { return host_->own_addr(a); });
    if (!host_->watch(loop_, [this] { on_host_changed(); }, &why)) log::warn("{}", why);
    return open_register(cfg, err);
}

bool ProxyService::open_register(const config::Config& cfg, std::string* err) {
    if (!cfg.reg) {
        reg_.reset();
        return true;
    }
    if (reg_ && reg_->is_open() && reg_->listen_address() == cfg.reg->listen) return true;
    reg_ = std::make_unique<control::RegisterServer>(loop_, timers_);
    reg_->set_handler([this](const control::Registration& r, const packet::Addr& peer) { return on_register(r, peer); });
    reg_->set_admit([this](const packet::Addr& peer) { return cfg_->reg && control::peer_allowed(cfg_->reg->allow, peer); });
    if (!reg_->open(cfg.reg->listen, err)) return false;
    log::info("register: listening on {}", cfg.reg->listen);
    return true;
}

// RTNETLINK: the host gained or lost an address. Its own addresses are never held nor dropped.
void ProxyService::on_host_changed() {
    if (proxy_) proxy_->host_changed();
    if (nft_) nft_->recheck();
}

void ProxyService::remember(const state::PersistedState& ps) {
    saved_ = load_proxy(ps);
    for (auto& m : saved_)  // a state file from before names were restricted (SPEC §9)
        if (m.spec.registered && !control::safe_registration_name(m.spec.name)) {
            std::string safe = control::name_from_mac(m.spec.mac);
            log::warn("state file: registration \"{}\" renamed {} (names are [A-Za-z0-9_.-], hooks get them)",
                      m.spec.name, safe);
            m.spec.name = std::move(safe);
        }
}

void ProxyService::start(const config::Config& cfg, core::EventBus* events, core::WolSender* wol,
                         std::function<void()> on_state_changed) {
    ProxyDeps d;
    d.clock = &clock_;
    d.timers = &timers_;
    d.events = events;
    d.wol = wol;
    d.frames = io_.get();
    d.firewall = nft_.get();
    d.host = host_.get();
    d.on_state_changed = std::move(on_state_changed);
    proxy_ = std::make_unique<SleepProxy>(std::move(d));
    proxy_->configure(cfg);
    if (!saved_.empty()) proxy_->restore(std::exchange(saved_, {}));
}

void ProxyService::reload(const config::Config& cfg) {
    cfg_ = std::make_shared<const config::Config>(cfg);
    std::string err;
    if (!open_register(cfg, &err)) log::error("{}", err);
    if (!proxy_) return;
    if (!io_->set_interfaces(interfaces_of(cfg), &err)) log::warn("{}", err);
    proxy_->configure(cfg);
}

// Refusals are logged, but a peer hammering the port must not flood the log: at most 10 lines
// a minute, then one line saying how many were left out.
void ProxyService::log_refusal(const std::string& name, const packet::Addr& peer, const std::string& why) {
    const int64_t now = clock_.now_ns();
    if (now - refusals_window_ns_ > 60'000'000'000) {
        if (refusals_hidden_ > 0) log::warn("register: {} more refusal(s) not logged", refusals_hidden_);
        refusals_window_ns_ = now;
        refusals_logged_ = refusals_hidden_ = 0;
    }
    if (refusals_logged_++ < 10) log::warn("register: refused \"{}\" from {}: {}", name, peer.str(), why);
    else ++refusals_hidden_;
}

std::string ProxyService::on_register(const control::Registration& r, const packet::Addr& peer) {
    if (!proxy_ || !cfg_->reg) return "registration is not available";
    control::RegisterEnv env;
    env.conf = &*cfg_->reg;
    env.host = host_.get();
    env.neighbor = neighbor_mac;
    std::string err;
    if (!control::validate_registration(r, peer, env, &err)) {
        log_refusal(r.name, peer, err);
        return err;
    }
    std::vector<ProxyAddr> addrs;
    for (const auto& m : r.monitor) {
        ProxyAddr a;
        a.addr = m.ip;
        for (uint16_t p : m.ports) a.ports.push_back({p, p, false});
        if (m.ports.empty()) a.ports = kNoPortWakes;  // "port": [] — held, nothing wakes it
        addrs.push_back(std::move(a));
    }
    // Who answers for each address, as far as the kernel's neighbour table knows (the proxy
    // adds what its probes saw): the MAC that answers for an address owns it.
    SleepProxy::Neighbours neigh;
    for (const auto& a : addrs) {
        packet::Mac mac{};
        std::string why;
        const bool known = neighbor_mac(cfg_->reg->interface, a.addr, &mac, &why) && !host_->own_mac(mac);
        neigh.push_back(known ? std::optional<packet::Mac>(mac) : std::nullopt);
    }
    MachineSpec spec = spec_for_registration(*cfg_->reg, r.name, r.mac, std::move(addrs), clock_.wall_s() * 1000);
    if (!proxy_->add_registration(std::move(spec), &err, neigh)) {
        log_refusal(r.name, peer, err);
        return err;
    }
    return "";
}

void ProxyService::fill_status(control::Status* st) const {
    if (!proxy_) return;
    for (const auto& v : proxy_->machines()) {
        control::ProxyStatus ps;
        ps.state = state_name(v.state);
        for (const auto& a : v.held) ps.addresses.push_back(a.str());
        auto it = std::find_if(st->targets.begin(), st->targets.end(),
                               [&](const control::TargetStatus& t) { return t.name == v.spec->name; });
        if (it == st->targets.end()) {
            control::TargetStatus t;
            t.name = v.spec->name;
            t.state = "idle";
            t.wakes = v.wakes;
            st->targets.push_back(std::move(t));
            it = std::prev(st->targets.end());
        } else {
            it->wakes += v.wakes;
        }
        it->proxy = std::move(ps);
    }
    const auto& s = proxy_->stats();
    st->internals.push_back(
        {"sleep_proxy", {{"frames", s.frames}, {"malformed", s.malformed}, {"own", s.own}, {"bad_nd", s.bad_nd},
                         {"arp_answered", s.arp_answered}, {"ns_answered", s.ns_answered},
                         {"probes_sent", s.probes_sent}, {"send_errors", s.send_errors}, {"conflicts", s.conflicts},
                         {"wake_packets", s.wake_packets}, {"retransmits", s.retransmits},
                         {"ignored_traffic", s.ignored_traffic}, {"own_addresses", s.own_addresses},
                         {"lossy_rounds", s.lossy_rounds}, {"wakes_deferred", s.wakes_deferred}}});
    st->internals.push_back({"announcer", {{"sent", proxy_->announcer().sent()}, {"dropped", proxy_->announcer().dropped()}}});
    if (io_) {
        const auto& p = io_->stats();
        st->internals.push_back({"packet_sockets", {{"received", p.received}, {"truncated", p.truncated},
                                                    {"send_errors", p.send_errors}, {"filter_errors", p.filter_errors},
                                                    {"open_errors", p.open_errors}, {"dropped", p.dropped}}});
    }
    if (nft_)
        st->internals.push_back({"nft", {{"runs", nft_->runs()}, {"failures", nft_->failures()},
                                         {"own_skipped", nft_->own_skipped()}}});
    if (reg_) {
        const auto& r = reg_->stats();
        st->internals.push_back({"register", {{"accepted", r.accepted}, {"registered", r.registered},
                                              {"refused", r.refused}, {"invalid", r.invalid},
                                              {"too_large", r.too_large}, {"timeouts", r.timeouts}, {"busy", r.busy},
                                              {"accept_errors", r.accept_errors}, {"denied", r.denied},
                                              {"evicted", r.evicted}}});
    }
    st->counters.malformed += s.malformed + s.bad_nd;
    if (io_) st->counters.truncated += io_->stats().truncated;
    if (io_) st->counters.dropped += io_->read_drops();  // PACKET_STATISTICS of the packet sockets
    if (reg_) {
        const auto& r = reg_->stats();
        st->counters.rejected += r.invalid + r.refused + r.too_large + r.timeouts + r.busy + r.denied + r.evicted;
    }
}

void ProxyService::save(state::PersistedState* ps) const {
    if (proxy_) save_proxy(*proxy_, ps);
}

bool ProxyService::forget(const std::string& name, std::string* err) {
    if (!proxy_) {
        *err = "no registration named " + name;
        return false;
    }
    return proxy_->forget(name, err);
}

void ProxyService::shutdown() {
    if (reg_) reg_->close();
    if (proxy_) proxy_->shutdown();
    if (nft_) nft_->remove_now(3000);
    if (io_) {
        std::string err;
        io_->set_interfaces({}, &err);
    }
}

}  // namespace nw::proxy
