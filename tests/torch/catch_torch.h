// Catch2 for test files that use LibTorch. c10's logging header defines a glog-style
// `CHECK(condition)` macro that silently replaces Catch's CHECK when it is included later: the
// tests would still pass, but a false CHECK would abort instead of failing, and no CHECK would be
// counted. Include c10's header first, drop its CHECK, then Catch; include this, not catch.hpp.
#pragma once

#include <c10/util/Logging.h>
#undef CHECK
#include <catch2/catch.hpp>
