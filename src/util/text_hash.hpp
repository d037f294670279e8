// The hash of short texts the engine looks up on every command: instance ids (the stripe and the
// instance index) and the ids a definition's name tables hold (stages, fields, items, roles).
//
// XXH3 (Debian's libxxhash-dev, used header-only: nothing is linked). Its 64 bits are well mixed
// in both halves, which the index needs (the stripe takes the low bits, the tag the high ones);
// for the 8 to 16 bytes of a typical id it costs a few multiplications, about a third of
// std::hash's (libstdc++'s murmur, byte loop included).
//
// Seeded per process (text_hash_seed()): instance ids come from outside, and with a hash anyone
// can compute, ids crafted to share one home slot would make every lookup walk the same run of
// slots. Nothing the engine shows depends on the hash (listings are sorted), and no hash is
// stored, so a hash that differs from one process to the next changes no result.
#ifndef SALESFLOW_UTIL_TEXT_HASH_HPP_
#define SALESFLOW_UTIL_TEXT_HASH_HPP_

#include <cstdint>
#include <string_view>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace salesflow::internal {

// Drawn once, on first use, from std::random_device (the clock and an address when that fails).
std::uint64_t draw_text_hash_seed() noexcept;

inline std::uint64_t text_hash_seed() noexcept {
  static const std::uint64_t seed = draw_text_hash_seed();
  return seed;
}

inline std::uint64_t text_hash(std::string_view text) noexcept {
  return static_cast<std::uint64_t>(
      XXH3_64bits_withSeed(text.data(), text.size(), text_hash_seed()));
}

}  // namespace salesflow::internal

#endif  // SALESFLOW_UTIL_TEXT_HASH_HPP_
