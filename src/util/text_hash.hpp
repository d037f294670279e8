// The hash of short texts the engine looks up on every command: instance ids (the stripe and the
// instance index) and the ids a definition's name tables hold (stages, fields, items, roles).
//
// XXH3 (Debian's libxxhash-dev, used header-only: nothing is linked). Its 64 bits are well mixed
// in both halves, which the index needs (the stripe takes the low bits, the tag the high ones);
// for the 8 to 16 bytes of a typical id it costs a few multiplications, about a third of
// std::hash's (libstdc++'s murmur, byte loop included). Unseeded, like std::hash: the same text
// has the same hash in every process, so no order the engine derives from it changes from run to
// run.
#ifndef SALESFLOW_UTIL_TEXT_HASH_HPP_
#define SALESFLOW_UTIL_TEXT_HASH_HPP_

#include <cstdint>
#include <string_view>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace salesflow::internal {

inline std::uint64_t text_hash(std::string_view text) noexcept {
  return static_cast<std::uint64_t>(XXH3_64bits(text.data(), text.size()));
}

}  // namespace salesflow::internal

#endif  // SALESFLOW_UTIL_TEXT_HASH_HPP_
