// tests/unit/spa.cc — SPA (SPEC §10): packet/spa parser and HMAC, key files, keygen, the client and CLI,
// the README's shell recipe and doc/spa-knock.py (skipped when tools are missing). Engine: knock_seq.cc.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "action/spa_key.h"
#include "packet/spa.h"
#include "tools/knock_send.h"

using namespace nw;
using namespace std::chrono_literals;

namespace {

constexpr int64_t kWall = 1'700'000'000;

const std::vector<uint8_t> kKey(32, 0x5a);
const std::vector<uint8_t> kOtherKey(32, 0xa5);

packet::SpaNonce nonce(uint8_t n) {
    packet::SpaNonce x{};
    x.fill(n);
    return x;
}

config::KnockConf spa_knock(const std::string& name, const std::string& target, uint16_t port = 62201) {
    config::KnockConf k;
    k.name = name;
    k.target = target;
    k.spa = config::SpaConf{};
    k.spa->port = port;
    k.spa->window = 60s;
    return k;
}

std::string tmpdir() {
    char t[] = "/tmp/nw-spa-XXXXXX";
    REQUIRE(mkdtemp(t) != nullptr);
    return t;
}

void write_file(const std::string& path, const std::string& text, mode_t mode) {
    std::ofstream(path) << text;
    REQUIRE(chmod(path.c_str(), mode) == 0);
}

bool have(const char* tool) { return std::system((std::string("command -v ") + tool + " >/dev/null 2>&1").c_str()) == 0; }

// A UDP receiver on 127.0.0.1:<ephemeral> for the client tests.
struct Receiver {
    int fd = -1;
    uint16_t port = 0;
    Receiver() {
        fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
        socklen_t l = sizeof a;
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &l);
        port = ntohs(a.sin_port);
        timeval tv{5, 0};
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ~Receiver() { close(fd); }
    std::vector<uint8_t> recv() {
        std::vector<uint8_t> b(2048);
        ssize_t n = ::recv(fd, b.data(), b.size(), 0);
        b.resize(n < 0 ? 0 : size_t(n));
        return b;
    }
};

// Checks a received datagram the way the daemon does: parse, HMAC, target, fresh timestamp.
void check_datagram(const std::vector<uint8_t>& dg, const std::vector<uint8_t>& key, const std::string& target) {
    packet::SpaMessage m;
    std::string err;
    REQUIRE_MESSAGE(packet::spa_parse(dg, &m, &err), err);
    CHECK(packet::spa_verify_hmac(m, key));
    CHECK(m.target() == target);
    int64_t skew = int64_t(m.timestamp) - int64_t(time(nullptr));
    CHECK(skew <= 2);
    CHECK(skew >= -5);
}

}  // namespace

// ---- parser and HMAC ---------------------------------------------------------------------

TEST_CASE("spa: build, parse and verify round trip") {
    auto dg = packet::spa_build(1, 0x0102030405060708ull, nonce(7), "nas", kKey);
    REQUIRE(dg.size() == 25 + 3 + 32);
    CHECK(dg[0] == 1);
    CHECK(dg[1] == 0x01);
    CHECK(dg[8] == 0x08);
    packet::SpaMessage m;
    std::string err;
    REQUIRE(packet::spa_parse(dg, &m, &err));
    CHECK(m.version == 1);
    CHECK(m.timestamp == 0x0102030405060708ull);
    CHECK(m.nonce == nonce(7));
    CHECK(m.target() == "nas");
    CHECK(packet::spa_verify_hmac(m, kKey));
    CHECK(!packet::spa_verify_hmac(m, kOtherKey));
    CHECK(!packet::spa_verify_hmac(m, {}));
    packet::SpaKey k(kKey), other(kOtherKey), none;
    CHECK(k.valid());
    CHECK(k.verify(m));
    CHECK(k.verify(m));                      // re-usable
    CHECK(!other.verify(m));
    CHECK(!none.valid());
    CHECK(!none.verify(m));
    packet::SpaKey moved = std::move(k);
    CHECK(moved.verify(m));
}

TEST_CASE("spa: any altered byte fails the HMAC") {
    auto dg = packet::spa_build(1, kWall, nonce(1), "nas", kKey);
    packet::SpaKey k(kKey);
    for (size_t i = 1; i < dg.size(); ++i) {    // byte 0 is the version: a parse error instead
        auto bad = dg;
        bad[i] ^= (i >= 25 && i < 28) ? 0x20 : 0x01;  // keep the target's characters legal
        packet::SpaMessage m;
        REQUIRE(packet::spa_parse(bad, &m, nullptr));
        CHECK_MESSAGE(!packet::spa_verify_hmac(m, kKey), "byte ", i);
        CHECK(!k.verify(m));
    }
}

TEST_CASE("spa: lengths, version and target characters") {
    packet::SpaMessage m;
    std::string err;
    CHECK(!packet::spa_parse({}, &m, &err));
    CHECK(err == "empty datagram");
    auto dg = packet::spa_build(1, kWall, nonce(1), "a", kKey);
    CHECK(dg.size() == packet::kSpaMinLen);
    CHECK(packet::spa_parse(dg, &m, &err));
    CHECK(!packet::spa_parse(std::span(dg).first(dg.size() - 1), &m, &err));   // truncated
    CHECK(err.find("too short") != std::string::npos);
    std::string t64(64, 'x');
    dg = packet::spa_build(1, kWall, nonce(1), t64, kKey);
    CHECK(dg.size() == packet::kSpaMaxLen);
    REQUIRE(packet::spa_parse(dg, &m, &err));
    CHECK(m.target() == t64);
    CHECK(packet::spa_verify_hmac(m, kKey));
    dg.push_back(0);                                                           // oversized
    CHECK(!packet::spa_parse(dg, &m, &err));
    CHECK(err.find("too long") != std::string::npos);
    dg = packet::spa_build(2, kWall, nonce(1), "nas", kKey);                   // wrong version
    CHECK(!packet::spa_parse(dg, &m, &err));
    CHECK(err.find("version") != std::string::npos);
    dg = packet::spa_build(0, kWall, nonce(1), "nas", kKey);
    CHECK(!packet::spa_parse(dg, &m, &err));
    dg = packet::spa_build(1, kWall, nonce(1), "na s", kKey);                  // bad character
    CHECK(!packet::spa_parse(dg, &m, &err));
    CHECK(err.find("target name") != std::string::npos);
    dg = packet::spa_build(1, kWall, nonce(1), std::string("n\0s", 3), kKey);
    CHECK(!packet::spa_parse(dg, &m, nullptr));                                // err may be null
}


// ---- key files, keygen, client -------------------------------------------------------------

TEST_CASE("spa key files: mode, length, one line") {
    std::string dir = tmpdir();
    std::vector<uint8_t> key;
    std::string err;
    const std::string good = "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=";   // 32 x 0x5a
    write_file(dir + "/ok", good + "\n", 0600);
    REQUIRE_MESSAGE(action::load_spa_key(dir + "/ok", &key, &err), err);
    CHECK(key == kKey);
    write_file(dir + "/ro", good, 0400);                                         // no newline, owner-only
    CHECK(action::load_spa_key(dir + "/ro", &key, &err));
    write_file(dir + "/grp", good + "\n", 0640);
    CHECK(!action::load_spa_key(dir + "/grp", &key, &err));
    CHECK(err.find("readable by group or others (mode 0640)") != std::string::npos);
    CHECK(err.find("chmod 600") != std::string::npos);
    write_file(dir + "/world", good + "\n", 0604);
    CHECK(!action::load_spa_key(dir + "/world", &key, &err));
    write_file(dir + "/short", "AAECAwQFBgcICQoLDA0ODw==\n", 0600);              // 16 bytes
    CHECK(!action::load_spa_key(dir + "/short", &key, &err));
    CHECK(err.find("16-byte key") != std::string::npos);
    write_file(dir + "/two", good.substr(0, 20) + "\n" + good.substr(20) + "\n", 0600);
    CHECK(!action::load_spa_key(dir + "/two", &key, &err));
    CHECK(err.find("ONE line") != std::string::npos);
    write_file(dir + "/junk", "not base64 at all!\n", 0600);
    CHECK(!action::load_spa_key(dir + "/junk", &key, &err));
    write_file(dir + "/empty", "", 0600);
    CHECK(!action::load_spa_key(dir + "/empty", &key, &err));
    CHECK(!action::load_spa_key(dir + "/missing", &key, &err));
    CHECK(err.find("No such file") != std::string::npos);
    CHECK(!action::load_spa_key(dir, &key, &err));                               // a directory
    CHECK(err.find("not a regular file") != std::string::npos);

    std::vector<config::KnockConf> ks = {spa_knock("remote", "nas"), spa_knock("bad", "nas")};
    ks.insert(ks.begin(), config::KnockConf{});
    ks[1].spa->key_file = dir + "/ok";
    ks[2].spa->key_file = dir + "/grp";
    std::vector<std::vector<uint8_t>> keys;
    CHECK(!action::load_spa_keys(ks, &keys, &err));
    CHECK(err.find("knock \"bad\": key file") == 0);
    ks.pop_back();
    REQUIRE(action::load_spa_keys(ks, &keys, &err));
    REQUIRE(keys.size() == 2);
    CHECK(keys[0].empty());
    CHECK(keys[1] == kKey);
    std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("spa keygen: a new 0600 file with a usable key, never an overwrite") {
    std::string dir = tmpdir(), path = dir + "/k.key", err;
    mode_t old = umask(0);                    // a careless umask must not widen the mode
    bool ok = tools::keygen_file(path, &err);
    umask(old);
    REQUIRE_MESSAGE(ok, err);
    struct stat st {};
    REQUIRE(stat(path.c_str(), &st) == 0);
    CHECK((st.st_mode & 07777) == 0600);
    std::vector<uint8_t> key;
    REQUIRE_MESSAGE(action::load_spa_key(path, &key, &err), err);
    CHECK(key.size() == 32);
    std::ifstream f(path);
    std::string line;
    std::getline(f, line);
    CHECK(line.size() == 44);
    CHECK(!tools::keygen_file(path, &err));
    CHECK(err.find("refusing to overwrite") != std::string::npos);
    std::vector<uint8_t> again;
    action::load_spa_key(path, &again, &err);
    CHECK(again == key);
    std::string p2 = dir + "/k2.key";
    REQUIRE(tools::keygen_file(p2, &err));
    action::load_spa_key(p2, &again, &err);
    CHECK(again != key);
    std::system(("rm -rf " + dir).c_str());
}

TEST_CASE("spa client: send_knock delivers one verifiable datagram") {
    std::string dir = tmpdir(), path = dir + "/k.key", err, where;
    REQUIRE(tools::keygen_file(path, &err));
    std::vector<uint8_t> key;
    REQUIRE(action::load_spa_key(path, &key, &err));
    Receiver rx;
    REQUIRE_MESSAGE(tools::send_knock("127.0.0.1:" + std::to_string(rx.port), "nas", path, 1, &err, &where), err);
    CHECK(where == "127.0.0.1:" + std::to_string(rx.port));
    check_datagram(rx.recv(), key, "nas");
    REQUIRE(tools::send_knock("localhost", "vpn.lab", path, rx.port, &err, &where));   // default port
    check_datagram(rx.recv(), key, "vpn.lab");

    CHECK(!tools::send_knock("127.0.0.1:0", "nas", path, 1, &err));
    CHECK(!tools::send_knock("127.0.0.1:99999", "nas", path, 1, &err));
    CHECK(!tools::send_knock("[::1", "nas", path, 1, &err));
    CHECK(!tools::send_knock("127.0.0.1:9", "bad name", path, 1, &err));
    CHECK(!tools::send_knock("127.0.0.1:9", "nas", dir + "/missing", 1, &err));
    CHECK(!tools::send_knock("no-such-host.invalid", "nas", path, 9, &err));

    // the CLI wrappers: usage errors exit 2, runtime failures 1
    auto run = [](std::vector<std::string> args, int (*fn)(int, char**)) {   // output to /dev/null
        std::vector<char*> av;
        for (auto& a : args) av.push_back(a.data());
        av.push_back(nullptr);
        std::fflush(nullptr);
        int o = dup(1), e = dup(2), null = open("/dev/null", O_WRONLY | O_CLOEXEC);
        dup2(null, 1), dup2(null, 2);
        int rc = fn(int(args.size()), av.data());
        std::fflush(nullptr);
        dup2(o, 1), dup2(e, 2), close(o), close(e), close(null);
        return rc;
    };
    CHECK(run({"knock"}, tools::knock_cli_main) == 2);
    CHECK(run({"knock", "127.0.0.1", "nas"}, tools::knock_cli_main) == 2);                       // no key file
    CHECK(run({"knock", "127.0.0.1", "nas", "--key-file"}, tools::knock_cli_main) == 2);
    CHECK(run({"knock", "127.0.0.1", "nas", "-k", path, "--port", "0"}, tools::knock_cli_main) == 2);
    CHECK(run({"knock", "127.0.0.1", "bad/name", "-k", path}, tools::knock_cli_main) == 2);
    CHECK(run({"knock", "127.0.0.1", "nas", "-k", path, "--bogus"}, tools::knock_cli_main) == 2);
    CHECK(run({"knock", "127.0.0.1", "nas", "-k", dir + "/missing"}, tools::knock_cli_main) == 1);
    CHECK(run({"knock", "127.0.0.1", "nas", "--key-file=" + path, "--port=" + std::to_string(rx.port)},
              tools::knock_cli_main) == 0);
    check_datagram(rx.recv(), key, "nas");
    CHECK(run({"keygen"}, tools::keygen_cli_main) == 2);
    CHECK(run({"keygen", "a", "b"}, tools::keygen_cli_main) == 2);
    CHECK(run({"keygen", path}, tools::keygen_cli_main) == 1);                                   // exists
    CHECK(run({"keygen", dir + "/new.key"}, tools::keygen_cli_main) == 0);
    std::system(("rm -rf " + dir).c_str());
}

// The README's shell recipe, byte for byte (KEY/HOST/PORT/TARGET come from the environment here).
static const char* kShellRecipe =
    "k=$(base64 -d \"$KEY\" | xxd -p -c 256)\n"
    "m=01$(printf %016x \"$(date +%s)\")$(openssl rand -hex 16)$(printf %s \"$TARGET\" | xxd -p -c 256)\n"
    "m=$m$(printf %s \"$m\" | xxd -r -p | openssl dgst -sha256 -mac HMAC -macopt hexkey:\"$k\" -binary | xxd -p -c 256)\n"
    "printf %s \"$m\" | xxd -r -p > \"/dev/udp/$HOST/$PORT\"\n";

TEST_CASE("spa: the README shell recipe and doc/spa-knock.py produce datagrams netwaked accepts") {
    std::string dir = tmpdir(), path = dir + "/k.key", err;
    REQUIRE(tools::keygen_file(path, &err));
    std::vector<uint8_t> key;
    REQUIRE(action::load_spa_key(path, &key, &err));
    Receiver rx;
    std::string env = "KEY='" + path + "' HOST=127.0.0.1 PORT=" + std::to_string(rx.port) + " TARGET=nas-1 ";
    if (have("bash") && have("openssl") && have("xxd") && have("base64")) {
        std::ofstream(dir + "/recipe.sh") << kShellRecipe;
        REQUIRE(std::system((env + "bash " + dir + "/recipe.sh").c_str()) == 0);
        check_datagram(rx.recv(), key, "nas-1");
    } else {
        MESSAGE("skipped: the shell recipe needs bash, openssl, xxd and base64");
    }
    std::string script;
    for (const char* p : {"doc/spa-knock.py", "../doc/spa-knock.py", "../../doc/spa-knock.py"})
        if (access(p, R_OK) == 0) script = p;
    if (have("python3") && !script.empty()) {
        std::string cmd = "python3 " + script + " 127.0.0.1:" + std::to_string(rx.port) + " nas-1 '" + path + "' >/dev/null";
        REQUIRE(std::system(cmd.c_str()) == 0);
        check_datagram(rx.recv(), key, "nas-1");
        cmd = "python3 " + script + " 127.0.0.1 >/dev/null 2>&1";
        CHECK(WEXITSTATUS(std::system(cmd.c_str())) == 2);
    } else {
        MESSAGE("skipped: python3 or doc/spa-knock.py not found");
    }
    std::system(("rm -rf " + dir).c_str());
}
