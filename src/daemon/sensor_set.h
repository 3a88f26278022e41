// daemon/sensor_set.h — what a reload does to the running sensors (SPEC §3): which keep their
// handle, which open and which close (plan_sensors), and applying that so a failure changes nothing.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "config/model.h"
#include "sensor/sensor.h"

namespace nw::daemon {

// What a reload does with one sensor of the new configuration.
enum class SensorStep : uint8_t {
    Keep,    // same name and settings as a running sensor: its handle and thread go on untouched
    Open,    // a new handle, opened while the running sensors still capture (a changed pcap sensor
             // too: its new handle opens beside the old one, which closes at the commit)
    Reopen,  // an NFLOG group a running sensor binds, with another name or copy_range: a group has
             // a single listener, so the old handle closes just before the new one opens
};
const char* step_name(SensorStep s);

struct SensorPlan {
    struct Item {
        SensorStep step = SensorStep::Open;
        int old = -1;     // Keep, Reopen: position of the running sensor it keeps or replaces
        uint16_t id = 0;  // its number in rules and Hits (config::SensorConf::id)
    };
    std::vector<Item> items;   // one per sensor of the new configuration, in its order
    std::vector<size_t> close; // positions of running sensors that close (removed, changed, reopened)
    // True if the running set changes at all (a pure reorder keeps every handle and is no change).
    bool changes() const;
};

// The running sensor's number: its id, or its position when it has none (config/model.h).
inline uint16_t sensor_id(const config::SensorConf& s, size_t pos) { return uint16_t(s.id >= 0 ? s.id : int(pos)); }

// Pure. `old`: the running configuration's sensors; `next`: the new one's. A kept sensor keeps its
// number; every other gets the smallest number no running or already planned sensor uses, so Hits
// still queued from a closing sensor are never taken for the new one's.
SensorPlan plan_sensors(const std::vector<config::SensorConf>& old, const std::vector<config::SensorConf>& next);

// Applies a plan to the running sensors in two halves: prepare() opens every new handle (nothing
// else changes, or everything is put back); commit() closes what goes and starts what came.
class SensorReload {
   public:
    using Drain = std::function<void(sensor::Sensor&)>;  // hands a stopped sensor's queued Hits to the core
    SensorReload(std::vector<std::unique_ptr<sensor::Sensor>>* running, const std::vector<config::SensorConf>& old,
                 sensor::Shared* shared, Drain drain);
    ~SensorReload();  // without commit(): abort()
    SensorReload(const SensorReload&) = delete;
    SensorReload& operator=(const SensorReload&) = delete;

    // Opens the handles the plan needs: Open ones first, then the Reopen ones (their old sensor
    // stopped and drained just before). False + *err (naming the sensor) if any fails; then every
    // handle opened here is closed and each stopped sensor reopened with its old settings.
    bool prepare(const SensorPlan& plan, const std::vector<config::SensorConf>& next, std::string* err);
    // Puts back what prepare() changed (the new rules could not be installed).
    void abort();
    // After the new rules are published: stops, drains and closes the sensors that go, puts the
    // set in the new configuration's order and starts the new threads.
    void commit();

   private:
    std::unique_ptr<sensor::Sensor> make(const config::SensorConf& c, uint16_t id) const;
    void stop(sensor::Sensor& s);

    std::vector<std::unique_ptr<sensor::Sensor>>* running_;
    const std::vector<config::SensorConf>& old_;
    sensor::Shared* shared_;
    Drain drain_;
    SensorPlan plan_;
    std::vector<std::unique_ptr<sensor::Sensor>> staged_;  // per plan item: the new sensor (Open, Reopen)
    std::vector<size_t> stopped_;                          // running positions stopped by prepare()
    bool pending_ = false;                                 // prepare() succeeded, no commit()/abort() yet
};

}  // namespace nw::daemon
