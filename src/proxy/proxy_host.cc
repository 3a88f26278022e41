// proxy/proxy_host.cc — the host's own addresses are never held (issue 12 item 3): a takeover
// skips them, an address the host gains while it is held is released at once (RTNETLINK), and a
// restored registration is checked again against the host. Core thread only; logic only.
#include "packet/hostaddr.h"
#include "proxy/machine.h"
#include "proxy/proxy.h"
#include "sys/log.h"

namespace nw::proxy {

bool SleepProxy::host_owns(Machine& m, size_t i) {
    const packet::Addr& a = m.spec.addresses[i].addr;
    if (!d_.host->own_addr(a)) return false;
    ++stats_.own_addresses;
    log::warn("{}: {} is an address of this host: not held", m.spec.name, a.str());
    return true;
}

bool SleepProxy::check_host(const MachineSpec& s, std::string* err) const {
    const auto on_if = d_.host->if_addrs(s.interface);
    for (size_t i = 0; i < s.addresses.size(); ++i) {
        const packet::Addr& a = s.addresses[i].addr;
        const std::string why =
            packet::host_address_problem(a, d_.host->own_addr(a), s.interface, on_if, packet::OnLink::IfKnown);
        if (!why.empty()) {
            *err = fmt::format("monitor[{}].ip: {} {}", i, a.str(), why);
            return false;
        }
    }
    return true;
}

void SleepProxy::host_changed() {
    bool any = false;
    for (auto& [id, m] : machines_)
        for (size_t i = 0; i < m->addr.size(); ++i) {
            if (!m->addr[i].held || !d_.host->own_addr(m->spec.addresses[i].addr)) continue;
            m->addr[i].held = false;  // the host answers for it now: nothing to announce
            ++stats_.own_addresses;
            log::warn("{}: {} became an address of this host: released at once, not held while it is one",
                      m->spec.name, m->spec.addresses[i].addr.str());
            any = true;
        }
    if (!any) return;
    sync_kernel();
    changed();
}

}  // namespace nw::proxy
