#include "libcore/validate/duplicate_keys.h"

#include <algorithm>
#include <array>
#include <string_view>
#include <vector>

#include "libcore/json/edit.h"

namespace ev::validate {
namespace {

constexpr size_t kPairwiseMax = 32;

// Sets `key` to the first repeated key of `obj` and returns true, if there is one.
bool repeated_key(simdjson::dom::object obj, std::string_view& key) {
  const size_t n = obj.size();
  if (n < 2) return false;
  if (n <= kPairwiseMax) {
    // A 64-bit filter over (length, first and last byte): a key compares against the
    // earlier ones only when its bit is already set, which distinct keys rarely share.
    std::array<std::string_view, kPairwiseMax> keys;
    uint64_t seen = 0;
    size_t k = 0;
    for (auto field : obj) {
      std::string_view f = field.key;
      unsigned h = static_cast<unsigned>(f.size()) * 7;
      if (!f.empty())
        h += static_cast<unsigned char>(f.front()) * 31u + static_cast<unsigned char>(f.back());
      const uint64_t bit = uint64_t{1} << (h & 63);
      if (seen & bit) {
        for (size_t j = 0; j < k; ++j) {
          if (keys[j] == f) {
            key = f;
            return true;
          }
        }
      }
      seen |= bit;
      keys[k++] = f;
    }
    return false;
  }
  std::vector<std::string_view> keys;
  keys.reserve(n);
  for (auto field : obj) keys.push_back(field.key);
  std::sort(keys.begin(), keys.end());
  auto it = std::adjacent_find(keys.begin(), keys.end());
  if (it == keys.end()) return false;
  key = *it;
  return true;
}

// The path walked so far; copied into a json::Location only when a duplicate is found.
struct Tok {
  std::string_view key;
  size_t index;
  bool is_index;
};

std::string pointer_of(const std::vector<Tok>& toks) {
  std::string out;
  for (const Tok& t : toks) {
    if (t.is_index) {
      json::append_pointer_index(out, t.index);
    } else {
      json::append_pointer_token(out, t.key);
    }
  }
  return out;
}

bool walk(simdjson::dom::element e, std::vector<Tok>& at, std::string& pointer) {
  switch (e.type()) {
    case simdjson::dom::element_type::OBJECT: {
      auto obj = e.get_object().value_unsafe();
      std::string_view key;
      if (repeated_key(obj, key)) {
        at.push_back({key, 0, false});
        pointer = pointer_of(at);
        return true;
      }
      for (auto field : obj) {
        auto t = field.value.type();
        if (t != simdjson::dom::element_type::OBJECT && t != simdjson::dom::element_type::ARRAY)
          continue;
        at.push_back({field.key, 0, false});
        if (walk(field.value, at, pointer)) return true;
        at.pop_back();
      }
      return false;
    }
    case simdjson::dom::element_type::ARRAY: {
      size_t k = 0;
      simdjson::dom::array arr = e.get_array().value_unsafe();  // not a temporary's member
      for (auto v : arr) {
        auto t = v.type();
        if (t == simdjson::dom::element_type::OBJECT || t == simdjson::dom::element_type::ARRAY) {
          at.push_back({{}, k, true});
          if (walk(v, at, pointer)) return true;
          at.pop_back();
        }
        ++k;
      }
      return false;
    }
    default:
      return false;
  }
}

}  // namespace

bool find_duplicate_key(simdjson::dom::element e, std::string& pointer) {
  thread_local std::vector<Tok> at;
  at.clear();
  return walk(e, at, pointer);
}

}  // namespace ev::validate
