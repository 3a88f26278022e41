// sensor/ifnames.cc — interface index → name cache (SIOCGIFNAME on a miss, like if_indextoname
// but without opening a socket per call). Used only by sensor threads; never logs.
#include "sensor/ifnames.h"

#include <sys/ioctl.h>
#include <sys/socket.h>

#include <cstring>

namespace nw::sensor {

std::string_view IfNames::name(uint32_t ifindex, int64_t now_ns) {
    if (ifindex == 0) return {};
    Entry& e = cache_[ifindex % cache_.size()];
    if (e.ifindex == ifindex && e.fetched_ns != 0) {
        const int64_t ttl = e.name[0] ? kTtlNs : kNegTtlNs;
        if (now_ns - e.fetched_ns < ttl) return e.name;
    }
    e.ifindex = ifindex;
    e.fetched_ns = now_ns ? now_ns : 1;
    e.name[0] = '\0';
    if (!sock_) sock_.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock_) return {};
    ifreq ifr;
    std::memset(&ifr, 0, sizeof ifr);
    ifr.ifr_ifindex = int(ifindex);
    if (::ioctl(sock_.get(), SIOCGIFNAME, &ifr) == 0) {
        std::memcpy(e.name, ifr.ifr_name, IF_NAMESIZE);
        e.name[IF_NAMESIZE - 1] = '\0';
    }
    return e.name;
}

}  // namespace nw::sensor
