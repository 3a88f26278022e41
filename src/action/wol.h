// action/wol.h — sends Wake-on-LAN magic packets (SPEC §7) over sockets opened once, before
// privileges are dropped. send() never blocks (non-blocking sockets), never throws, never aborts.
#pragma once

#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "config/model.h"
#include "core/ports.h"
#include "sys/fd.h"

namespace nw::action {

class WolSenderImpl : public core::WolSender {
   public:
    // Opens the sockets `w` needs (call before privileges are dropped) and checks its udp_to
    // (an IP literal as config::parse_hostport reads it; no DNS anywhere). An interface that
    // does not exist yet is not an error: interfaces are looked up again at every send.
    bool prepare(const config::WolConf& w, std::string* err);

    // Sends one copy per method and destination (ethernet: the target MAC and/or broadcast per
    // ethernet_to; udp: udp_to). Tries every copy; returns true only if all went out. *desc lists
    // what went out ("ethernet eth0 -> d8:..,ff:..; udp 192.168.1.255:9"), *err what did not.
    bool send(const config::WolConf& w, std::string* desc, std::string* err) override;

   private:
    struct Dest {
        sockaddr_storage addr{};
        socklen_t len = 0;
        std::string scope;  // IPv6 interface, resolved to an index at every send ("" = none)
        std::string label;  // "192.168.1.255:9" / "[ff02::1%eth0]:9"
    };
    static bool resolve(const config::WolConf& w, Dest* d, std::string* err);
    bool open_packet(std::string* err);
    bool open_udp(int family, std::string* err);
    bool send_ethernet(const config::WolConf& w, std::string* desc, std::string* err);
    bool send_udp(const config::WolConf& w, std::string* desc, std::string* err);

    sys::unique_fd packet_;        // AF_PACKET SOCK_RAW, protocol 0: sends on any ifindex, receives nothing
    sys::unique_fd udp4_, udp6_;   // SO_BROADCAST on udp4_
};

// netwakectl without a daemon: prepare + `repeat` sends `interval` apart (sleeps in between).
bool wol_send_once(const config::WolConf& w, uint32_t repeat, std::chrono::milliseconds interval, std::string* desc,
                   std::string* err);

}  // namespace nw::action
