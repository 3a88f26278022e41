// daemon/sensor_set.cc — the sensor side of a reload (see sensor_set.h): the plan, and opening,
// closing and starting handles around the new rules so that a failed step leaves the old set whole.
#include "daemon/sensor_set.h"

#include <algorithm>

#include "sys/log.h"

namespace nw::daemon {
namespace {

bool same_settings(const config::SensorConf& a, const config::SensorConf& b) {
    return a.name == b.name && a.nflog == b.nflog && a.pcap == b.pcap;
}

}  // namespace

const char* step_name(SensorStep s) {
    switch (s) {
        case SensorStep::Keep: return "kept";
        case SensorStep::Open: return "opened";
        case SensorStep::Reopen: return "reopened";
    }
    return "?";
}

bool SensorPlan::changes() const {
    if (!close.empty()) return true;
    return std::any_of(items.begin(), items.end(), [](const Item& i) { return i.step != SensorStep::Keep; });
}

SensorPlan plan_sensors(const std::vector<config::SensorConf>& old, const std::vector<config::SensorConf>& next) {
    SensorPlan p;
    std::vector<bool> kept(old.size(), false), used_id;
    auto take_id = [&](size_t id) {
        if (used_id.size() <= id) used_id.resize(id + 1, false);
        used_id[id] = true;
    };
    for (size_t i = 0; i < old.size(); ++i) take_id(sensor_id(old[i], i));
    p.items.resize(next.size());
    for (size_t n = 0; n < next.size(); ++n) {
        SensorPlan::Item& it = p.items[n];
        for (size_t o = 0; o < old.size() && it.old < 0; ++o)
            if (!kept[o] && same_settings(old[o], next[n])) {
                it = {SensorStep::Keep, int(o), sensor_id(old[o], o)};
                kept[o] = true;
            }
    }
    for (size_t n = 0; n < next.size(); ++n) {
        SensorPlan::Item& it = p.items[n];
        if (it.step == SensorStep::Keep) continue;
        if (next[n].nflog)
            for (size_t o = 0; o < old.size(); ++o)
                if (!kept[o] && old[o].nflog && old[o].nflog->group == next[n].nflog->group) it.old = int(o);
        if (it.old >= 0) it.step = SensorStep::Reopen;
        size_t id = 0;
        while (id < used_id.size() && used_id[id]) ++id;
        take_id(id);
        it.id = uint16_t(id);
    }
    for (size_t o = 0; o < old.size(); ++o)
        if (!kept[o]) p.close.push_back(o);
    return p;
}

SensorReload::SensorReload(std::vector<std::unique_ptr<sensor::Sensor>>* running,
                           const std::vector<config::SensorConf>& old, sensor::Shared* shared, Drain drain)
    : running_(running), old_(old), shared_(shared), drain_(std::move(drain)) {}

SensorReload::~SensorReload() {
    if (pending_) abort();
}

std::unique_ptr<sensor::Sensor> SensorReload::make(const config::SensorConf& c, uint16_t id) const {
    return c.nflog ? sensor::make_nflog_sensor(c, id, shared_) : sensor::make_pcap_sensor(c, id, shared_);
}

void SensorReload::stop(sensor::Sensor& s) {
    s.stop();  // joins the thread and closes the handle (an NFLOG group is unbound)
    drain_(s);
}

bool SensorReload::prepare(const SensorPlan& plan, const std::vector<config::SensorConf>& next, std::string* err) {
    plan_ = plan;
    staged_.clear();
    staged_.resize(next.size());
    stopped_.clear();
    pending_ = true;
    // Open first (nothing running is touched yet), then Reopen (each needs its old handle gone).
    for (SensorStep pass : {SensorStep::Open, SensorStep::Reopen})
        for (size_t n = 0; n < next.size(); ++n) {
            const SensorPlan::Item& it = plan_.items[n];
            if (it.step != pass) continue;
            if (pass == SensorStep::Reopen) {
                stop(*(*running_)[size_t(it.old)]);
                stopped_.push_back(size_t(it.old));
            }
            auto s = make(next[n], it.id);
            std::string e;
            if (!s->open(&e)) {
                *err = "sensor " + next[n].name + ": " + e;
                abort();
                return false;
            }
            staged_[n] = std::move(s);
        }
    return true;
}

void SensorReload::abort() {
    pending_ = false;
    staged_.clear();  // closes every handle opened by prepare()
    for (size_t o : stopped_) {
        auto s = make(old_[o], sensor_id(old_[o], o));
        std::string e;
        if (!s->open(&e)) {
            log::error("reload: sensor {} cannot be reopened with its old settings: {}", old_[o].name, e);
            continue;  // the stopped one stays in the set (shown down in status)
        }
        s->start();
        (*running_)[o] = std::move(s);
    }
    stopped_.clear();
}

void SensorReload::commit() {
    pending_ = false;
    std::vector<std::unique_ptr<sensor::Sensor>> next;
    for (size_t n = 0; n < plan_.items.size(); ++n) {
        const SensorPlan::Item& it = plan_.items[n];
        next.push_back(it.step == SensorStep::Keep ? std::move((*running_)[size_t(it.old)]) : std::move(staged_[n]));
    }
    for (size_t o : plan_.close) {
        auto& s = (*running_)[o];
        if (std::find(stopped_.begin(), stopped_.end(), o) == stopped_.end()) stop(*s);
        log::notice("reload: sensor {} closed", s->name());
        s.reset();
    }
    for (size_t n = 0; n < plan_.items.size(); ++n) {
        if (plan_.items[n].step == SensorStep::Keep) continue;
        next[n]->start();
        log::notice("reload: sensor {} {}", next[n]->name(), step_name(plan_.items[n].step));
    }
    *running_ = std::move(next);
    staged_.clear();
    stopped_.clear();
}

}  // namespace nw::daemon
