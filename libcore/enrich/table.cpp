#include "libcore/enrich/table.h"

#include <sys/mman.h>
#include <xxhash.h>

#include <cstdlib>
#include <cstring>
#include <new>

#include "libcore/json/event.h"
#include "libcore/json/json_writer.h"

namespace ev::enrich {
namespace {

constexpr size_t kHugePage = size_t{2} << 20;
constexpr size_t kBlockSize = kHugePage;
constexpr size_t kMinCompactGarbage = size_t{8} << 20;

uint64_t hash_key(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

void put_varint(uint8_t*& p, uint64_t v) {
  while (v >= 0x80) {
    *p++ = static_cast<uint8_t>(v | 0x80);
    v >>= 7;
  }
  *p++ = static_cast<uint8_t>(v);
}

uint64_t get_varint(const uint8_t*& p) {
  uint64_t v = 0;
  int shift = 0;
  for (;;) {
    uint8_t b = *p++;
    v |= uint64_t{b & 0x7fu} << shift;
    if (b < 0x80) return v;
    shift += 7;
  }
}

size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void append_key(std::string& out, const Placement& p, std::string_view name, bool top) {
  if (top && !p.prefix.empty()) {
    std::string joined = p.prefix;
    joined.append(name);
    json::append_json_string(out, joined);
  } else {
    json::append_json_string(out, name);
  }
  out.push_back(':');
}

bool is_json_number(std::string_view s) {
  size_t i = 0, n = s.size();
  if (i < n && s[i] == '-') ++i;
  if (i == n) return false;
  if (s[i] == '0') {
    ++i;
  } else if (s[i] >= '1' && s[i] <= '9') {
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
  } else {
    return false;
  }
  if (i < n && s[i] == '.') {
    ++i;
    size_t d = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == d) return false;
  }
  if (i < n && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < n && (s[i] == '+' || s[i] == '-')) ++i;
    size_t d = i;
    while (i < n && s[i] >= '0' && s[i] <= '9') ++i;
    if (i == d) return false;
  }
  return i == n;
}

}  // namespace

namespace detail {

void* allocate_large(size_t bytes) {
  if (bytes < kHugePage) return ::operator new(bytes);
  const size_t rounded = (bytes + kHugePage - 1) / kHugePage * kHugePage;
  void* p = std::aligned_alloc(kHugePage, rounded);
  if (!p) throw std::bad_alloc();
  ::madvise(p, rounded, MADV_HUGEPAGE);  // advice only: failure changes nothing
  return p;
}

void free_large(void* p, size_t bytes) {
  if (bytes < kHugePage) {
    ::operator delete(p);
  } else {
    std::free(p);
  }
}

}  // namespace detail

void render_members(std::string& out, const Placement& placement, std::span<const Field> fields) {
  const bool nested = !placement.into.empty();
  if (nested) {
    append_key(out, placement, placement.into, false);
    out.push_back('{');
  }
  bool first = true;
  for (const Field& f : fields) {
    if (!first) out.push_back(',');
    first = false;
    append_key(out, placement, f.name, !nested);
    out.append(f.json);
  }
  if (nested) out.push_back('}');
}

Result<std::string_view> key_text(simdjson::ondemand::value value, std::string& scratch) {
  simdjson::ondemand::json_type type;
  if (auto err = value.type().get(type); err) return data_error(json::describe(err));
  switch (type) {
    case simdjson::ondemand::json_type::string: {
      std::string_view s;
      if (auto err = value.get_string().get(s); err) return data_error(json::describe(err));
      scratch.assign(s);
      return std::string_view(scratch);
    }
    case simdjson::ondemand::json_type::number:
    case simdjson::ondemand::json_type::boolean: {
      std::string_view t = value.raw_json_token();
      while (!t.empty() &&
             (t.back() == ' ' || t.back() == '\t' || t.back() == '\n' || t.back() == '\r')) {
        t.remove_suffix(1);
      }
      return t;
    }
    case simdjson::ondemand::json_type::null:
      return data_error("null");
    case simdjson::ondemand::json_type::array:
      return data_error("an array");
    case simdjson::ondemand::json_type::object:
      return data_error("an object");
  }
  return data_error("not a value");
}

Result<std::string_view> key_from_json(std::string_view text, std::string& scratch) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                           text.back() == '\r')) {
    text.remove_suffix(1);
  }
  if (text.empty()) return data_error("not a value");
  switch (text[0]) {
    case '"': {
      scratch.clear();
      size_t pos = 0;
      if (auto why = json::decode_json_string(text, pos, scratch); !why.empty()) {
        return data_error(std::string(why));
      }
      return std::string_view(scratch);
    }
    case 'n':
      return data_error("null");
    case '[':
      return data_error("an array");
    case '{':
      return data_error("an object");
    default:
      return text;
  }
}

void append_cell_json(std::string& out, std::string_view cell) {
  if (is_json_number(cell)) {
    out.append(cell);
  } else {
    json::append_json_string(out, cell);
  }
}

Table::Table(Placement placement) : placement_(std::move(placement)) {
  if (!placement_.into.empty()) {
    append_key(into_rendered_, placement_, placement_.into, false);
    into_rendered_.push_back('{');
  }
  slots_.resize(1024);
}

Table::~Table() { free_blocks(blocks_); }

void Table::free_blocks(std::vector<Block>& blocks) {
  for (Block& b : blocks) detail::free_large(b.data, b.size);
  blocks.clear();
}

void Table::new_block(size_t min_size) {
  const size_t cap = std::max(kBlockSize, min_size);
  blocks_.push_back(Block{static_cast<uint8_t*>(detail::allocate_large(cap)), cap});
  block_used_ = 0;
}

uint32_t Table::shape_of(std::span<const Field> fields) {
  // Rows of a file mostly share one shape: try the last one first.
  if (last_shape_ < shapes_.size()) {
    const Shape& last = *shapes_[last_shape_];
    const size_t skip = placement_.into.empty() ? placement_.prefix.size() : 0;
    bool same = last.names.size() == fields.size();
    for (size_t i = 0; same && i < fields.size(); ++i) {
      same = std::string_view(last.names[i]).substr(skip) == fields[i].name;
    }
    if (same) return last_shape_;
  }
  scratch_.clear();
  for (const Field& f : fields) {
    scratch_.append(f.name);
    scratch_.push_back('\0');
  }
  auto it = shape_index_.find(scratch_);
  if (it != shape_index_.end()) return last_shape_ = it->second;
  auto shape = std::make_unique<Shape>();
  const bool nested = !placement_.into.empty();
  for (const Field& f : fields) {
    std::string placed = nested ? std::string(f.name) : placement_.prefix + std::string(f.name);
    std::string rendered;
    append_key(rendered, placement_, f.name, !nested);
    shape->name_bytes += placed.size() + rendered.size();
    shape->names.push_back(std::move(placed));
    shape->rendered.push_back(std::move(rendered));
  }
  uint32_t id = static_cast<uint32_t>(shapes_.size());
  shapes_.push_back(std::move(shape));
  shape_index_.emplace(scratch_, id);
  return last_shape_ = id;
}

uint64_t Table::store(std::string_view key, uint32_t shape, std::span<const Field> fields) {
  size_t size = varint_size(key.size()) + key.size() + varint_size(shape);
  for (const Field& f : fields) size += varint_size(f.json.size()) + f.json.size();
  if (blocks_.empty() || block_used_ + size > blocks_.back().size) new_block(size);
  uint8_t* p = blocks_.back().data + block_used_;
  const uint64_t at = ((uint64_t{blocks_.size() - 1} << 32) | block_used_) + 1;
  put_varint(p, key.size());
  std::memcpy(p, key.data(), key.size());
  p += key.size();
  put_varint(p, shape);
  for (const Field& f : fields) {
    put_varint(p, f.json.size());
    std::memcpy(p, f.json.data(), f.json.size());
    p += f.json.size();
  }
  block_used_ += size;
  arena_bytes_ += size;
  return at;
}

const uint8_t* Table::record(uint64_t at) const {
  --at;
  return blocks_[at >> 32].data + (at & 0xffffffffu);
}

std::string_view Table::record_key(const uint8_t* rec) const {
  const uint8_t* p = rec;
  size_t n = get_varint(p);
  return {reinterpret_cast<const char*>(p), n};
}

size_t Table::record_size(const uint8_t* rec) const {
  const uint8_t* p = rec;
  size_t n = get_varint(p);
  p += n;
  const Shape& shape = *shapes_[get_varint(p)];
  for (size_t i = 0; i < shape.names.size(); ++i) {
    size_t len = get_varint(p);
    p += len;
  }
  return static_cast<size_t>(p - rec);
}

size_t Table::probe(std::string_view key, uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.at == 0) return SIZE_MAX;
    if (s.hash == hash && record_key(record(s.at)) == key) return i;
  }
}

uint64_t Table::hash_of(std::string_view key) { return hash_key(key); }

Table::Row Table::candidate(uint64_t hash) const {
  const size_t mask = slots_.size() - 1;
  for (size_t i = hash & mask;; i = (i + 1) & mask) {
    const Slot& s = slots_[i];
    if (s.at == 0) return nullptr;
    if (s.hash == hash) {
      const uint8_t* rec = record(s.at);
      __builtin_prefetch(rec);
      __builtin_prefetch(rec + 63);
      return rec;
    }
  }
}

Table::Row Table::find(std::string_view key) const {
  size_t i = probe(key, hash_key(key));
  return i == SIZE_MAX ? nullptr : record(slots_[i].at);
}

bool Table::put(std::string_view key, std::span<const Field> fields) {
  const uint64_t hash = hash_key(key);
  const uint32_t shape = shape_of(fields);
  const uint64_t at = store(key, shape, fields);
  size_t i = probe(key, hash);
  if (i != SIZE_MAX) {
    garbage_bytes_ += record_size(record(slots_[i].at));
    slots_[i].at = at;
    if (garbage_bytes_ > kMinCompactGarbage && garbage_bytes_ > arena_bytes_ - garbage_bytes_) {
      compact();
    }
    return true;
  }
  if ((rows_ + 1) * 8 > slots_.size() * 7) grow();
  const size_t mask = slots_.size() - 1;
  size_t j = hash & mask;
  while (slots_[j].at != 0) j = (j + 1) & mask;
  slots_[j] = Slot{hash, at};
  ++rows_;
  return false;
}

bool Table::erase(std::string_view key) {
  size_t i = probe(key, hash_key(key));
  if (i == SIZE_MAX) return false;
  garbage_bytes_ += record_size(record(slots_[i].at));
  // Backward-shift deletion: pull later entries of the run into the hole when their
  // home slot allows it, so lookups never need tombstones.
  const size_t mask = slots_.size() - 1;
  size_t hole = i;
  for (size_t j = (i + 1) & mask; slots_[j].at != 0; j = (j + 1) & mask) {
    const size_t home = slots_[j].hash & mask;
    // Movable when its home is not cyclically within (hole, j].
    if (((j - home) & mask) >= ((j - hole) & mask)) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = Slot{};
  --rows_;
  if (garbage_bytes_ > kMinCompactGarbage && garbage_bytes_ > arena_bytes_ - garbage_bytes_) {
    compact();
  }
  return true;
}

void Table::grow() {
  std::vector<Slot, detail::LargeAllocator<Slot>> old(slots_.size() * 2);
  old.swap(slots_);
  const size_t mask = slots_.size() - 1;
  for (const Slot& s : old) {
    if (s.at == 0) continue;
    size_t j = s.hash & mask;
    while (slots_[j].at != 0) j = (j + 1) & mask;
    slots_[j] = s;
  }
}

void Table::compact() {
  std::vector<Block> old_blocks;
  old_blocks.swap(blocks_);
  block_used_ = 0;
  arena_bytes_ = 0;
  garbage_bytes_ = 0;
  for (Slot& s : slots_) {
    if (s.at == 0) continue;
    const uint64_t at = s.at - 1;
    const uint8_t* rec = old_blocks[at >> 32].data + (at & 0xffffffffu);
    const size_t size = record_size(rec);
    if (blocks_.empty() || block_used_ + size > blocks_.back().size) new_block(size);
    std::memcpy(blocks_.back().data + block_used_, rec, size);
    s.at = ((uint64_t{blocks_.size() - 1} << 32) | block_used_) + 1;
    block_used_ += size;
    arena_bytes_ += size;
  }
  free_blocks(old_blocks);
}

void Table::append_members(std::string& out, Row row, std::vector<std::string_view>& keys) const {
  const uint8_t* p = row;
  size_t n = get_varint(p);
  p += n;
  const Shape& shape = *shapes_[get_varint(p)];
  const bool nested = !into_rendered_.empty();
  if (nested) {
    out.append(into_rendered_);
    keys.push_back(placement_.into);
  }
  for (size_t i = 0; i < shape.rendered.size(); ++i) {
    if (i > 0) out.push_back(',');
    out.append(shape.rendered[i]);
    size_t len = get_varint(p);
    out.append(reinterpret_cast<const char*>(p), len);
    p += len;
    if (!nested) keys.push_back(shape.names[i]);
  }
  if (nested) out.push_back('}');
}

size_t Table::memory_bytes() const {
  size_t bytes = slots_.size() * sizeof(Slot);
  for (const Block& b : blocks_) bytes += b.size;
  for (const auto& shape : shapes_) bytes += sizeof(Shape) + 2 * shape->name_bytes;
  return bytes;
}

}  // namespace ev::enrich
