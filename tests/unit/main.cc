// tests/unit/main.cc — doctest's main for the unit test binary (every tests/unit/*.cc links in).
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>
