// tests/unit/wol.cc — magic packet encoders, password and udp_to parsing (pure), and a live
// test of WolSenderImpl in throw-away network namespaces (root only):
//
//     netns nwwolA-<pid>                 netns nwwolB-<pid>
//     a0 10.77.<n>.1/24  <--- veth --->  b0 10.77.<n>.2/24  (AF_PACKET + UDP :9 receivers)
//     late0 <-> late1 (created after prepare())
//
// Nothing is sent outside these namespaces.
#include <doctest/doctest.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <set>
#include <string>
#include <vector>

#include "action/wol.h"
#include "packet/wol.h"
#include "sys/fd.h"
#include "sys/log.h"

using namespace nw;

namespace {
const packet::Mac kTarget{0xd8, 0xcb, 0x8a, 0x39, 0xbe, 0xa1};

std::vector<uint8_t> expected_payload(const std::vector<uint8_t>& pw) {
    std::vector<uint8_t> v(6, 0xff);
    for (int i = 0; i < 16; ++i) v.insert(v.end(), kTarget.begin(), kTarget.end());
    v.insert(v.end(), pw.begin(), pw.end());
    return v;
}
}  // namespace

TEST_CASE("wol: magic payload for each password length") {
    uint8_t buf[packet::kMagicMaxLen];
    for (const std::vector<uint8_t>& pw : {std::vector<uint8_t>{}, std::vector<uint8_t>{192, 168, 1, 1},
                                           std::vector<uint8_t>{0, 0x11, 0x22, 0x33, 0x44, 0x55}}) {
        const size_t n = packet::magic_payload(kTarget, pw, buf);
        CHECK(n == 102 + pw.size());
        CHECK(std::vector<uint8_t>(buf, buf + n) == expected_payload(pw));
    }
    const uint8_t bad[5] = {1, 2, 3, 4, 5};
    CHECK(packet::magic_payload(kTarget, std::span<const uint8_t>(bad, 3), buf) == 0);
    CHECK(packet::magic_payload(kTarget, bad, buf) == 0);
    uint8_t small[101];
    CHECK(packet::magic_payload(kTarget, {}, small) == 0);
}

TEST_CASE("wol: magic Ethernet frame") {
    uint8_t buf[packet::kMagicFrameMaxLen];
    const packet::Mac src{0x02, 0, 0, 0, 0, 1};
    const std::vector<uint8_t> pw{1, 2, 3, 4};
    const size_t n = packet::magic_frame(packet::kBroadcastMac, src, kTarget, pw, buf);
    REQUIRE(n == 14 + 106);
    CHECK(std::vector<uint8_t>(buf, buf + 6) == std::vector<uint8_t>(6, 0xff));
    CHECK(std::memcmp(buf + 6, src.data(), 6) == 0);
    CHECK(buf[12] == 0x08);
    CHECK(buf[13] == 0x42);
    CHECK(std::vector<uint8_t>(buf + 14, buf + n) == expected_payload(pw));
    uint8_t tiny[20];
    CHECK(packet::magic_frame(packet::kBroadcastMac, src, kTarget, pw, tiny) == 0);
}

TEST_CASE("wol: SecureOn password parsing") {
    std::vector<uint8_t> v;
    std::string err;
    CHECK(packet::parse_password("00:11:22:33:44:55", &v, &err));
    CHECK(v == std::vector<uint8_t>{0, 0x11, 0x22, 0x33, 0x44, 0x55});
    CHECK(packet::parse_password("aA-bB-cC-dD-eE-fF", &v, &err));
    CHECK(v == std::vector<uint8_t>{0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff});
    CHECK(packet::parse_password("192.168.1.1", &v, &err));
    CHECK(v == std::vector<uint8_t>{192, 168, 1, 1});
    CHECK(packet::parse_password("0.0.0.255", &v, &err));
    CHECK(v == std::vector<uint8_t>{0, 0, 0, 255});
    // SPEC §7: the forms etherwake and wakeonlan users type (one-digit groups, 4 hex bytes, bare hex)
    CHECK(packet::parse_password("0:11:22:33:44:5", &v, &err));
    CHECK(v == std::vector<uint8_t>{0, 0x11, 0x22, 0x33, 0x44, 0x05});
    CHECK(packet::parse_password("0a:0b:0c:0d", &v, &err));
    CHECK(v == std::vector<uint8_t>{0x0a, 0x0b, 0x0c, 0x0d});
    CHECK(packet::parse_password("001122334455", &v, &err));
    CHECK(v == std::vector<uint8_t>{0, 0x11, 0x22, 0x33, 0x44, 0x55});
    for (const char* bad : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4 ", "1..2.3", "0001.2.3.4", "00:11:22:33:44",
                            "00:11:22:33:44:5g", "00:11-22:33:44:55", "0011.2233.4455", "00:11:22:33:44:55:66",
                            "000:11:22:33:44:55", "00:11:22:33:44:", "0011223344", "-1.2.3.4"}) {
        err.clear();
        CHECK_MESSAGE(!packet::parse_password(bad, &v, &err), bad);
        CHECK(err.find(std::string("\"") + bad + "\"") != std::string::npos);
    }
}

// ---- live test in network namespaces --------------------------------------------------------

namespace {

bool sh(const std::string& cmd) { return std::system((cmd + " >/dev/null 2>&1").c_str()) == 0; }

std::string sh_out(const std::string& cmd) {
    std::string out;
    if (FILE* f = ::popen(cmd.c_str(), "r")) {
        char buf[512];
        while (size_t n = std::fread(buf, 1, sizeof buf, f)) out.append(buf, n);
        ::pclose(f);
    }
    return out;
}

// Runs the current thread inside a named netns for the scope's lifetime.
struct InNetns {
    int self = -1;
    explicit InNetns(const std::string& name) {
        self = ::open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        const int fd = ::open(("/run/netns/" + name).c_str(), O_RDONLY | O_CLOEXEC);
        REQUIRE(fd >= 0);
        REQUIRE(::setns(fd, CLONE_NEWNET) == 0);
        ::close(fd);
    }
    ~InNetns() {
        ::setns(self, CLONE_NEWNET);
        ::close(self);
    }
};

struct Lab {
    std::string a, b, net;
    bool ok = false;
    Lab() {
        const int n = static_cast<int>(::getpid() % 200) + 20;
        a = "nwwolA-" + std::to_string(::getpid());
        b = "nwwolB-" + std::to_string(::getpid());
        net = "10.77." + std::to_string(n);
        ok = sh("ip netns add " + a) && sh("ip netns add " + b) &&
             sh("ip netns exec " + a + " sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0") &&
             sh("ip netns exec " + b + " sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0") &&
             sh("ip -n " + a + " link add a0 type veth peer name b0 netns " + b) &&
             sh("ip -n " + a + " addr add " + net + ".1/24 dev a0") &&
             sh("ip -n " + b + " addr add " + net + ".2/24 dev b0") && sh("ip -n " + a + " link set a0 up") &&
             sh("ip -n " + b + " link set b0 up") && sh("ip -n " + a + " link set lo up");
    }
    ~Lab() {
        sh("ip netns del " + a);
        sh("ip netns del " + b);
    }
};

struct Frame {
    std::vector<uint8_t> b;
    uint16_t ethertype() const { return b.size() >= 14 ? static_cast<uint16_t>(b[12] << 8 | b[13]) : 0; }
};

// Collects frames from `fd` until `enough` holds or 3 s pass.
template <class Pred> std::vector<Frame> collect(int fd, Pred enough) {
    std::vector<Frame> got;
    for (int i = 0; i < 300 && !enough(got); ++i) {
        pollfd p{fd, POLLIN, 0};
        if (::poll(&p, 1, 10) <= 0) continue;
        uint8_t buf[2048];
        ssize_t n;
        while ((n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT)) > 0) got.push_back({std::vector<uint8_t>(buf, buf + n)});
    }
    return got;
}

size_t count_wol(const std::vector<Frame>& fs) {
    size_t n = 0;
    for (const auto& f : fs) n += f.ethertype() == 0x0842;
    return n;
}

}  // namespace

TEST_CASE("wol: live: ethernet and UDP copies arrive exactly (netns, root only)") {
    if (::geteuid() != 0 || !sh("command -v ip")) {
        MESSAGE("skipped: needs root and iproute2");
        return;
    }
    log::set_sink([](log::Level, std::string_view) {});
    Lab lab;
    REQUIRE(lab.ok);
    const std::string link = sh_out("ip -n " + lab.a + " -o link show a0");
    const auto pos = link.find("link/ether ");
    REQUIRE(pos != std::string::npos);
    const std::string a0_mac = link.substr(pos + 11, 17);

    // receivers in B
    sys::unique_fd pk, u4, u6;
    {
        InNetns in(lab.b);
        pk.reset(::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL)));
        REQUIRE(pk);
        sockaddr_ll sll{};
        sll.sll_family = AF_PACKET;
        sll.sll_protocol = htons(ETH_P_ALL);
        sll.sll_ifindex = static_cast<int>(::if_nametoindex("b0"));
        REQUIRE(::bind(pk.get(), reinterpret_cast<sockaddr*>(&sll), sizeof sll) == 0);
        u4.reset(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        sockaddr_in s4{};
        s4.sin_family = AF_INET;
        s4.sin_port = htons(9);
        REQUIRE(::bind(u4.get(), reinterpret_cast<sockaddr*>(&s4), sizeof s4) == 0);
        u6.reset(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
        const int one = 1;
        ::setsockopt(u6.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        sockaddr_in6 s6{};
        s6.sin6_family = AF_INET6;
        s6.sin6_port = htons(9);
        REQUIRE(::bind(u6.get(), reinterpret_cast<sockaddr*>(&s6), sizeof s6) == 0);
    }

    config::WolConf w;
    w.mac = kTarget;
    w.interface = "a0";
    w.methods = static_cast<uint8_t>(config::WolMethod::Ethernet) | static_cast<uint8_t>(config::WolMethod::Udp);
    w.udp_to = "255.255.255.255:9";
    w.password = {0, 0x11, 0x22, 0x33, 0x44, 0x55};
    const auto payload = expected_payload(w.password);

    action::WolSenderImpl s;
    std::string err, desc;
    {
        InNetns in(lab.a);  // sockets are created in A and stay there
        REQUIRE_MESSAGE(s.prepare(w, &err), err);
        config::WolConf v6 = w;
        v6.methods = static_cast<uint8_t>(config::WolMethod::Udp);
        v6.udp_to = "[ff02::1%a0]:9";  // opens the IPv6 socket in A too
        REQUIRE_MESSAGE(s.prepare(v6, &err), err);
    }
    // Sent from the test's own namespace: the sockets (and the interface lookups made
    // through them) belong to A.
    REQUIRE_MESSAGE(s.send(w, &desc, &err), err);
    CHECK(desc == "ethernet a0 -> d8:cb:8a:39:be:a1,ff:ff:ff:ff:ff:ff; udp 255.255.255.255:9 via a0");

    auto frames = collect(pk.get(), [](const std::vector<Frame>& f) {
        size_t udp = 0;
        for (const auto& x : f) udp += x.ethertype() == 0x0800;
        return count_wol(f) >= 2 && udp >= 1;
    });
    std::set<std::string> dsts;
    bool udp_ok = false;
    for (const auto& f : frames) {
        if (f.ethertype() == 0x0842) {
            CHECK(f.b.size() == 14 + 108);
            packet::Mac d, src;
            std::memcpy(d.data(), f.b.data(), 6);
            std::memcpy(src.data(), f.b.data() + 6, 6);
            dsts.insert(packet::mac_str(d));
            CHECK(packet::mac_str(src) == a0_mac);
            CHECK(std::vector<uint8_t>(f.b.begin() + 14, f.b.end()) == payload);
        } else if (f.ethertype() == 0x0800 && f.b.size() >= 14 + 28 && f.b[14 + 9] == 17) {
            const uint8_t* ip = f.b.data() + 14;
            const size_t ihl = (ip[0] & 0x0f) * 4u;
            const uint8_t* udp = ip + ihl;
            if ((udp[2] << 8 | udp[3]) != 9) continue;
            CHECK(std::vector<uint8_t>(f.b.begin(), f.b.begin() + 6) == std::vector<uint8_t>(6, 0xff));
            CHECK(std::memcmp(ip + 16, "\xff\xff\xff\xff", 4) == 0);
            CHECK(std::vector<uint8_t>(udp + 8, f.b.data() + f.b.size()) == payload);
            udp_ok = true;
        }
    }
    CHECK(dsts == std::set<std::string>{"d8:cb:8a:39:be:a1", "ff:ff:ff:ff:ff:ff"});
    CHECK(udp_ok);
    uint8_t buf[256];
    CHECK(::recv(u4.get(), buf, sizeof buf, 0) == 108);
    CHECK(std::vector<uint8_t>(buf, buf + 108) == payload);

    SUBCASE("ethernet_to unicast / broadcast") {
        w.methods = static_cast<uint8_t>(config::WolMethod::Ethernet);
        w.ethernet_to = config::EthernetTo::Broadcast;
        REQUIRE(s.send(w, &desc, &err));
        CHECK(desc == "ethernet a0 -> ff:ff:ff:ff:ff:ff");
        w.ethernet_to = config::EthernetTo::Unicast;
        REQUIRE(s.send(w, &desc, &err));
        CHECK(desc == "ethernet a0 -> d8:cb:8a:39:be:a1");
    }
    SUBCASE("UDP: directed broadcast, unicast, IPv6 link-local multicast") {
        w.methods = static_cast<uint8_t>(config::WolMethod::Udp);
        w.password.clear();
        for (const std::string& to : {lab.net + ".255", lab.net + ".2:9"}) {
            w.udp_to = to;
            REQUIRE_MESSAGE(s.send(w, &desc, &err), err);
            CHECK(desc == "udp " + to + (to.find(':') == std::string::npos ? ":9" : ""));
            pollfd p{u4.get(), POLLIN, 0};
            REQUIRE(::poll(&p, 1, 3000) == 1);
            CHECK(::recv(u4.get(), buf, sizeof buf, 0) == 102);
        }
        // IPv6 on both ends must be up first (link-local addresses no longer tentative)
        for (int i = 0; i < 300; ++i) {
            const std::string a = sh_out("ip -n " + lab.a + " -6 addr show dev a0 scope link; ip -n " + lab.b +
                                         " -6 addr show dev b0 scope link");
            if (a.find("inet6") != a.rfind("inet6") && a.find("tentative") == std::string::npos) break;
            ::poll(nullptr, 0, 10);
        }
        for (const char* to : {"[ff02::1%a0]:9", "ff02::1"}) {  // the second takes a0 from `interface`
            w.udp_to = to;
            REQUIRE_MESSAGE(s.send(w, &desc, &err), err);
            CHECK(desc == "udp [ff02::1%a0]:9");
            pollfd p{u6.get(), POLLIN, 0};
            REQUIRE(::poll(&p, 1, 3000) == 1);
            CHECK(::recv(u6.get(), buf, sizeof buf, 0) == 102);
        }
    }
    SUBCASE("errors are returned, never thrown") {
        w.interface = "nosuch0";
        w.methods = static_cast<uint8_t>(config::WolMethod::Ethernet);
        CHECK_FALSE(s.send(w, &desc, &err));
        CHECK(err == "ethernet nosuch0: interface nosuch0 not found");
        w.methods = static_cast<uint8_t>(config::WolMethod::Udp);
        w.interface = "";
        w.udp_to = "203.0.113.1:9";  // A has no route there: nothing leaves
        CHECK_FALSE(s.send(w, &desc, &err));
        CHECK(err == "udp 203.0.113.1:9: Network is unreachable");
        w.udp_to = "wol-host.invalid:9";
        CHECK_FALSE(s.send(w, &desc, &err));
        CHECK(err.find("udp: udp_to \"wol-host.invalid:9\": expected an IP address") == 0);  // no DNS
        w.udp_to = "ff02::1";
        CHECK_FALSE(s.send(w, &desc, &err));
        CHECK(err.find("needs an interface") != std::string::npos);
        // one method failing does not stop the other
        w.methods = static_cast<uint8_t>(config::WolMethod::Ethernet) | static_cast<uint8_t>(config::WolMethod::Udp);
        w.interface = "a0";
        w.udp_to = "203.0.113.1:9";
        CHECK_FALSE(s.send(w, &desc, &err));
        CHECK(desc == "ethernet a0 -> d8:cb:8a:39:be:a1,ff:ff:ff:ff:ff:ff");
        CHECK(err == "udp 203.0.113.1:9: Network is unreachable");
    }
    SUBCASE("an interface that appears after prepare() is found at send time") {
        config::WolConf l = w;
        l.interface = "late0";
        l.methods = static_cast<uint8_t>(config::WolMethod::Ethernet);
        {
            InNetns in(lab.a);
            REQUIRE(s.prepare(l, &err));
        }
        CHECK_FALSE(s.send(l, &desc, &err));
        REQUIRE(sh("ip -n " + lab.a + " link add late0 type veth peer name late1"));
        REQUIRE(sh("ip -n " + lab.a + " link set late1 up"));
        REQUIRE(sh("ip -n " + lab.a + " link set late0 up"));
        CHECK_MESSAGE(s.send(l, &desc, &err), err);
        CHECK(desc == "ethernet late0 -> d8:cb:8a:39:be:a1,ff:ff:ff:ff:ff:ff");
    }
    SUBCASE("wol_send_once sends `repeat` bursts") {
        uint8_t junk[2048];
        while (::recv(pk.get(), junk, sizeof junk, MSG_DONTWAIT) > 0) {
        }
        w.methods = static_cast<uint8_t>(config::WolMethod::Ethernet);
        bool ok;
        {
            InNetns in(lab.a);
            ok = action::wol_send_once(w, 3, std::chrono::milliseconds(10), &desc, &err);
        }
        REQUIRE_MESSAGE(ok, err);
        CHECK(desc == "ethernet a0 -> d8:cb:8a:39:be:a1,ff:ff:ff:ff:ff:ff (x3)");
        CHECK(count_wol(collect(pk.get(), [](const std::vector<Frame>& f) { return count_wol(f) >= 6; })) == 6);
    }
    log::set_sink(nullptr);
}
