// Values of the expression language (ev-expr(7)), the per-event memory that holds
// the strings and arrays evaluation makes, and their JSON rendering.
//
// A Value is a small tagged struct copied by value. Strings are views: into the event
// line (a field without escapes), into the compiled expression (a literal), or into
// the Arena of the Frame evaluating it (unescaped fields, lower(), +). Arrays are
// either a run of Values (literals, computed) or, for a field holding a JSON array,
// its raw text. Objects exist only as fields (raw text). Everything a Value points at
// lives until the next event. Not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ev::expr {

enum class Type : uint8_t { kNull, kBool, kNumber, kString, kTime, kArray, kObject };

// "null", "boolean", "number", "string", "time", "array", "object".
std::string_view type_name(Type type);

struct Value {
  Type type = Type::kNull;
  bool b = false;
  uint32_t count = 0;  // array: the elements in `items` (when items is set)
  double n = 0;        // number
  int64_t t = 0;       // time: ns since the epoch, UTC
  std::string_view s;  // string content; array/object: raw JSON text (fields)
  const Value* items = nullptr;

  static Value null() { return {}; }
  static Value boolean(bool v) {
    Value x;
    x.type = Type::kBool;
    x.b = v;
    return x;
  }
  static Value number(double v) {
    Value x;
    x.type = Type::kNumber;
    x.n = v;
    return x;
  }
  static Value string(std::string_view v) {
    Value x;
    x.type = Type::kString;
    x.s = v;
    return x;
  }
  static Value time(int64_t ns) {
    Value x;
    x.type = Type::kTime;
    x.t = ns;
    return x;
  }
  static Value array(const Value* items, uint32_t count) {
    Value x;
    x.type = Type::kArray;
    x.items = items;
    x.count = count;
    return x;
  }
  static Value raw(Type type, std::string_view json) {  // an array or object field
    Value x;
    x.type = type;
    x.s = json;
    return x;
  }
  bool is_null() const { return type == Type::kNull; }
  bool is_true() const { return type == Type::kBool && b; }
};

// Per-event memory in fixed blocks that are kept across events: reset() makes them
// free again, so a steady stream allocates nothing. Blocks never move, so a view
// stays valid until reset(). Bound: 64 KiB blocks for what the busiest event needed,
// plus one block per larger value it held, rounded up to a power of two (with
// --max-line 16M, at most about twice the line size per value).
class Arena {
 public:
  // `n` writable bytes.
  char* alloc(size_t n);
  std::string_view copy(std::string_view s);
  Value* values(size_t n);
  void reset() {
    block_ = 0;
    used_ = 0;
  }
  // Bytes held in blocks.
  size_t capacity() const {
    size_t n = 0;
    for (const Block& b : blocks_) n += b.size;
    return n;
  }

 private:
  static constexpr size_t kBlock = 64 * 1024;
  struct Block {
    std::unique_ptr<char[]> data;
    size_t size;
  };
  std::vector<Block> blocks_;
  size_t block_ = 0;  // the block being filled
  size_t used_ = 0;   // bytes used in it
};

// Appends `v` as JSON: numbers shortest round-trip (integral values without a
// fraction), times as RFC 3339 UTC strings, non-finite numbers as null.
void append_json(std::string& out, const Value& v);
// Appends `v` as text (str()): strings unquoted, others as in append_json.
void append_text(std::string& out, const Value& v);

}  // namespace ev::expr
