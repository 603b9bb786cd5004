// Catch2 for test files that use LibTorch. c10's logging header defines a glog-style
// `CHECK(condition)` macro that silently replaces Catch's CHECK when it is included later: the
// tests would still pass, but a false CHECK would abort instead of failing, and no CHECK would be
// counted. Include c10's header first, drop its CHECK, then Catch; include this, not catch.hpp.
// When Catch is already in (test_torch's precompiled header includes it after the LibTorch headers,
// so its CHECK replaced c10's), CHECK is Catch's and must stay: dropping it would leave none.
#pragma once

#include <c10/util/Logging.h>
#ifndef TWOBLUECUBES_SINGLE_INCLUDE_CATCH_HPP_INCLUDED  // catch.hpp's include guard
#undef CHECK
#include <catch2/catch.hpp>
#endif
