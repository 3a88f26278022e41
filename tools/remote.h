// tools/remote.h — `netwakectl remote` (SPEC §16): the outside client of remote wake.
#pragma once

namespace nw::tools {
// netwakectl remote ACTION TARGET --broker URL [...]; argv[0] is "remote". Exit 0/1/2.
int remote_main(int argc, char** argv);
}  // namespace nw::tools
