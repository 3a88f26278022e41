// proxy/persist.cc — conversions between SleepProxy machines and state-file records. No I/O;
// malformed records are skipped with a warning.
#include "proxy/persist.h"

#include "packet/parse.h"
#include "sys/log.h"

namespace nw::proxy {

void save_proxy(const SleepProxy& p, state::PersistedState* ps) {
    for (const auto& v : p.machines()) {
        const MachineSpec& s = *v.spec;
        if (!s.registered) {
            for (auto& t : ps->targets)
                if (t.name == s.name) t.proxy_state = state_name(v.saved);
            continue;
        }
        state::PersistedRegistration r;
        r.name = s.name;
        r.mac = packet::mac_str(s.mac);
        r.registered_wall_ms = s.registered_wall_ms;
        r.state = state_name(v.saved);
        for (const auto& a : s.addresses) {
            state::MonitoredAddress m;
            m.ip = a.addr.str();
            for (const auto& pr : a.ports)  // kNoPortWakes is saved as [] (registrations have no other negation)
                for (uint32_t x = pr.lo; x <= pr.hi && !pr.negate && m.ports.size() < 65536; ++x)
                    m.ports.push_back(uint16_t(x));
            r.monitor.push_back(std::move(m));
        }
        ps->registrations.push_back(std::move(r));
    }
}

std::vector<RestoredMachine> load_proxy(const state::PersistedState& ps) {
    std::vector<RestoredMachine> out;
    for (const auto& t : ps.targets) {
        RestoredMachine r;
        if (t.proxy_state.empty() || !parse_state(t.proxy_state, &r.state)) continue;
        r.spec.name = t.name;
        out.push_back(std::move(r));
    }
    for (const auto& reg : ps.registrations) {
        RestoredMachine r;
        r.spec.name = reg.name;
        r.spec.registered = true;
        r.spec.registered_wall_ms = reg.registered_wall_ms;
        bool ok = packet::parse_mac(reg.mac, &r.spec.mac, nullptr) && parse_state(reg.state, &r.state) &&
                  !reg.monitor.empty();
        for (const auto& m : reg.monitor) {
            ProxyAddr a;
            ok = ok && packet::parse_addr(m.ip, &a.addr, nullptr);
            for (uint16_t port : m.ports) a.ports.push_back({port, port, false});
            if (m.ports.empty()) a.ports = kNoPortWakes;
            r.spec.addresses.push_back(std::move(a));
        }
        if (!ok) {
            log::warn("state file: registration \"{}\" is unreadable: dropped", reg.name);
            continue;
        }
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace nw::proxy
