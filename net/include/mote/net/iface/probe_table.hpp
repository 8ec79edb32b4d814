#pragma once
// Open-addressing tables of pointers (linear probing, no tombstones), as
// the interface keeps its UDP ports and TCP connections: the caller's
// storage, a power of two in size, kept at most half full.

#include <cstddef>
#include <span>

namespace mote::net::internal {

// Empties slot `index` by backward-shift deletion: later entries of the
// same probe run move into the hole when their home slot allows.
// `home(entry)` is an entry's home slot.
template <typename T, typename Home>
void erase_probed(std::span<T*> table, std::size_t index, Home home) {
  const std::size_t mask = table.size() - 1;
  std::size_t hole = index;
  for (std::size_t j = (hole + 1) & mask; table[j] != nullptr; j = (j + 1) & mask) {
    const std::size_t slot = home(table[j]);
    // Move j into the hole unless its home lies cyclically in (hole, j].
    const bool home_after_hole = ((j - slot) & mask) < ((j - hole) & mask);
    if (!home_after_hole) {
      table[hole] = table[j];
      hole = j;
    }
  }
  table[hole] = nullptr;
}

}  // namespace mote::net::internal
