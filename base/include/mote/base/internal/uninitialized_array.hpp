#pragma once
// Room for N objects of T, none of them alive: the owning container
// constructs and destroys elements itself (placement new, explicit destructor
// calls). Used by the fixed-capacity containers; not an API of its own.

#include <cstddef>
#include <type_traits>

namespace mote::internal {

struct NoElement {};

// The constructor is constexpr and touches no element, so a container built
// on it can be `constinit` and costs only .bss. (It activates the empty member
// because GCC rejects a constant initializer that leaves a union with no
// active member.) For trivially destructible T the destructor is trivial as
// well, so a static container of bytes needs no exit-time destructor on
// firmware.
template <typename T, std::size_t N, bool = std::is_trivially_destructible_v<T>>
union UninitializedArray {
  constexpr UninitializedArray() : none() {}
  UninitializedArray(const UninitializedArray&) = delete;
  UninitializedArray(UninitializedArray&&) = delete;
  UninitializedArray& operator=(const UninitializedArray&) = delete;
  UninitializedArray& operator=(UninitializedArray&&) = delete;
  // User-provided: a defaulted one would be deleted (T has a non-trivial
  // destructor); the owner destroys the live elements.
  ~UninitializedArray() {}  // NOLINT(modernize-use-equals-default)

  NoElement none;
  T items[N];
};

template <typename T, std::size_t N>
union UninitializedArray<T, N, true> {
  constexpr UninitializedArray() : none() {}

  NoElement none;
  T items[N];
};

}  // namespace mote::internal
