// tests/fuzz/replay_main.cc — runs a libFuzzer harness over files or directories of inputs
// without libFuzzer (g++ build), so `make test` replays every seed corpus as a regression test.
#define _FILE_OFFSET_BITS 64   // 32-bit (armhf): readdir() fails with EOVERFLOW on 64-bit inode numbers
#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

static int run_file(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
        return 1;
    }
    std::vector<uint8_t> buf((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(buf.data(), buf.size());
    return 0;
}

int main(int argc, char** argv) {
    int n = 0, bad = 0;
    for (int i = 1; i < argc; ++i) {
        struct stat st {};
        if (stat(argv[i], &st) != 0) {
            std::fprintf(stderr, "replay: %s: not found\n", argv[i]);
            ++bad;
            continue;
        }
        if (S_ISDIR(st.st_mode)) {
            DIR* d = opendir(argv[i]);
            for (dirent* e; d && (errno = 0, e = readdir(d)) != nullptr;) {
                if (e->d_name[0] == '.') continue;
                bad += run_file(std::string(argv[i]) + "/" + e->d_name);
                ++n;
            }
            if (!d || errno != 0) {   // readdir() returns NULL on errors too: never "0 inputs, fine"
                std::fprintf(stderr, "replay: %s: cannot read the directory: %s\n", argv[i], std::strerror(errno));
                ++bad;
            }
            if (d) closedir(d);
        } else {
            bad += run_file(argv[i]);
            ++n;
        }
    }
    std::printf("replayed %d inputs\n", n);
    return bad ? 1 : 0;
}
