// tests/unit/privdrop.cc — the two systemd-facing sys/ helpers: privilege drop (each case in a
// forked child, needs root, skipped otherwise) and the sd_notify datagrams on $NOTIFY_SOCKET.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include "sys/notify.h"
#include "sys/privdrop.h"

namespace {

constexpr const char* kNoCaps = "0000000000000000";
constexpr const char* kNetRaw = "0000000000002000";       // 1 << CAP_NET_RAW (13)
constexpr const char* kNetRawAdmin = "0000000000003000";  // | 1 << CAP_NET_ADMIN (12)

// Runs `fn` in a forked child and returns what it reported: "" means every check held.
// The child never returns into doctest; it _exit()s.
std::string in_child(const std::function<std::string()>& fn) {
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0) return "pipe failed";
    const pid_t pid = fork();
    if (pid < 0) return "fork failed";
    if (pid == 0) {
        close(p[0]);
        std::string r = fn();
        if (!r.empty()) (void)!write(p[1], r.data(), r.size());
        _exit(r.empty() ? 0 : 1);
    }
    close(p[1]);
    std::string out;
    char buf[512];
    ssize_t n;
    while ((n = read(p[0], buf, sizeof buf)) > 0) out.append(buf, size_t(n));
    close(p[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    if (!WIFEXITED(st)) return "child died: " + out;
    if (WEXITSTATUS(st) != 0 && out.empty()) return "child failed without a report";
    return out;
}

// "CapEff" -> "0000000000002000" from a /proc/<pid>/status text.
std::string field(const std::string& status, const std::string& name) {
    const std::string key = name + ":";
    size_t at = 0;
    while ((at = status.find(key, at)) != std::string::npos) {
        if (at == 0 || status[at - 1] == '\n') {
            size_t b = status.find_first_not_of(" \t", at + key.size());
            size_t e = status.find('\n', b);
            return status.substr(b, e == std::string::npos ? std::string::npos : e - b);
        }
        at += key.size();
    }
    return "<missing>";
}

std::string self_status() {
    std::ifstream f("/proc/self/status");
    return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

std::string expect(const std::string& status, const std::string& name, const std::string& want) {
    std::string got = field(status, name);
    return got == want ? "" : name + " is " + got + ", expected " + want + "\n";
}

// What a hook would see: a plain execve'd shell's view of its own capabilities.
std::string exec_child_status() {
    std::string out;
    FILE* f = popen("/bin/sh -c 'grep -E \"^(Cap|NoNewPrivs)\" /proc/self/status'", "r");
    if (f == nullptr) return out;
    char buf[256];
    while (fgets(buf, sizeof buf, f)) out += buf;
    pclose(f);
    return out;
}

// As systemd's AmbientCapabilities= would: CAP_NET_RAW (and `admin`) inheritable + ambient.
std::string raise_ambient(bool admin) {
    std::vector<cap_value_t> v = {CAP_NET_RAW};
    if (admin) v.push_back(CAP_NET_ADMIN);
    cap_t c = cap_get_proc();
    bool ok = c && cap_set_flag(c, CAP_INHERITABLE, int(v.size()), v.data(), CAP_SET) == 0 && cap_set_proc(c) == 0;
    if (c) cap_free(c);
    for (cap_value_t x : v) ok = ok && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, long(x), 0L, 0L) == 0;
    if (!ok) return std::string("test setup: raising ambient caps failed: ") + std::strerror(errno) + "\n";
    return field(self_status(), "CapAmb") == kNoCaps ? "test setup: ambient set still empty\n" : "";
}

bool have_nobody(uid_t* uid, gid_t* gid) {
    passwd* pw = getpwnam("nobody");
    if (!pw) return false;
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return true;
}

bool skip_unless_root() {
    if (geteuid() == 0) return false;
    MESSAGE("skipped: privilege-drop tests need root");
    return true;
}

}  // namespace

TEST_CASE("drop_privileges as root switches to nobody keeping only CAP_NET_RAW") {
    if (skip_unless_root()) return;
    uid_t uid;
    gid_t gid;
    REQUIRE(have_nobody(&uid, &gid));
    std::string report = in_child([&]() -> std::string {
        std::string r = raise_ambient(true);
        if (!r.empty()) return r;
        std::string err;
        if (!nw::sys::drop_privileges("nobody", true, false, true, &err)) return "drop failed: " + err + "\n";
        uid_t ru, eu, su;
        getresuid(&ru, &eu, &su);
        if (ru != uid || eu != uid || su != uid) r += "uid not nobody in all of real/effective/saved\n";
        gid_t rg, eg, sg;
        getresgid(&rg, &eg, &sg);
        if (rg != gid || eg != gid || sg != gid) r += "gid not nobody's\n";
        gid_t groups[64];
        int ng = getgroups(64, groups);
        for (int i = 0; i < ng; ++i)
            if (groups[i] == 0) r += "supplementary group 0 kept\n";
        const std::string st = self_status();
        r += expect(st, "CapEff", kNetRaw);
        r += expect(st, "CapPrm", kNetRaw);
        r += expect(st, "CapInh", kNoCaps);
        r += expect(st, "CapAmb", kNoCaps);
        r += expect(st, "NoNewPrivs", "1");
        if (setuid(0) == 0) r += "setuid(0) succeeded after the drop\n";
        const std::string hook = exec_child_status();
        if (hook.empty()) r += "could not run /bin/sh\n";
        r += expect(hook, "CapEff", kNoCaps);
        r += expect(hook, "CapPrm", kNoCaps);
        r += expect(hook, "CapAmb", kNoCaps);
        r += expect(hook, "NoNewPrivs", "1");
        const std::string d = nw::sys::describe_caps();
        if (d.find("cap_net_raw=ep") == std::string::npos || d.find("ambient=none") == std::string::npos ||
            d.find("no_new_privs=1") == std::string::npos)
            r += "describe_caps: " + d + "\n";
        return r;
    });
    CHECK_MESSAGE(report.empty(), report);
}

TEST_CASE("drop_privileges keeps CAP_NET_RAW and CAP_NET_ADMIN when both are asked for") {
    if (skip_unless_root()) return;
    std::string report = in_child([]() -> std::string {
        std::string err;
        if (!nw::sys::drop_privileges("nobody", true, true, false, &err)) return "drop failed: " + err + "\n";
        const std::string st = self_status();
        std::string r = expect(st, "CapEff", kNetRawAdmin) + expect(st, "CapPrm", kNetRawAdmin) +
                        expect(st, "NoNewPrivs", "0");
        r += expect(exec_child_status(), "CapEff", kNoCaps);
        return r;
    });
    CHECK_MESSAGE(report.empty(), report);
}

TEST_CASE("drop_privileges when already started as the user (systemd User= + AmbientCapabilities=)") {
    if (skip_unless_root()) return;
    uid_t uid;
    gid_t gid;
    REQUIRE(have_nobody(&uid, &gid));
    std::string report = in_child([&]() -> std::string {
        // Become nobody with CAP_NET_RAW + CAP_NET_ADMIN ambient, the way systemd starts the unit.
        if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0 || setgroups(0, nullptr) != 0 ||
            setresgid(gid, gid, gid) != 0 || setresuid(uid, uid, uid) != 0)
            return "test setup: switching to nobody failed\n";
        cap_value_t v[] = {CAP_NET_RAW, CAP_NET_ADMIN};
        cap_t c = cap_init();
        cap_set_flag(c, CAP_PERMITTED, 2, v, CAP_SET);
        cap_set_flag(c, CAP_EFFECTIVE, 2, v, CAP_SET);
        const int rc = cap_set_proc(c);
        cap_free(c);
        if (rc != 0) return "test setup: cap_set_proc failed\n";
        std::string r = raise_ambient(true);
        if (!r.empty()) return r;
        // Only CAP_NET_RAW is needed: CAP_NET_ADMIN must go, and asking for a capability
        // that is not permitted is not an error.
        std::string err;
        if (!nw::sys::drop_privileges("nobody", true, false, false, &err)) return "drop failed: " + err + "\n";
        const std::string st = self_status();
        r += expect(st, "CapEff", kNetRaw) + expect(st, "CapPrm", kNetRaw) + expect(st, "CapAmb", kNoCaps);
        if (getuid() != uid) r += "uid changed\n";
        r += expect(exec_child_status(), "CapEff", kNoCaps);
        if (!nw::sys::drop_privileges("", false, false, false, &err)) return r + "second drop failed: " + err + "\n";
        r += expect(self_status(), "CapPrm", kNoCaps);
        // An unprivileged process cannot switch to another user: a clear error, not a crash.
        if (nw::sys::drop_privileges("root", true, false, false, &err)) r += "switch to root succeeded\n";
        return r;
    });
    CHECK_MESSAGE(report.empty(), report);
}

TEST_CASE("drop_privileges as root without a user keeps root but clears the ambient set") {
    if (skip_unless_root()) return;
    std::string report = in_child([]() -> std::string {
        const std::string before = field(self_status(), "CapEff");
        std::string r = raise_ambient(false);
        if (!r.empty()) return r;
        std::string err;
        if (!nw::sys::drop_privileges("", true, false, false, &err)) return "drop failed: " + err + "\n";
        if (getuid() != 0) r += "uid changed\n";
        const std::string st = self_status();
        r += expect(st, "CapEff", before) + expect(st, "CapAmb", kNoCaps);
        return r;
    });
    CHECK_MESSAGE(report.empty(), report);
}

TEST_CASE("drop_privileges reports an unknown user and changes nothing") {
    if (skip_unless_root()) return;
    std::string report = in_child([]() -> std::string {
        std::string err;
        if (nw::sys::drop_privileges("no-such-user-nw", true, false, false, &err)) return "unknown user accepted\n";
        std::string r;
        if (err.find("no-such-user-nw") == std::string::npos) r += "error does not name the user: " + err + "\n";
        if (getuid() != 0) r += "uid changed\n";
        return r;
    });
    CHECK_MESSAGE(report.empty(), report);
}

// ---- sd_notify ---------------------------------------------------------------------------

namespace {

struct NotifyListener {
    int fd = -1;
    std::string env;  // the $NOTIFY_SOCKET value
    std::string path;

    explicit NotifyListener(bool abstract) {
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un sa{};
        sa.sun_family = AF_UNIX;
        socklen_t len;
        const std::string name = "netwaked-notify-test-" + std::to_string(getpid());
        if (abstract) {
            env = "@" + name;
            std::memcpy(sa.sun_path + 1, name.data(), name.size());
            len = socklen_t(offsetof(sockaddr_un, sun_path) + 1 + name.size());
        } else {
            path = "/tmp/" + name + ".sock";
            unlink(path.c_str());
            env = path;
            std::memcpy(sa.sun_path, path.data(), path.size());
            len = socklen_t(sizeof sa);
        }
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&sa), len) == 0);
        timeval tv{2, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        setenv("NOTIFY_SOCKET", env.c_str(), 1);
    }
    ~NotifyListener() {
        unsetenv("NOTIFY_SOCKET");
        close(fd);
        if (!path.empty()) unlink(path.c_str());
    }
    std::string next() {
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        return n < 0 ? "<nothing>" : std::string(buf, size_t(n));
    }
};

}  // namespace

TEST_CASE("notify sends READY/RELOADING/STOPPING datagrams to a path or an abstract socket") {
    for (bool abstract : {false, true}) {
        CAPTURE(abstract);
        NotifyListener l(abstract);
        nw::sys::notify_ready();
        CHECK(l.next() == "READY=1");
        nw::sys::notify_reloading();
        const std::string rel = l.next();
        CHECK(rel.rfind("RELOADING=1\nMONOTONIC_USEC=", 0) == 0);
        CHECK(rel.size() > std::strlen("RELOADING=1\nMONOTONIC_USEC="));
        nw::sys::notify_stopping();
        CHECK(l.next() == "STOPPING=1");
    }
}

TEST_CASE("notify is a no-op without a usable $NOTIFY_SOCKET") {
    unsetenv("NOTIFY_SOCKET");
    CHECK_FALSE(nw::sys::notify_send("READY=1"));
    nw::sys::notify_ready();  // must not crash or block
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    CHECK_FALSE(nw::sys::notify_send("READY=1"));
    setenv("NOTIFY_SOCKET", "@", 1);
    CHECK_FALSE(nw::sys::notify_send("READY=1"));
    setenv("NOTIFY_SOCKET", "/nonexistent/netwaked-notify.sock", 1);
    CHECK_FALSE(nw::sys::notify_send("READY=1"));
    unsetenv("NOTIFY_SOCKET");
}
