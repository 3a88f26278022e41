// config/load.cc — loader entry points, the top level, `daemon:` and `sensors:` (SPEC §3).
// Parses fully before touching the caller's Config; never throws; opens only the config file
// (and, with check_files, stats hooks/key files and looks up daemon.user).
#include "config/load.h"

#include <pcap/pcap.h>
#include <pwd.h>
#include <yaml-cpp/eventhandler.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <sstream>
#include <system_error>
#include <thread>

#include "config/sections.h"
#include "config/text.h"

namespace nw::config {
namespace detail {

int find_sensor(const Config& cfg, const std::string& name) {
    for (size_t i = 0; i < cfg.sensors.size(); ++i)
        if (cfg.sensors[i].name == name) return int(i);
    return -1;
}

std::string sensor_names(const Config& cfg) {
    std::string s;
    for (const SensorConf& sc : cfg.sensors) s += (s.empty() ? "" : ", ") + sc.name;
    return s.empty() ? "none" : s;
}

void read_daemon(Ctx& c, const Val& v, DaemonConf* out) {
    MapReader m(c, v, "daemon", "daemon", {"user", "pidfile", "state_dir", "control_socket", "log_level"});
    if (!m.ok()) return;
    if (Val u = m.get("user"); u.present && read_string(c, u, &out->user) && !out->user.empty()) {
        if (out->user.size() > 32 || out->user.find_first_of(" /:\t\n") != std::string::npos) {
            c.error(u.mark, u.key + ": " + quote(out->user) + " is not a user name");
        } else if (c.opt.check_files && getpwnam(out->user.c_str()) == nullptr) {
            c.error(u.mark, u.key + ": no such user " + quote(out->user));
        }
    }
    if (Val p = m.get("pidfile"); p.present) read_path(c, p, &out->pidfile, true);
    if (Val p = m.get("state_dir"); p.present) read_path(c, p, &out->state_dir, true);
    if (Val p = m.get("control_socket"); p.present) read_path(c, p, &out->control_socket, true);
    if (Val l = m.get("log_level"); l.present) {
        static const LogLevel levels[] = {LogLevel::Debug, LogLevel::Info, LogLevel::Notice, LogLevel::Warning,
                                          LogLevel::Error};
        bool found = false;
        if (l.node.IsScalar())
            for (LogLevel x : levels)
                if (l.node.Scalar() == log_level_name(x)) out->log_level = x, found = true;
        if (!found)
            c.error(l.mark, l.key + ": expected one of debug, info, notice, warning, error, got " + describe(l.node));
    }
}

namespace {

void check_filter(Ctx& c, const Val& v, const std::string& filter, uint32_t snaplen) {
    if (filter.empty()) return;
    pcap_t* p = pcap_open_dead(DLT_EN10MB, int(snaplen));
    if (!p) return;
    bpf_program prog{};
    if (pcap_compile(p, &prog, filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
        c.error(v.mark, v.key + ": bad filter " + quote(filter) + ": " + pcap_geterr(p));
    } else {
        pcap_freecode(&prog);
    }
    pcap_close(p);
}

void read_sensor(Ctx& c, const Val& v, SensorConf* s) {
    MapReader m(c, v, "sensor", "", {"name", "nflog", "pcap"});
    if (!m.ok()) return;
    if (m.has("nflog") == m.has("pcap")) {
        c.error(m.mark(), "sensor: needs exactly one of \"nflog\" or \"pcap\"");
    }
    if (Val n = m.get("nflog"); n.present) {
        MapReader nm(c, n, "nflog", "nflog", {"group", "copy_range"});
        NflogConf nf;
        if (nm.ok()) {
            nm.require("group");
            if (Val g = nm.get("group"); g.present) read_uint_as(c, g, 0, 65535, &nf.group);
            if (Val r = nm.get("copy_range"); r.present) read_uint_as(c, r, 64, 65535, &nf.copy_range);
        }
        s->nflog = nf;
        s->name = "nflog:" + std::to_string(nf.group);
    }
    if (Val p = m.get("pcap"); p.present) {
        MapReader pm(c, p, "pcap", "pcap", {"interface", "filter", "snaplen", "buffer_size", "promisc"});
        PcapConf pc;
        if (pm.ok()) {
            pm.require("interface");
            if (Val i = pm.get("interface"); i.present) {
                // pcap device names: an interface, "any", or a pseudo-device such as "nflog:5".
                if (read_string(c, i, &pc.interface, false) && pc.interface.rfind("nflog:", 0) != 0 &&
                    !valid_ifname(pc.interface)) {
                    c.error(i.mark, i.key + ": " + quote(pc.interface) + " is not an interface name");
                }
            }
            if (Val x = pm.get("snaplen"); x.present) read_uint_as(c, x, 64, 262144, &pc.snaplen);
            if (Val x = pm.get("buffer_size"); x.present) read_uint_as(c, x, 65536, 1u << 30, &pc.buffer_size);
            if (Val x = pm.get("promisc"); x.present) read_bool(c, x, &pc.promisc);
            if (Val f = pm.get("filter"); f.present && read_string(c, f, &pc.filter)) {
                check_filter(c, f, pc.filter, pc.snaplen);
            }
        }
        s->pcap = pc;
        s->name = "pcap:" + pc.interface;
    }
    if (Val n = m.get("name"); n.present && read_string(c, n, &s->name, false)) {
        if (!valid_sensor_name(s->name))
            c.error(n.mark, "name: " + quote(s->name) + " is not a valid sensor name ([A-Za-z0-9_.:-], 1-64 characters)");
    }
}

}  // namespace

void read_sensors(Ctx& c, const Val& v, std::vector<SensorConf>* out) {
    std::vector<Val> items = read_list(c, v, false, "a list of sensors");
    if (items.empty() && v.node.IsSequence()) c.error(v.mark, "sensors: at least one sensor is needed");
    std::vector<YAML::Mark> marks;
    for (const Val& item : items) {
        SensorConf s;
        read_sensor(c, item, &s);  // kept even if it had errors, so references to it resolve
        for (size_t i = 0; i < out->size(); ++i) {
            if ((*out)[i].name == s.name) {
                c.error(item.mark, "sensors: duplicate sensor name " + quote(s.name) + " (first at line " +
                                       std::to_string(marks[i].line + 1) + ")");
                s.name.clear();
                break;
            }
            if (s.nflog && (*out)[i].nflog && (*out)[i].nflog->group == s.nflog->group) {
                c.error(item.mark, "sensors: nflog group " + std::to_string(s.nflog->group) +
                                       " is already used by sensor " + quote((*out)[i].name));
                s.name.clear();
                break;
            }
        }
        if (s.name.empty()) continue;
        out->push_back(std::move(s));
        marks.push_back(item.mark);
    }
}

namespace {

void read_root(Ctx& c, const YAML::Node& root, Config* cfg) {
    Val rv(root, root.Mark(), "");
    MapReader m(c, rv, "the top level", "", {"daemon", "sensors", "defaults", "targets", "register", "knock", "mqtt", "metrics",
                                                     "wol_relay"});
    if (!m.ok()) return;
    if (Val d = m.get("daemon"); d.present) read_daemon(c, d, &cfg->daemon);
    if (Val s = m.get("sensors"); s.present) {
        read_sensors(c, s, &cfg->sensors);
    } else {
        c.error(m.mark(), "missing key \"sensors\" (at least one sensor is needed)");
    }
    Defaults defs;
    if (Val d = m.get("defaults"); d.present) read_defaults(c, d, *cfg, &defs);
    std::vector<TargetInfo> info;
    Val r = m.get("register");
    // With registration, machines can be the only targets (a Wakupator replacement): an empty
    // `targets` list, or none, is allowed then.
    if (Val t = m.get("targets"); t.present) {
        read_targets(c, t, defs, cfg, &info, /*may_be_empty=*/r.present);
    } else if (!r.present) {
        c.error(m.mark(), "missing key \"targets\" (at least one target is needed, unless a register section is given)");
    }
    if (r.present) {
        RegisterConf rc;
        read_register(c, r, defs, &rc);
        cfg->reg = std::move(rc);
    }
    if (Val k = m.get("knock"); k.present) read_knocks(c, k, cfg);
    if (Val x = m.get("wol_relay"); x.present) read_wol_relay(c, x, cfg);
    if (Val q = m.get("mqtt"); q.present) read_mqtt(c, q, *cfg, &cfg->mqtt.emplace());
    if (Val x = m.get("metrics"); x.present) read_metrics(c, x, &cfg->metrics.emplace());

    // A target must be startable by something.
    for (size_t i = 0; i < info.size() && i < cfg->targets.size(); ++i) {
        const TargetConf& t = cfg->targets[i];
        if (info[i].has_match || t.sleep_proxy) continue;
        bool knocked = std::any_of(cfg->knocks.begin(), cfg->knocks.end(),
                                   [&](const KnockConf& k) { return k.target == t.name; });
        if (!knocked)
            c.error(info[i].mark, "target " + quote(t.name) +
                                      ": missing key \"match\" (needed unless a knock or sleep_proxy starts the target)");
    }
}

// Reports a second YAML document. Parses the text once more, event by event, instead of using
// YAML::LoadAll: yaml-cpp 0.7's LoadAll never returns on some inputs (found by fuzz_config).
void check_single_document(Ctx& c, const std::string& text) {
    struct Starts : YAML::EventHandler {
        std::vector<YAML::Mark> docs;
        void OnDocumentStart(const YAML::Mark& m) override { docs.push_back(m); }
        void OnDocumentEnd() override {}
        void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
        void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
        void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
        void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
        void OnSequenceEnd() override {}
        void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
        void OnMapEnd() override {}
    } h;
    std::istringstream in(text);
    YAML::Parser p(in);
    if (p.HandleNextDocument(h) && p.HandleNextDocument(h) && h.docs.size() > 1)
        c.error(h.docs[1], "only one YAML document is allowed");
}

}  // namespace

}  // namespace detail

bool load_string(std::string_view yaml, const std::string& source_name, Config* out,
                 std::vector<std::string>* errors, const LoadOptions& opt) {
    detail::Ctx c;
    c.source = source_name;
    c.opt = opt;
    Config cfg;
    cfg.source = source_name;
    try {
        const std::string text(yaml);
        YAML::Node root = YAML::Load(text);
        detail::check_single_document(c, text);
        detail::read_root(c, root, &cfg);
    } catch (const YAML::Exception& e) {
        c.error(e.mark, "YAML syntax error: " + e.msg);
    } catch (const std::exception& e) {
        c.error(YAML::Mark::null_mark(), std::string("cannot parse: ") + e.what());
    }
    if (!c.errs.empty()) {
        std::stable_sort(c.errs.begin(), c.errs.end(), [](const detail::Ctx::Err& a, const detail::Ctx::Err& b) {
            return a.line != b.line ? a.line < b.line : a.col < b.col;
        });
        for (const detail::Ctx::Err& e : c.errs)
            errors->push_back(source_name + ":" + std::to_string(e.line) + ":" + std::to_string(e.col) + ": " + e.msg);
        return false;
    }
    *out = std::move(cfg);
    return true;
}

namespace {

bool load_file_here(const std::string& path, Config* out, std::vector<std::string>* errors, const LoadOptions& opt) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        errors->push_back(path + ": cannot open: " + std::strerror(errno));
        return false;
    }
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    if (f.bad()) {
        errors->push_back(path + ": cannot read: " + std::strerror(errno));
        return false;
    }
    return load_string(text, path, out, errors, opt);
}

}  // namespace

// The file is parsed on the calling thread and the result copied on a short-lived one: glibc gives that
// thread its own malloc arena, so the model the caller keeps is packed there (each vector at its exact
// size) instead of being interleaved with the YAML tree's many small blocks, whose freed heap then
// pinned ~29 MB resident at 10,000 targets (issue 16). The caller's heap holds only garbage after the
// copy, which malloc_trim gives back whole (glibc trims the main arena's top; a thread arena's it does not).
// Small configurations skip the copy: their freed heap is a few KiB, and a thread started
// there is the one thing qemu-user's armhf emulation cannot run (tests/cross.sh).
constexpr size_t kArenaCopyMinTargets = 256;

// A plain copy would share its Interned strings with the parse, whose storage sits among the tree's
// garbage and would pin those pages (10,000 targets with their own prefixes: 29 MB RssAnon instead
// of 11.6): intern them again, on the copying thread.
Config own_copy(const Config& c) {
    Config out(c);
    Interner in;
    auto again = [&](Interned* s) { *s = in.get(s->str()); };
    auto rules = [&](std::vector<Rule>& rs) {
        for (Rule& r : rs) {
            again(&r.sensor);
            again(&r.in_iface);
            again(&r.out_iface);
            if (r.prefix) again(&*r.prefix);
        }
    };
    for (TargetConf& t : out.targets) {
        again(&t.hook);
        again(&t.hook_shell);
        rules(t.match);
        if (t.keepalive) rules(*t.keepalive);
    }
    return out;
}

bool load_file(const std::string& path, Config* out, std::vector<std::string>* errors, const LoadOptions& opt) {
    Config parsed;
    if (!load_file_here(path, &parsed, errors, opt)) return false;
    if (parsed.targets.size() < kArenaCopyMinTargets) {
        *out = std::move(parsed);
        return true;
    }
    try {
        std::thread t([&] { *out = own_copy(parsed); });
        t.join();
    } catch (const std::system_error&) {  // no thread: keep the parse's copy
        *out = std::move(parsed);
    }
    return true;
}

}  // namespace nw::config
