// proxy/proxy.h — the sleep proxy (SPEC §8, §9): per machine the states up -> asleep -> waking ->
// up plus lost, changed by one transition function; probing, ARP/NDP answering, waking, giving
// back. Core thread only. Side effects only through proxy/ports.h, core::EventBus and
// core::WolSender: never blocks, owns no fd and no timerfd (its timeouts are on ProxyDeps::timers).
// Waking is a core::WakeCycle (bursts, attempts, timeouts, probes; the one used for plain WoL).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "config/model.h"
#include "core/event.h"
#include "core/ports.h"
#include "core/timer_queue.h"
#include "core/wake_cycle.h"
#include "proxy/announce.h"
#include "proxy/ports.h"

namespace nw::core {
struct Hit;
enum class Reason : uint8_t;
}  // namespace nw::core

namespace nw::proxy {

enum class State : uint8_t { Up, Asleep, Waking, Lost };
const char* state_name(State s);
bool parse_state(std::string_view s, State* out);

struct ProxyAddr {
    packet::Addr addr{};
    std::vector<config::PortRange> ports;  // empty: traffic to any port wakes; kNoPortWakes: none
    bool operator==(const ProxyAddr&) const = default;
};
// The port list of an address held without waking for anything (a registration's "port": []).
inline const std::vector<config::PortRange> kNoPortWakes{{0, 65535, true}};

// Everything that defines one proxied machine.
struct MachineSpec {
    std::string name;                 // the target's or the registration's name
    bool registered = false;          // SPEC §9 registration (else a config target)
    packet::Mac mac{};
    std::string interface;
    std::vector<ProxyAddr> addresses;
    config::SleepProxyConf timing;    // probe/wake timing and keep (interface/addresses unused)
    config::WolConf wol;              // its mac is the machine's
    std::string hook;                 // empty: no hook
    config::Duration hook_timeout{60000};
    int64_t registered_wall_ms = 0;   // registrations: when it registered (persisted)
};

// A config target's machine (the target has sleep_proxy and wol; the loader guarantees both).
MachineSpec spec_for_target(const config::TargetConf& t);
// A registered machine under the register section's settings.
MachineSpec spec_for_registration(const config::RegisterConf& rc, std::string name, const packet::Mac& mac,
                                  std::vector<ProxyAddr> addrs, int64_t registered_wall_ms);

// Read-only view of one machine, for status and persistence.
struct MachineView {
    const MachineSpec* spec = nullptr;
    State state = State::Up;
    State saved = State::Up;          // for the state file: while a restored machine is probed
                                      // again, the state it was restored in (a second crash
                                      // before the probes decide must not forget it slept)
    std::vector<packet::Addr> held;   // answered for right now
    uint64_t wakes = 0;               // wake attempts (bursts) started
};

struct ProxyDeps {
    core::Clock* clock = nullptr;
    core::TimerQueue* timers = nullptr;   // the loop's one timer queue (required)
    core::EventBus* events = nullptr;     // asleep/wake/awake/lost go here (hooks, MQTT are sinks)
    core::WolSender* wol = nullptr;       // may be null (logged at wake)
    FrameSink* frames = nullptr;
    Firewall* firewall = nullptr;         // may be null
    HostView* host = nullptr;
    std::function<void()> on_state_changed;  // persist; may be empty
};

// Anomaly and activity counters (status / tests); never logged per frame.
struct ProxyStats {
    uint64_t frames = 0, malformed = 0, own = 0, bad_nd = 0;
    uint64_t arp_answered = 0, ns_answered = 0, probes_sent = 0, send_errors = 0;
    uint64_t conflicts = 0, wake_packets = 0, retransmits = 0, ignored_traffic = 0;
    uint64_t own_addresses = 0;  // takeovers of an address that is the host's own, refused or ended
    uint64_t lossy_rounds = 0;   // probe rounds not counted: the kernel dropped frames meanwhile
    uint64_t wakes_deferred = 0;  // wake-worthy packets that arrived during wol.cooldown
};

// A restored machine (state file): registrations carry their spec, config targets only a name.
struct RestoredMachine {
    MachineSpec spec;
    State state = State::Up;
};

class SleepProxy : private core::WakeEffects {
   public:
    explicit SleepProxy(ProxyDeps d);
    ~SleepProxy() override;
    SleepProxy(const SleepProxy&) = delete;
    SleepProxy& operator=(const SleepProxy&) = delete;

    // Installs (first time) or re-installs (reload) the machines of config targets with a
    // sleep_proxy and the register settings. Unchanged machines keep their state; removed or
    // changed ones are released first; registrations that now clash are dropped.
    void configure(const config::Config& cfg);

    // Per address of a registration (parallel to spec.addresses): the MAC the host's neighbour
    // table holds for it, if any.
    using Neighbours = std::vector<std::optional<packet::Mac>>;
    // Registration checks that need the proxy's view. The MAC that answers for an address owns
    // it (what our probes saw answering, else `neigh`): an address answered by another MAC is
    // refused; one another MAC's registration lists is refused unless this MAC answers for it,
    // and then that registration is put in *replaced. Also refused: a configured target's name,
    // MAC or address, the host's own MAC. Sets *err to a one-line message naming the field.
    bool check_registration(const MachineSpec& spec, std::string* err, const Neighbours& neigh = {},
                            std::vector<uint64_t>* replaced = nullptr) const;
    // Adds a registration (replacing one for the same MAC, and those check_registration says it
    // replaces); it starts in `up`, probing. A name another MAC's registration uses is
    // qualified with this MAC ("name-d8cb8a39bea1"): the MAC is the identity, names are labels.
    bool add_registration(MachineSpec spec, std::string* err, const Neighbours& neigh = {});
    // Drops a registration by name (netwakectl forget), releasing what it holds.
    bool forget(std::string_view name, std::string* err);
    // Re-installs machines from the state file (after configure()). Machines that were asleep
    // or waking are probed again and taken over quietly if they still do not answer (the state
    // file keeps their old state until then). A registration restored up gets its
    // shutdown_timeout only once it has been seen answering.
    void restore(const std::vector<RestoredMachine>& saved);
    // The host's addresses changed (RTNETLINK): an address held for a machine that is now the
    // host's own (added by an admin, VRRP, DHCP) is released at once, without announcing the
    // machine's MAC for it, and is not held while it stays the host's.
    void host_changed();

    // One frame received on `ifname` (any frame the receive filter passed; everything is
    // checked again here).
    void on_frame(const std::string& ifname, std::span<const uint8_t> frame, int64_t t_ns);
    // Clean exit: stop answering everything (announcing each machine's own MAC), cancel timers.
    void shutdown();

    std::vector<MachineView> machines() const;
    // Interfaces the proxy needs a packet socket on (machines' and `register.interface`).
    std::vector<std::string> interfaces() const;
    const ProxyStats& stats() const { return stats_; }
    const Announcer& announcer() const { return announcer_; }

    struct Machine;  // proxy/machine.h

   private:
    enum TimerKind : uint8_t { kProbe = 0, kWol = 2, kShutdown = 3, kAnnounce = 4, kCooldown = 5 };
    static constexpr uint8_t kSend = 6;  // id 0 (machines start at 1): the announcer's next frame

    void fire(core::KeyedTimers::Key key, int64_t now);
    void arm_announcer();
    // --- proxy.cc: lifecycle, the transition function, kernel state ---
    Machine* add_machine(MachineSpec spec, State initial);
    void arm_shutdown(Machine& m);
    void remove_machine(uint64_t id, const char* why);
    void transition(Machine& m, State to, core::Reason r, const std::string& why, const core::Hit* cause = nullptr,
                    bool restored = false);
    void take_over(Machine& m);
    void give_back(Machine& m, bool announce);
    void release_address(Machine& m, size_t i, const std::string& why);
    // The one way an event leaves the proxy: `e` (the move, attempt, what its log line needs) gets
    // kind `k`, the SPEC §5 fields and the machine's hook.
    void emit(Machine& m, core::Event e, core::EventKind k, core::Reason r, const core::Hit* cause,
              core::EventEnv extra = {});
    void sync_kernel();
    void reap_doomed();
    void changed();
    Machine* by_name(std::string_view name);
    Machine* holder(const std::string& ifname, const packet::Addr& a);  // holds `a` right now

    // --- proxy_host.cc: the host's own addresses are never held ---
    bool host_owns(Machine& m, size_t i);  // address i is the host's: logged, counted
    bool check_host(const MachineSpec& s, std::string* err) const;  // the registration's host rule
    // --- proxy_names.cc: who owns an address (probe answers), registration names ---
    std::optional<packet::Mac> answerer(const std::string& ifname, const packet::Addr& a) const;
    bool pick_name(MachineSpec& spec, const std::vector<uint64_t>& leaving, std::string* err) const;

    // --- proxy_frames.cc: received frames ---
    void heard_from(Machine& m, const std::string& what);
    void on_arp(const std::string& ifname, const packet::Decoded& d);
    void on_nd(const std::string& ifname, const packet::Decoded& d, std::span<const uint8_t> frame);
    void on_traffic(const std::string& ifname, const packet::Decoded& d, int64_t t_ns);
    void answered(const std::string& ifname, const packet::Addr& a, const packet::Mac& from);
    void conflict(Machine& m, const packet::Addr& a, const packet::Mac& from, const char* how);

    // --- proxy_probe.cc: probes, announcements ---
    void on_timer(Machine& m, uint8_t kind, int64_t now);
    void probe_tick(Machine& m, int64_t now);
    void send_probes(Machine& m, bool unicast);
    void announce_takeover(Machine& m);
    void announce_behalf(Machine& m, size_t i);
    bool send(const std::string& ifname, std::span<const uint8_t> frame);

    // --- proxy_wake.cc: waking on cycle_ (entered and left only through transition()) ---
    void begin_wake(Machine& m, core::Reason r, core::Event move);  // `move`: transition()'s, for the first `wake`
    // Leaving `waking`: a sign of life (`alive`) ends the cycle as awake and returns the awake
    // event's fields (*attempt, NETWAKED_WAKE_SECONDS); anything else just ends it.
    core::EventEnv end_wake(Machine& m, bool alive, const std::string& why, uint32_t* attempt);
    void burst(Machine& m, core::Reason r, uint32_t attempt, core::Event e = {});
    void send_wol_copy(Machine& m);
    void on_cycle_event(const core::Event& e);
    // core::WakeEffects, for cycle_
    bool send_burst(const std::string& target, uint32_t attempt) override;
    void watch(const std::string& target, bool on) override;
    void probe(const std::string& target) override;

    ProxyDeps d_;
    std::map<uint64_t, std::unique_ptr<Machine>> machines_;  // by id (stable iteration order)
    std::vector<uint64_t> doomed_;                            // registrations to remove
    Announcer announcer_;
    std::string register_if_;
    std::shared_ptr<const config::RegisterConf> reg_;
    std::vector<std::string> config_names_;                  // every config target (name clashes)
    std::map<std::string, Interest> pushed_interest_;
    std::vector<std::pair<std::string, packet::Addr>> pushed_held_;
    bool pushed_once_ = false;
    uint64_t next_id_ = 1;
    ProxyStats stats_;
    std::unique_ptr<core::WakeCycle> cycle_;  // keyed by machine name
    core::KeyedTimers timers_;  // last: its timeouts are cancelled before the machines go
};

}  // namespace nw::proxy
