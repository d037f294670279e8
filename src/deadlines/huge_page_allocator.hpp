// HugePageAllocator: a std::allocator for large tables read at random (the deadline queue's
// per-slot tags). An allocation of 2 MiB or more is aligned to 2 MiB and, on Linux,
// advised to be backed by transparent huge pages (madvise(MADV_HUGEPAGE); a no-op when the kernel
// has them disabled), so that a random access into a table of millions of entries does not also
// miss the TLB: on a virtual machine a TLB miss is a two-dimensional page walk that costs more
// than the access itself. Smaller allocations go to std::allocator.
//
// [Threading] Stateless: any number of threads.
#ifndef SALESFLOW_DEADLINES_HUGE_PAGE_ALLOCATOR_HPP_
#define SALESFLOW_DEADLINES_HUGE_PAGE_ALLOCATOR_HPP_

#include <cstddef>
#include <cstdlib>
#include <memory>
#include <new>

#ifdef __linux__
#include <sys/mman.h>
#endif

namespace salesflow::internal {

template <typename T>
struct HugePageAllocator {
  using value_type = T;
  static constexpr std::size_t kHugePage = std::size_t{2} << 20;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) noexcept {}  // NOLINT: implicit by design

  T* allocate(std::size_t n) {
    if (n > std::size_t(-1) / sizeof(T) - kHugePage) throw std::bad_array_new_length();
    const std::size_t bytes = n * sizeof(T);
    if (bytes < kHugePage) return std::allocator<T>{}.allocate(n);
    const std::size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
    void* memory = std::aligned_alloc(kHugePage, rounded);
    if (memory == nullptr) throw std::bad_alloc();
#ifdef __linux__
    ::madvise(memory, rounded, MADV_HUGEPAGE);  // advice only: failure leaves small pages
#endif
    return static_cast<T*>(memory);
  }

  void deallocate(T* memory, std::size_t n) noexcept {
    if (n * sizeof(T) < kHugePage) {
      std::allocator<T>{}.deallocate(memory, n);
    } else {
      std::free(memory);
    }
  }

  template <typename U>
  friend bool operator==(const HugePageAllocator&, const HugePageAllocator<U>&) noexcept {
    return true;
  }
};

}  // namespace salesflow::internal

#endif  // SALESFLOW_DEADLINES_HUGE_PAGE_ALLOCATOR_HPP_
