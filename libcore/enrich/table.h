// Table: the rows of one lookup table (ev-enrich), kept compactly and rendered as the
// members an event gains.
//
// A row is a key (text) and fields: (name, JSON value text) pairs. Rows are stored as
// bytes, not DOM trees: the field names of a row live once per distinct list of names
// (a "shape": a CSV file has one), pre-rendered as the JSON keys they become in the
// event (with the placement's prefix); a row holds its key, its shape number and its
// values, length-prefixed (varints), in 2 MiB arena blocks (huge pages where the
// kernel gives them). The index is open
// addressing with linear probing over 16-byte slots (the key's XXH3 hash and the
// row's place), at most 7/8 full, with backward-shift deletion. A replaced or erased
// row leaves its bytes behind as garbage; once garbage outweighs live rows (and 8 MiB)
// the live rows are copied to fresh blocks. For a CSV row of five short fields this is
// about 44 bytes per row, and 16-32 bytes of index (78 MB for 1 M rows).
//
// Keys are compared as text: a JSON string's unescaped content, a number's spelling
// (table.cpp does not care where a key came from; the loaders and the stage agree on
// key_text()). Not thread-safe; one thread owns a table (a reload builds a new one
// and hands it over whole).
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "libcore/base/status.h"

namespace ev::enrich {

namespace detail {
// Memory for large arrays read at random (the index, the arena): from 2 MiB on it is
// 2 MiB aligned and advised as transparent huge pages, so a lookup in a big table
// costs a cache miss and not also a TLB miss (a page walk, dearer still in a VM).
void* allocate_large(size_t bytes);
void free_large(void* p, size_t bytes);
template <class T>
struct LargeAllocator {
  using value_type = T;
  LargeAllocator() = default;
  template <class U>
  LargeAllocator(const LargeAllocator<U>&) {}  // NOLINT: allocators convert implicitly
  T* allocate(size_t n) { return static_cast<T*>(allocate_large(n * sizeof(T))); }
  void deallocate(T* p, size_t n) { free_large(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const LargeAllocator<U>&) const {
    return true;
  }
};
}  // namespace detail

// Where a table's fields go in the event: top-level members named prefix + name, or
// (into non-empty) one member `into` holding an object of them.
struct Placement {
  std::string into;
  std::string prefix;
};

struct Field {
  std::string_view name;  // unescaped
  std::string_view json;  // the value as JSON text
};

// Appends the members text of `fields` as placed (no surrounding comma): `"a":1,"b":2`
// or `"user":{"a":1,"b":2}`. With `into`, an empty field list still gives `"user":{}`.
void render_members(std::string& out, const Placement& placement, std::span<const Field> fields);

// The text a JSON value is compared as when it is a key: a string's unescaped
// content, a number's spelling, true/false. Fails (kData) for null, arrays and
// objects, with a reason naming the type. `scratch` backs an unescaped string.
Result<std::string_view> key_text(simdjson::ondemand::value value, std::string& scratch);

// The same for a value given as JSON text (trailing whitespace allowed).
Result<std::string_view> key_from_json(std::string_view json, std::string& scratch);

// A CSV/TSV cell as a JSON value: a cell spelled as a JSON number stays a number
// (as Miller infers), anything else becomes a string. Appends to `out`.
void append_cell_json(std::string& out, std::string_view cell);

class Table {
 public:
  using Row = const uint8_t*;  // valid until the table is next changed

  explicit Table(Placement placement);
  ~Table();
  Table(const Table&) = delete;
  Table& operator=(const Table&) = delete;

  // Inserts or replaces the row of `key`. Returns true when the key had a row (a
  // duplicate in a file; an update from Kafka).
  bool put(std::string_view key, std::span<const Field> fields);
  // Removes the row of `key`; true when there was one.
  bool erase(std::string_view key);
  // The row of `key`, or nullptr.
  Row find(std::string_view key) const;

  // A lookup in steps, for callers that overlap the memory latency of several
  // lookups (each step prefetches what the next one reads): hash the key, prefetch
  // its slot; later, candidate() finds the first row with that hash (without reading
  // any row) and prefetches it; later still, has_key() confirms it (else find()).
  // The table must not change between the steps.
  static uint64_t hash_of(std::string_view key);
  void prefetch_slot(uint64_t hash) const {
    __builtin_prefetch(&slots_[hash & (slots_.size() - 1)]);
  }
  Row candidate(uint64_t hash) const;
  bool has_key(Row row, std::string_view key) const { return record_key(row) == key; }

  // Appends the members of `row` (as render_members would), and pushes the top-level
  // keys it defines (for splicing) onto `keys`; the views stay valid while the table
  // lives.
  void append_members(std::string& out, Row row, std::vector<std::string_view>& keys) const;

  size_t rows() const { return rows_; }
  // Bytes held: arena blocks, index and shapes.
  size_t memory_bytes() const;
  const Placement& placement() const { return placement_; }

 private:
  struct Slot {
    uint64_t hash = 0;
    uint64_t at = 0;  // block << 32 | offset, plus 1; 0: empty
  };
  struct Shape {
    std::vector<std::string> names;     // as placed: prefix + name, unescaped
    std::vector<std::string> rendered;  // "\"name\":"
    size_t name_bytes = 0;
  };

  uint32_t shape_of(std::span<const Field> fields);
  uint64_t store(std::string_view key, uint32_t shape, std::span<const Field> fields);
  const uint8_t* record(uint64_t at) const;
  size_t record_size(const uint8_t* rec) const;
  std::string_view record_key(const uint8_t* rec) const;
  size_t probe(std::string_view key, uint64_t hash) const;  // slot index or SIZE_MAX
  void grow();
  void compact();

  Placement placement_;
  std::string into_rendered_;  // "\"user\":{"
  std::vector<std::unique_ptr<Shape>> shapes_;
  std::unordered_map<std::string, uint32_t> shape_index_;  // names joined by NUL -> shape
  uint32_t last_shape_ = UINT32_MAX;
  struct Block {
    uint8_t* data = nullptr;
    size_t size = 0;
  };
  void new_block(size_t min_size);
  static void free_blocks(std::vector<Block>& blocks);
  std::vector<Block> blocks_;
  size_t block_used_ = 0;  // of the last block
  size_t arena_bytes_ = 0;
  size_t garbage_bytes_ = 0;
  std::vector<Slot, detail::LargeAllocator<Slot>> slots_;
  size_t rows_ = 0;
  std::string scratch_;
};

}  // namespace ev::enrich
