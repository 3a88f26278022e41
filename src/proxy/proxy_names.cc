// proxy/proxy_names.cc — who owns an address or a name among registrations: what the probes
// saw answering for an address, whether a registration may have what it asks for, and the name
// it gets. Logic only, no I/O.
#include <algorithm>

#include "proxy/machine.h"
#include "proxy/proxy.h"
#include "sys/log.h"

namespace nw::proxy {

bool SleepProxy::check_registration(const MachineSpec& spec, std::string* err, const Neighbours& neigh,
                                    std::vector<uint64_t>* replaced) const {
    for (const auto& n : config_names_)
        if (n == spec.name) {
            *err = fmt::format("name: \"{}\" is the name of a configured target", spec.name);
            return false;
        }
    if (d_.host->own_mac(spec.mac)) {
        *err = fmt::format("mac: {} belongs to this host", packet::mac_str(spec.mac));
        return false;
    }
    for (const auto& [id, m] : machines_)
        if (!m->spec.registered && m->spec.mac == spec.mac) {
            *err = fmt::format("mac: {} is configured as target \"{}\"", packet::mac_str(spec.mac), m->spec.name);
            return false;
        }
    std::vector<uint64_t> out;
    for (size_t i = 0; i < spec.addresses.size(); ++i) {
        const packet::Addr& x = spec.addresses[i].addr;
        std::optional<packet::Mac> who = answerer(spec.interface, x);
        const char* how = "probe answer";
        if (!who && i < neigh.size() && neigh[i]) {
            who = neigh[i];
            how = "neighbour entry";
        }
        const std::string said = who ? fmt::format("; {} answers for it ({})", packet::mac_str(*who), how) : "";
        for (const auto& [id, m] : machines_) {
            const MachineSpec& o = m->spec;
            if (o.mac == spec.mac) continue;  // the same machine registering again: replaces
            if (std::none_of(o.addresses.begin(), o.addresses.end(), [&](const ProxyAddr& a) { return a.addr == x; }))
                continue;
            if (o.registered && who == spec.mac) {  // it answers for it: the other registration goes
                if (std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
                continue;
            }
            *err = fmt::format("monitor[{}].ip: {} is held for another MAC ({}, \"{}\"){}", i, x.str(),
                               packet::mac_str(o.mac), o.name, said);
            return false;
        }
        if (who && *who != spec.mac) {
            *err = fmt::format("monitor[{}].ip: {} is answered by another MAC ({}, {}), not by {}", i, x.str(),
                               packet::mac_str(*who), how, packet::mac_str(spec.mac));
            return false;
        }
    }
    if (replaced) *replaced = std::move(out);
    return true;
}

// What our probes saw answering for `a` on `ifname` while a machine listing it was up.
std::optional<packet::Mac> SleepProxy::answerer(const std::string& ifname, const packet::Addr& a) const {
    for (const auto& [id, m] : machines_) {
        if (m->spec.interface != ifname) continue;
        for (size_t i = 0; i < m->addr.size(); ++i)
            if (m->spec.addresses[i].addr == a && m->addr[i].answered_by) return m->addr[i].answered_by;
    }
    return std::nullopt;
}

// Names are labels the registering machine chose; its MAC is its identity. A name that another
// MAC's registration (not one of `leaving`) uses is qualified with this MAC, so that hooks,
// status and `forget` never see one name for two machines.
bool SleepProxy::pick_name(MachineSpec& spec, const std::vector<uint64_t>& leaving, std::string* err) const {
    auto taken = [&](const std::string& n) {
        if (std::find(config_names_.begin(), config_names_.end(), n) != config_names_.end()) return true;
        for (const auto& [id, m] : machines_)
            if (m->spec.name == n && m->spec.mac != spec.mac &&
                std::find(leaving.begin(), leaving.end(), id) == leaving.end())
                return true;
        return false;
    };
    if (!taken(spec.name)) return true;
    std::string hex;
    for (uint8_t b : spec.mac) hex += fmt::format("{:02x}", b);
    size_t cut = std::min(spec.name.size(), size_t(64 - 1 - 12));
    while (cut > 0 && cut < spec.name.size() && (uint8_t(spec.name[cut]) & 0xc0) == 0x80) --cut;  // whole UTF-8 characters
    const std::string q = spec.name.substr(0, cut) + "-" + hex;
    if (taken(q)) {
        *err = fmt::format("name: \"{}\" and \"{}\" are registered for other MACs", spec.name, q);
        return false;
    }
    log::notice("{}: the name is registered for another MAC: {} registers as \"{}\"", spec.name,
                packet::mac_str(spec.mac), q);
    spec.name = q;
    return true;
}

}  // namespace nw::proxy
