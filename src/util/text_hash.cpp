#include "util/text_hash.hpp"

#include <chrono>
#include <random>

namespace salesflow::internal {

std::uint64_t draw_text_hash_seed() noexcept {
  try {
    std::random_device device;
    return (std::uint64_t{device()} << 32) ^ device();
  } catch (...) {  // no source of randomness: still differs between processes (ASLR, the clock)
    static const int anchor = 0;
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    return static_cast<std::uint64_t>(now) ^
           reinterpret_cast<std::uintptr_t>(&anchor) * std::uint64_t{0x9E3779B97F4A7C15};
  }
}

}  // namespace salesflow::internal
