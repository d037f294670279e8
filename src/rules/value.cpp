#include "rules/value.hpp"

#include <algorithm>
#include <cstring>
#include <new>
#include <string>

namespace salesflow::internal {

void fail(RuleErrorCode code, std::string message) { throw EvalFailure{code, std::move(message)}; }

// A heap block of the arena; its bytes follow the header.
struct Arena::Block {
  Block* next;
  std::size_t bytes;
};

namespace {
constexpr std::size_t kAlign = 16;
constexpr std::size_t kHeader = (sizeof(void*) * 2 + kAlign - 1) / kAlign * kAlign;
constexpr std::size_t kFirstBlock = 4096;
constexpr std::size_t kMaxBlock = 1 << 20;
}  // namespace

Arena::~Arena() {
  while (blocks_ != nullptr) {
    Block* next = blocks_->next;
    ::operator delete (static_cast<void*>(blocks_), std::align_val_t{kAlign});
    blocks_ = next;
  }
}

void* Arena::allocate(std::size_t bytes) {
  bytes = (bytes + kAlign - 1) / kAlign * kAlign;
  if (bytes <= remaining_) {
    void* p = cursor_;
    cursor_ += bytes;
    remaining_ -= bytes;
    return p;
  }
  return allocate_slow(bytes);
}

void* Arena::allocate_slow(std::size_t bytes) {
  const std::size_t grown =
      blocks_ == nullptr ? kFirstBlock : std::min(blocks_->bytes * 2, kMaxBlock);
  std::size_t block_bytes = std::max(bytes, grown);
  if (block_bytes > limit_ - std::min(used_, limit_)) block_bytes = bytes;
  if (bytes > limit_ - std::min(used_, limit_)) {
    fail(RuleErrorCode::kMemoryLimit, "the evaluation needs more than the limit of " +
                                          std::to_string(limit_) +
                                          " bytes for intermediate values");
  }
  void* raw = ::operator new (kHeader + block_bytes, std::align_val_t{kAlign});
  auto* block = static_cast<Block*>(raw);
  block->next = blocks_;
  block->bytes = block_bytes;
  blocks_ = block;
  used_ += block_bytes;
  std::byte* data = static_cast<std::byte*>(raw) + kHeader;
  cursor_ = data + bytes;
  remaining_ = block_bytes - bytes;
  return data;
}

Value* Arena::allocate_values(std::size_t n) {
  if (n > UINT32_MAX || n > limit_ / sizeof(Value)) {
    fail(RuleErrorCode::kMemoryLimit,
         "an array of " + std::to_string(n) + " items is larger than the memory limit allows");
  }
  return static_cast<Value*>(allocate(std::max<std::size_t>(n, 1) * sizeof(Value)));
}

ReduceFrame* Arena::allocate_frame() {
  return static_cast<ReduceFrame*>(allocate(sizeof(ReduceFrame)));
}

char* Arena::allocate_chars(std::size_t n) {
  if (n > UINT32_MAX) {
    fail(RuleErrorCode::kMemoryLimit,
         "a string of " + std::to_string(n) + " bytes is larger than the memory limit allows");
  }
  return static_cast<char*>(allocate(n));
}

std::string_view Arena::copy_string(std::string_view s) {
  if (s.empty()) return {};
  char* p = allocate_chars(s.size());
  std::memcpy(p, s.data(), s.size());
  return {p, s.size()};
}

}  // namespace salesflow::internal
