// sys/privdrop.cc — privilege drop with libcap and prctl (see privdrop.h). Touches only the
// calling process's credentials; no logging (the caller logs describe_caps()).
#include "sys/privdrop.h"

#include <grp.h>
#include <pwd.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include <fmt/format.h>

namespace nw::sys {

namespace {

struct Account {
    std::string name;
    uid_t uid = 0;
    gid_t gid = 0;
};

bool lookup_user(const std::string& name, Account* out, std::string* err) {
    long hint = sysconf(_SC_GETPW_R_SIZE_MAX);
    std::vector<char> buf(hint > 1024 ? size_t(hint) : 16384);
    for (;;) {
        passwd pw{};
        passwd* res = nullptr;
        const int rc = getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &res);
        if (rc == ERANGE && buf.size() < (1u << 20)) {
            buf.resize(buf.size() * 2);
            continue;
        }
        if (rc != 0) {
            *err = fmt::format("user \"{}\": lookup failed: {}", name, std::strerror(rc));
            return false;
        }
        if (res == nullptr) {
            *err = fmt::format("user \"{}\": no such user", name);
            return false;
        }
        out->name = pw.pw_name;
        out->uid = pw.pw_uid;
        out->gid = pw.pw_gid;
        return true;
    }
}

// The requested capabilities that are in the permitted set now (one cannot gain others).
bool wanted_caps(bool net_raw, bool net_admin, std::vector<cap_value_t>* out, std::string* err) {
    cap_t cur = cap_get_proc();
    if (cur == nullptr) {
        *err = fmt::format("cap_get_proc: {}", std::strerror(errno));
        return false;
    }
    const std::pair<bool, cap_value_t> want[] = {{net_raw, CAP_NET_RAW}, {net_admin, CAP_NET_ADMIN}};
    for (const auto& [on, v] : want) {
        cap_flag_value_t has = CAP_CLEAR;
        if (on && cap_get_flag(cur, v, CAP_PERMITTED, &has) == 0 && has == CAP_SET) out->push_back(v);
    }
    cap_free(cur);
    return true;
}

// permitted = effective = keep; inheritable = empty.
bool set_caps(const std::vector<cap_value_t>& keep, std::string* err) {
    cap_t c = cap_init();
    if (c == nullptr) {
        *err = fmt::format("cap_init: {}", std::strerror(errno));
        return false;
    }
    bool ok = true;
    if (!keep.empty()) {
        ok = cap_set_flag(c, CAP_PERMITTED, int(keep.size()), keep.data(), CAP_SET) == 0 &&
             cap_set_flag(c, CAP_EFFECTIVE, int(keep.size()), keep.data(), CAP_SET) == 0;
    }
    if (ok && cap_set_proc(c) != 0) ok = false;
    if (!ok) *err = fmt::format("setting capabilities: {}", std::strerror(errno));
    cap_free(c);
    return ok;
}

bool switch_user(const Account& a, std::string* err) {
    if (prctl(PR_SET_KEEPCAPS, 1L, 0L, 0L, 0L) != 0) {
        *err = fmt::format("prctl(PR_SET_KEEPCAPS): {}", std::strerror(errno));
        return false;
    }
    if (initgroups(a.name.c_str(), a.gid) != 0) {
        *err = fmt::format("initgroups({}): {}", a.name, std::strerror(errno));
        return false;
    }
    if (setresgid(a.gid, a.gid, a.gid) != 0) {
        *err = fmt::format("setresgid({}): {}", a.gid, std::strerror(errno));
        return false;
    }
    if (setresuid(a.uid, a.uid, a.uid) != 0) {
        *err = fmt::format("setresuid({}): {}", a.uid, std::strerror(errno));
        return false;
    }
    prctl(PR_SET_KEEPCAPS, 0L, 0L, 0L, 0L);
    uid_t r, e, s;
    if (getresuid(&r, &e, &s) != 0 || r != a.uid || e != a.uid || s != a.uid) {
        *err = fmt::format("switching to user \"{}\" did not take effect", a.name);
        return false;
    }
    return true;
}

std::string cap_list_text(cap_t c) {
    char* t = cap_to_text(c, nullptr);
    if (t == nullptr) return "?";
    std::string s = t;
    cap_free(t);
    return s == "=" ? "none" : s;  // "=ep" means every capability
}

}  // namespace

bool drop_privileges(const std::string& user, bool keep_net_raw, bool keep_net_admin, bool no_new_privs,
                     std::string* err) {
    Account target;
    bool switching = false;
    if (!user.empty()) {
        if (!lookup_user(user, &target, err)) return false;
        switching = target.uid != geteuid() || target.uid != getuid() || target.gid != getegid();
        if (switching && target.uid == 0) {  // "user: root" while started as someone else
            *err = fmt::format("user \"{}\" is uid 0: refusing to switch to it", user);
            return false;
        }
    }
    // Root staying root keeps every capability (hooks then run as root, as with tuninetd).
    const bool reduce = switching || geteuid() != 0;

    std::vector<cap_value_t> keep;
    if (reduce && !wanted_caps(keep_net_raw, keep_net_admin, &keep, err)) return false;
    if (switching && !switch_user(target, err)) return false;
    if (reduce && !set_caps(keep, err)) return false;

    // Ambient capabilities would survive every execve of a hook: clear them (EINVAL: a kernel
    // older than 4.3 has none).
    if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0L, 0L, 0L) != 0 && errno != EINVAL) {
        *err = fmt::format("prctl(PR_CAP_AMBIENT_CLEAR_ALL): {}", std::strerror(errno));
        return false;
    }
    if (no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0) {
        *err = fmt::format("prctl(PR_SET_NO_NEW_PRIVS): {}", std::strerror(errno));
        return false;
    }
    return true;
}

std::string describe_caps() {
    std::string s = fmt::format("uid={}", geteuid());
    if (passwd* pw = getpwuid(geteuid())) s += fmt::format("({})", pw->pw_name);
    s += fmt::format(" gid={}", getegid());

    const int ng = getgroups(0, nullptr);
    std::vector<gid_t> groups(ng > 0 ? size_t(ng) : 0);
    if (ng > 0 && getgroups(ng, groups.data()) == ng) {
        s += " groups=";
        for (int i = 0; i < ng; ++i) s += fmt::format("{}{}", i ? "," : "", groups[size_t(i)]);
    }

    if (cap_t c = cap_get_proc()) {
        s += " caps=[" + cap_list_text(c) + "]";
        cap_free(c);
    }

    std::string amb;
    for (cap_value_t v = 0; v <= CAP_LAST_CAP; ++v) {
        if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_IS_SET, long(v), 0L, 0L) != 1) continue;
        char* n = cap_to_name(v);
        amb += (amb.empty() ? "" : ",") + std::string(n ? n : "?");
        if (n) cap_free(n);
    }
    s += " ambient=" + (amb.empty() ? std::string("none") : amb);
    s += fmt::format(" no_new_privs={}", prctl(PR_GET_NO_NEW_PRIVS, 0L, 0L, 0L, 0L) == 1 ? 1 : 0);
    return s;
}

}  // namespace nw::sys
