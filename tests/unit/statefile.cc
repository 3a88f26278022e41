// tests/unit/statefile.cc — state/statefile.h: round trip, crash leftovers, corrupt files set
// aside, missing/unwritable directories, ENOSPC (root only: tmpfs in a private mount namespace).
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

#include "state/statefile.h"

using namespace nw::state;
namespace fs = std::filesystem;

namespace {

struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/nw-state-test.XXXXXX";
        REQUIRE(::mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

void write_text(const std::string& path, const std::string& s) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f << s;
}

std::string read_text(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

PersistedState sample() {
    PersistedState s;
    s.targets.push_back({"vpn", true, 1700000000123, 1700000000000, 1700000900123, "", "", 0, 0});
    s.targets.push_back({"nas", false, 0, 0, 0, "asleep", "", 0, 0});
    PersistedRegistration r;
    r.name = "Tartiflette";
    r.mac = "d8:cb:8a:39:be:a1";
    r.monitor = {{"192.168.0.37", {22}}, {"2001:db8:3c4d:4d58:1::2222", {25565, 22}}, {"192.168.0.38", {}}};
    r.registered_wall_ms = 1700000000999;
    r.state = "asleep";
    s.registrations.push_back(r);
    return s;
}

bool same(const PersistedState& a, const PersistedState& b) { return encode_state(a) == encode_state(b); }

std::vector<std::string> names_in(const std::string& dir) {
    std::vector<std::string> v;
    for (const auto& e : fs::directory_iterator(dir)) v.push_back(e.path().filename().string());
    std::sort(v.begin(), v.end());
    return v;
}

// Runs `body` in a child in its own mount namespace; returns its exit status (77: skipped).
int in_mount_ns(const std::function<int()>& body) {
    const pid_t pid = ::fork();
    if (pid == 0) {
        if (::unshare(CLONE_NEWNS) != 0 || ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
            ::_exit(77);
        ::_exit(body());
    }
    int st = 0;
    ::waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

}  // namespace

TEST_CASE("statefile: round trip") {
    TempDir t;
    std::string err;
    REQUIRE_MESSAGE(save_state(t.path, sample(), &err), err);
    struct stat st {};
    REQUIRE(::stat((t.path + "/state.json").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(names_in(t.path) == std::vector<std::string>{"state.json"});

    PersistedState back;
    CHECK(load_state(t.path, &back, &err) == LoadResult::Loaded);
    CHECK(same(back, sample()));
    CHECK(back.targets[0].ttl_deadline_wall_ms == 1700000900123);
    CHECK(back.registrations[0].monitor[1].ports == std::vector<uint16_t>{25565, 22});

    // Saving again replaces the file.
    PersistedState empty;
    REQUIRE(save_state(t.path, empty, &err));
    CHECK(load_state(t.path, &back, &err) == LoadResult::Loaded);
    CHECK(back.targets.empty());
    CHECK(back.registrations.empty());
}

TEST_CASE("statefile: missing file or directory is an empty start, and save creates the directory") {
    TempDir t;
    PersistedState out = sample();
    std::string err;
    CHECK(load_state(t.path, &out, &err) == LoadResult::Missing);
    CHECK(out.targets.empty());
    const std::string dir = t.path + "/var/lib/netwaked";
    CHECK(load_state(dir, &out, &err) == LoadResult::Missing);
    REQUIRE_MESSAGE(save_state(dir, sample(), &err), err);
    struct stat st {};
    REQUIRE(::stat(dir.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0700);
    CHECK(load_state(dir, &out, &err) == LoadResult::Loaded);
    CHECK(same(out, sample()));
}

TEST_CASE("statefile: a temporary file left by a crash is ignored and removed") {
    TempDir t;
    std::string err;
    REQUIRE(save_state(t.path, sample(), &err));
    write_text(t.path + "/state.json.tmp", "{\"version\":1,\"targets\":[{\"na");  // torn write
    PersistedState out;
    CHECK(load_state(t.path, &out, &err) == LoadResult::Loaded);
    CHECK(same(out, sample()));
    CHECK(names_in(t.path) == std::vector<std::string>{"state.json"});

    // A planted symlink at the temporary name is replaced, not written through.
    const std::string victim = t.path + "/victim";
    write_text(victim, "precious");
    REQUIRE(::symlink(victim.c_str(), (t.path + "/state.json.tmp").c_str()) == 0);
    REQUIRE(save_state(t.path, PersistedState{}, &err));
    CHECK(read_text(victim) == "precious");
    CHECK(::access((t.path + "/state.json.tmp").c_str(), F_OK) != 0);
}

TEST_CASE("statefile: corrupt, wrong-version or odd files are set aside, never fatal") {
    const char* bad[] = {
        "",
        "{\"version\":1,\"targets\":[",
        "[]",
        "{\"targets\":[]}",
        "{\"version\":2,\"targets\":[]}",
        "{\"version\":1,\"targets\":{}}",
        "{\"version\":1,\"targets\":[{\"active\":true}]}",
        "{\"version\":1,\"targets\":[{\"name\":\"a\"},{\"name\":\"a\"}]}",
        "{\"version\":1,\"targets\":[{\"name\":\"a\",\"active\":\"yes\"}]}",
        "{\"version\":1,\"targets\":[{\"name\":\"a\",\"last_seen_wall_ms\":1.5}]}",
        "{\"version\":1,\"registrations\":[{\"mac\":\"x\",\"monitor\":[{\"ip\":\"1.2.3.4\",\"ports\":[70000]}]}]}",
        "{\"version\":1,\"registrations\":[{\"name\":\"no mac\"}]}",
        "\xff\xfe garbage",
    };
    for (const char* text : bad) {
        TempDir t;
        INFO(text);
        write_text(t.path + "/state.json", text);
        PersistedState out = sample();
        std::string err;
        CHECK(load_state(t.path, &out, &err) == LoadResult::SetAside);
        CHECK(out.targets.empty());
        CHECK(err.find("set aside as " + t.path + "/state.json.corrupt-") != std::string::npos);
        const auto names = names_in(t.path);
        REQUIRE(names.size() == 1);
        CHECK(names[0].rfind("state.json.corrupt-", 0) == 0);
        CHECK(read_text(t.path + "/" + names[0]) == text);  // kept for inspection
        CHECK(load_state(t.path, &out, &err) == LoadResult::Missing);
    }

    TempDir t;
    std::string err;
    PersistedState out;
    // Two set-asides within the same second keep both copies.
    write_text(t.path + "/state.json", "one");
    CHECK(load_state(t.path, &out, &err) == LoadResult::SetAside);
    write_text(t.path + "/state.json", "two");
    CHECK(load_state(t.path, &out, &err) == LoadResult::SetAside);
    CHECK(names_in(t.path).size() == 2);

    // A directory where the file should be.
    TempDir d;
    REQUIRE(::mkdir((d.path + "/state.json").c_str(), 0700) == 0);
    CHECK(load_state(d.path, &out, &err) == LoadResult::SetAside);
    CHECK(err.find("not a regular file") != std::string::npos);

    // Unknown keys are tolerated (a newer build of the same version).
    TempDir u;
    write_text(u.path + "/state.json", "{\"version\":1,\"future\":true,\"targets\":[{\"name\":\"a\",\"x\":1}]}");
    CHECK(load_state(u.path, &out, &err) == LoadResult::Loaded);
    REQUIRE(out.targets.size() == 1);
    CHECK(out.targets[0].name == "a");
}

TEST_CASE("statefile: a file where the directory should be") {
    TempDir t;
    const std::string dir = t.path + "/notadir";
    write_text(dir, "x");
    std::string err;
    CHECK_FALSE(save_state(dir, sample(), &err));
    CHECK(err.find(dir) != std::string::npos);
    PersistedState out = sample();
    CHECK(load_state(dir, &out, &err) == LoadResult::Failed);
    CHECK(out.targets.empty());
    CHECK_FALSE(err.empty());
    CHECK(read_text(dir) == "x");
    CHECK_FALSE(write_file_atomic(t.path, "a/b", "x", &err));
}

TEST_CASE("statefile: unwritable directory leaves the old file intact") {
    TempDir t;
    std::string err;
    REQUIRE(save_state(t.path, sample(), &err));
    write_text(t.path + "/replay.json", "nonsense");
    if (::geteuid() != 0) {
        REQUIRE(::chmod(t.path.c_str(), 0500) == 0);
        CHECK_FALSE(save_state(t.path, PersistedState{}, &err));
        CHECK(err.find("Permission denied") != std::string::npos);
        ::chmod(t.path.c_str(), 0700);
    } else {
        const int rc = in_mount_ns([&] {
            if (::mount(t.path.c_str(), t.path.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
                ::mount(nullptr, t.path.c_str(), nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY, nullptr) != 0)
                return 77;
            std::string e;
            if (save_state(t.path, PersistedState{}, &e)) return 1;
            if (e.find("Read-only file system") == std::string::npos) return 2;
            PersistedState out;
            if (load_state(t.path, &out, &e) != LoadResult::Loaded || !same(out, sample())) return 3;
            // A corrupt file that cannot be renamed: reported, still not fatal.
            std::vector<ReplayEntry> r{{"ab", 1}};
            if (load_replay(t.path, &r, &e) != LoadResult::Failed || !r.empty()) return 4;
            if (e.find("could not set it aside") == std::string::npos) return 5;
            return 0;
        });
        if (rc == 77) MESSAGE("skipped: cannot bind-mount read-only here");
        CHECK((rc == 0 || rc == 77));
    }
    PersistedState out;
    CHECK(load_state(t.path, &out, &err) == LoadResult::Loaded);
    CHECK(same(out, sample()));
}

TEST_CASE("statefile: ENOSPC fails cleanly and keeps the old file (root: tiny tmpfs)") {
    if (::geteuid() != 0) {
        MESSAGE("skipped: needs root for a private tmpfs");
        return;
    }
    TempDir t;
    const int rc = in_mount_ns([&] {
        if (::mount("tmpfs", t.path.c_str(), "tmpfs", 0, "size=16k,mode=0700") != 0) return 77;
        std::string e;
        if (!save_state(t.path, sample(), &e)) return 1;
        PersistedState big = sample();
        for (int i = 0; i < 2000; ++i) big.targets.push_back({"target-" + std::to_string(i), true, 1, 2, 3, "", "", 0, 0});
        if (save_state(t.path, big, &e)) return 2;
        if (e.find("No space left on device") == std::string::npos) return 3;
        if (e.find("left unchanged") == std::string::npos) return 4;
        if (::access((t.path + "/state.json.tmp").c_str(), F_OK) == 0) return 5;
        PersistedState out;
        if (load_state(t.path, &out, &e) != LoadResult::Loaded || !same(out, sample())) return 6;
        // Corrupt state on a full disk can still be set aside (a rename needs no space).
        write_text(t.path + "/replay.json", "nonsense");
        std::vector<ReplayEntry> r;
        if (load_replay(t.path, &r, &e) != LoadResult::SetAside) return 7;
        return 0;
    });
    if (rc == 77) MESSAGE("skipped: cannot mount tmpfs in a private namespace");
    CHECK((rc == 0 || rc == 77));
}

TEST_CASE("statefile: replay cache") {
    TempDir t;
    std::string err;
    std::vector<ReplayEntry> v = {{"00112233445566778899aabbccddeeff", 1700000060}, {"ab", 5}};
    REQUIRE(save_replay(t.path, v, &err));
    std::vector<ReplayEntry> back;
    CHECK(load_replay(t.path, &back, &err) == LoadResult::Loaded);
    REQUIRE(back.size() == 2);
    CHECK(back[0].nonce_hex == v[0].nonce_hex);
    CHECK(back[0].expires_wall_s == 1700000060);
    CHECK(encode_replay(back) == encode_replay(v));

    for (const char* bad : {"{\"version\":1,\"nonces\":[{\"nonce\":\"xyz\"}]}", "{\"version\":1,\"nonces\":[{\"nonce\":\"abc\"}]}",
                            "{\"version\":1,\"nonces\":[{\"nonce\":\"AB\"}]}", "{\"version\":1,\"nonces\":[{}]}"}) {
        INFO(bad);
        CHECK_FALSE(decode_replay(bad, &back, &err));
    }
    write_text(t.path + "/replay.json", "{\"version\":1,\"nonces\":[{\"nonce\":\"zz\"}]}");
    CHECK(load_replay(t.path, &back, &err) == LoadResult::SetAside);
    CHECK(back.empty());
    CHECK(load_replay(t.path, &back, &err) == LoadResult::Missing);
    // The state file is untouched by replay-cache trouble.
    PersistedState st;
    CHECK(load_state(t.path, &st, &err) == LoadResult::Missing);
}

TEST_CASE("statefile: write_file_atomic is generic") {
    TempDir t;
    std::string err;
    REQUIRE(write_file_atomic(t.path, "x.bin", std::string("a\0b", 3), &err));
    CHECK(read_text(t.path + "/x.bin") == std::string("a\0b", 3));
    CHECK_FALSE(write_file_atomic(t.path, "", "x", &err));
}
