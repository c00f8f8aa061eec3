#include "libcore/expr/value.h"

#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>

#include "libcore/json/json_writer.h"
#include "libcore/time/timestamp.h"

namespace ev::expr {

std::string_view type_name(Type type) {
  switch (type) {
    case Type::kNull:
      return "null";
    case Type::kBool:
      return "boolean";
    case Type::kNumber:
      return "number";
    case Type::kString:
      return "string";
    case Type::kTime:
      return "time";
    case Type::kArray:
      return "array";
    case Type::kObject:
      return "object";
  }
  return "?";
}

char* Arena::alloc(size_t n) {
  while (block_ < blocks_.size()) {
    Block& b = blocks_[block_];
    if (b.size - used_ >= n) {
      char* p = b.data.get() + used_;
      used_ += (n + 7) & ~size_t{7};  // keeps Values aligned
      if (used_ > b.size) used_ = b.size;
      return p;
    }
    ++block_;
    used_ = 0;
  }
  // A value larger than a block gets its own, rounded up to a power of two, so that
  // later events reuse it instead of adding a block for every new size.
  const size_t size = n > kBlock ? std::bit_ceil(n) : kBlock;
  blocks_.push_back({std::make_unique<char[]>(size), size});
  block_ = blocks_.size() - 1;
  used_ = (n + 7) & ~size_t{7};
  if (used_ > size) used_ = size;
  return blocks_.back().data.get();
}

std::string_view Arena::copy(std::string_view s) {
  if (s.empty()) return {};
  char* p = alloc(s.size());
  std::memcpy(p, s.data(), s.size());
  return {p, s.size()};
}

Value* Arena::values(size_t n) {
  static_assert(alignof(Value) <= 8);
  auto* p = reinterpret_cast<Value*>(alloc(n * sizeof(Value)));
  for (size_t i = 0; i < n; ++i) new (p + i) Value();
  return p;
}

namespace {

void append_number(std::string& out, double n) {
  if (!std::isfinite(n)) {
    out += "null";
    return;
  }
  char buf[32];
  char* end;
  if (n == std::trunc(n) && std::fabs(n) < 1e15) {  // integral: the cheap conversion
    end = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(n)).ptr;
    if (n == 0 && std::signbit(n)) out += '-';
  } else {
    end = std::to_chars(buf, buf + sizeof buf, n).ptr;
  }
  out.append(buf, end);
}

void append_time(std::string& out, int64_t t) {
  if (t % 1'000'000 == 0) {
    time::append_rfc3339_ms(out, t);
  } else {
    out += time::format_rfc3339_ns(t);
  }
}

}  // namespace

void append_json(std::string& out, const Value& v) {
  switch (v.type) {
    case Type::kNull:
      out += "null";
      return;
    case Type::kBool:
      out += v.b ? "true" : "false";
      return;
    case Type::kNumber:
      append_number(out, v.n);
      return;
    case Type::kString:
      json::append_valid_json_string(out, v.s);
      return;
    case Type::kTime:
      out += '"';
      append_time(out, v.t);
      out += '"';
      return;
    case Type::kArray:
      if (!v.items && !v.s.empty()) {
        out += v.s;
        return;
      }
      out += '[';
      for (uint32_t i = 0; i < v.count; ++i) {
        if (i) out += ',';
        append_json(out, v.items[i]);
      }
      out += ']';
      return;
    case Type::kObject:
      out += v.s;
      return;
  }
}

void append_text(std::string& out, const Value& v) {
  if (v.type == Type::kString) {
    out += v.s;
  } else if (v.type == Type::kTime) {
    append_time(out, v.t);
  } else {
    append_json(out, v);
  }
}

}  // namespace ev::expr
