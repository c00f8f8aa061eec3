#include "libcore/validate/schema.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <unordered_map>

#include "libcore/json/canonical.h"
#include "libcore/json/json_writer.h"
#include "libcore/validate/duplicate_keys.h"
#include "libcore/validate/formats.h"
#include "libcore/validate/simple_pattern.h"

namespace ev::validate {
namespace {

// ---------------------------------------------------------------------------
// A simdjson-independent JSON value: the schema documents, kept for the life of the
// compiled Schema (enum/const values point into them).
struct JValue {
  enum Kind : uint8_t { kNull, kBool, kInt, kUint, kDouble, kString, kArray, kObject };
  Kind kind = kNull;
  bool b = false;
  int64_t i = 0;
  uint64_t u = 0;
  double d = 0;
  std::string s;
  std::vector<JValue> arr;
  std::vector<std::pair<std::string, JValue>> obj;

  const JValue* get(std::string_view key) const {
    for (const auto& [k, v] : obj) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  bool is_number() const { return kind == kInt || kind == kUint || kind == kDouble; }
  double as_double() const {
    return kind == kInt ? static_cast<double>(i) : kind == kUint ? static_cast<double>(u) : d;
  }
};

simdjson::dom::array as_array(simdjson::dom::element e) {
  simdjson::dom::array a;
  if (e.get(a) != simdjson::SUCCESS) return {};
  return a;
}
simdjson::dom::object as_object(simdjson::dom::element e) {
  simdjson::dom::object o;
  if (e.get(o) != simdjson::SUCCESS) return {};
  return o;
}

JValue from_dom(simdjson::dom::element e) {
  JValue v;
  switch (e.type()) {
    case simdjson::dom::element_type::NULL_VALUE:
      break;
    case simdjson::dom::element_type::BOOL:
      v.kind = JValue::kBool;
      v.b = e.get_bool().value_unsafe();
      break;
    case simdjson::dom::element_type::INT64:
      v.kind = JValue::kInt;
      v.i = e.get_int64().value_unsafe();
      break;
    case simdjson::dom::element_type::UINT64:
      v.kind = JValue::kUint;
      v.u = e.get_uint64().value_unsafe();
      break;
    case simdjson::dom::element_type::DOUBLE:
      v.kind = JValue::kDouble;
      v.d = e.get_double().value_unsafe();
      break;
    case simdjson::dom::element_type::STRING:
      v.kind = JValue::kString;
      v.s = std::string(e.get_string().value_unsafe());
      break;
    case simdjson::dom::element_type::ARRAY:
      v.kind = JValue::kArray;
      {
        simdjson::dom::array arr;
        if (e.get_array().get(arr) == simdjson::SUCCESS) {
          for (simdjson::dom::element x : arr) v.arr.push_back(from_dom(x));
        }
      }
      break;
    case simdjson::dom::element_type::OBJECT:
      v.kind = JValue::kObject;
      {
        simdjson::dom::object obj;
        if (e.get_object().get(obj) == simdjson::SUCCESS) {
          for (auto field : obj) v.obj.emplace_back(std::string(field.key), from_dom(field.value));
        }
      }
      break;
  }
  return v;
}

std::string fmt_double(double x) {
  char buf[64];
  if (std::isfinite(x) && x == std::floor(x) && std::fabs(x) < 1e15) {
    auto r = std::to_chars(buf, buf + sizeof buf, static_cast<int64_t>(x));
    return std::string(buf, r.ptr);
  }
  auto r = std::to_chars(buf, buf + sizeof buf, x);
  return std::string(buf, r.ptr);
}

void append_jvalue(std::string& out, const JValue& v) {
  switch (v.kind) {
    case JValue::kNull:
      out += "null";
      break;
    case JValue::kBool:
      out += v.b ? "true" : "false";
      break;
    case JValue::kInt:
      out += std::to_string(v.i);
      break;
    case JValue::kUint:
      out += std::to_string(v.u);
      break;
    case JValue::kDouble:
      json::JsonWriter(out).value(v.d);  // the one style of doubles libcore writes (3.0)
      break;
    case JValue::kString:
      json::append_json_string(out, v.s);
      break;
    case JValue::kArray:
      out += '[';
      for (size_t k = 0; k < v.arr.size(); ++k) {
        if (k) out += ',';
        append_jvalue(out, v.arr[k]);
      }
      out += ']';
      break;
    case JValue::kObject:
      out += '{';
      for (size_t k = 0; k < v.obj.size(); ++k) {
        if (k) out += ',';
        json::append_json_string(out, v.obj[k].first);
        out += ':';
        append_jvalue(out, v.obj[k].second);
      }
      out += '}';
      break;
  }
}

std::string shorten(std::string s) {
  constexpr size_t kMax = 80;
  if (s.size() > kMax) {
    size_t cut = kMax;
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
    s.resize(cut);
    s += "...";
  }
  return s;
}

std::string show(const JValue& v) {
  std::string s;
  append_jvalue(s, v);
  return shorten(std::move(s));
}

std::string show(simdjson::dom::element e) { return shorten(simdjson::minify(e)); }

// ---------------------------------------------------------------------------
// Equality per JSON Schema: numbers by value, objects unordered.
bool is_num(simdjson::dom::element_type t) {
  using T = simdjson::dom::element_type;
  return t == T::INT64 || t == T::UINT64 || t == T::DOUBLE;
}

// -1, 0, 1 for an integer-typed element or JValue: exact comparison of two integers.
struct Num {
  int kind;  // 0 int64, 1 uint64, 2 double
  int64_t i;
  uint64_t u;
  double d;
};

Num num_of(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::INT64:
      return {0, e.get_int64().value_unsafe(), 0, 0};
    case simdjson::dom::element_type::UINT64:
      return {1, 0, e.get_uint64().value_unsafe(), 0};
    default:
      return {2, 0, 0, e.get_double().value_unsafe()};
  }
}
Num num_of(const JValue& v) {
  return {v.kind == JValue::kInt ? 0 : v.kind == JValue::kUint ? 1 : 2, v.i, v.u, v.d};
}
double num_double(const Num& n) {
  return n.kind == 0 ? static_cast<double>(n.i) : n.kind == 1 ? static_cast<double>(n.u) : n.d;
}
bool num_equal(const Num& a, const Num& b) {
  if (a.kind != 2 && b.kind != 2) {
    if (a.kind == b.kind) return a.kind == 0 ? a.i == b.i : a.u == b.u;
    const Num& s = a.kind == 0 ? a : b;
    const Num& u = a.kind == 0 ? b : a;
    return s.i >= 0 && static_cast<uint64_t>(s.i) == u.u;
  }
  return num_double(a) == num_double(b);
}

bool equal(simdjson::dom::element a, const JValue& b) {
  using T = simdjson::dom::element_type;
  T t = a.type();
  if (is_num(t)) return b.is_number() && num_equal(num_of(a), num_of(b));
  switch (t) {
    case T::NULL_VALUE:
      return b.kind == JValue::kNull;
    case T::BOOL:
      return b.kind == JValue::kBool && b.b == a.get_bool().value_unsafe();
    case T::STRING:
      return b.kind == JValue::kString && b.s == a.get_string().value_unsafe();
    case T::ARRAY: {
      if (b.kind != JValue::kArray) return false;
      auto arr = as_array(a);
      if (arr.size() != b.arr.size()) return false;
      size_t k = 0;
      for (simdjson::dom::element x : arr) {
        if (!equal(x, b.arr[k++])) return false;
      }
      return true;
    }
    case T::OBJECT: {
      if (b.kind != JValue::kObject) return false;
      auto obj = as_object(a);
      if (obj.size() != b.obj.size()) return false;
      for (auto field : obj) {
        const JValue* other = b.get(field.key);
        if (other == nullptr || !equal(field.value, *other)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

bool equal(simdjson::dom::element a, simdjson::dom::element b) {
  using T = simdjson::dom::element_type;
  T ta = a.type();
  T tb = b.type();
  if (is_num(ta)) return is_num(tb) && num_equal(num_of(a), num_of(b));
  if (ta != tb) return false;
  switch (ta) {
    case T::NULL_VALUE:
      return true;
    case T::BOOL:
      return a.get_bool().value_unsafe() == b.get_bool().value_unsafe();
    case T::STRING:
      return a.get_string().value_unsafe() == b.get_string().value_unsafe();
    case T::ARRAY: {
      auto x = as_array(a);
      auto y = as_array(b);
      if (x.size() != y.size()) return false;
      auto it = y.begin();
      for (simdjson::dom::element v : x) {
        if (!equal(v, *it)) return false;
        ++it;
      }
      return true;
    }
    case T::OBJECT: {
      auto x = as_object(a);
      auto y = as_object(b);
      if (x.size() != y.size()) return false;
      for (auto field : x) {
        simdjson::dom::element other;
        if (y.at_key(field.key).get(other) != simdjson::SUCCESS) return false;
        if (!equal(field.value, other)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}

// ---------------------------------------------------------------------------
// URI references (RFC 3986 section 5).
struct Uri {
  std::string scheme;
  bool has_authority = false;
  std::string authority;
  std::string path;
  bool has_query = false;
  std::string query;
  bool has_fragment = false;
  std::string fragment;
};

Uri parse_uri(std::string_view s) {
  Uri u;
  size_t hash = s.find('#');
  if (hash != std::string_view::npos) {
    u.has_fragment = true;
    u.fragment = std::string(s.substr(hash + 1));
    s = s.substr(0, hash);
  }
  size_t q = s.find('?');
  if (q != std::string_view::npos) {
    u.has_query = true;
    u.query = std::string(s.substr(q + 1));
    s = s.substr(0, q);
  }
  size_t colon = s.find(':');
  if (colon != std::string_view::npos && colon > 0 &&
      std::isalpha(static_cast<unsigned char>(s[0]))) {
    bool ok = true;
    for (size_t k = 0; k < colon; ++k) {
      char c = s[k];
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.')
        ok = false;
    }
    if (ok && s.substr(0, colon).find('/') == std::string_view::npos) {
      u.scheme = std::string(s.substr(0, colon));
      s = s.substr(colon + 1);
    }
  }
  if (s.starts_with("//")) {
    u.has_authority = true;
    s = s.substr(2);
    size_t slash = s.find('/');
    u.authority = std::string(s.substr(0, slash));
    s = slash == std::string_view::npos ? std::string_view{} : s.substr(slash);
  }
  u.path = std::string(s);
  return u;
}

std::string remove_dot_segments(std::string in) {
  std::string out;
  while (!in.empty()) {
    if (in.starts_with("../")) {
      in.erase(0, 3);
    } else if (in.starts_with("./")) {
      in.erase(0, 2);
    } else if (in.starts_with("/./")) {
      in.erase(0, 2);
    } else if (in == "/.") {
      in = "/";
    } else if (in.starts_with("/../") || in == "/..") {
      in = in == "/.." ? "/" : in.substr(3);
      size_t last = out.rfind('/');
      out.resize(last == std::string::npos ? 0 : last);
    } else if (in == "." || in == "..") {
      in.clear();
    } else {
      size_t start = in[0] == '/' ? 1 : 0;
      size_t next = in.find('/', start);
      out += in.substr(0, next);
      in = next == std::string::npos ? std::string{} : in.substr(next);
    }
  }
  return out;
}

std::string compose(const Uri& u) {
  std::string s;
  if (!u.scheme.empty()) s += u.scheme + ":";
  if (u.has_authority) s += "//" + u.authority;
  s += u.path;
  if (u.has_query) s += "?" + u.query;
  if (u.has_fragment) s += "#" + u.fragment;
  return s;
}

std::string resolve_uri(std::string_view base, std::string_view ref) {
  Uri r = parse_uri(ref);
  Uri b = parse_uri(base);
  Uri t;
  if (!r.scheme.empty()) {
    t = r;
    t.path = remove_dot_segments(r.path);
  } else {
    if (r.has_authority) {
      t = r;
      t.path = remove_dot_segments(r.path);
    } else {
      if (r.path.empty()) {
        t.path = b.path;
        t.has_query = r.has_query || b.has_query;
        t.query = r.has_query ? r.query : b.query;
      } else {
        if (r.path[0] == '/') {
          t.path = remove_dot_segments(r.path);
        } else {
          std::string merged;
          if (b.has_authority && b.path.empty()) {
            merged = "/" + r.path;
          } else {
            size_t last = b.path.rfind('/');
            merged =
                (last == std::string::npos ? std::string{} : b.path.substr(0, last + 1)) + r.path;
          }
          t.path = remove_dot_segments(merged);
        }
        t.has_query = r.has_query;
        t.query = r.query;
      }
      t.has_authority = b.has_authority;
      t.authority = b.authority;
    }
    t.scheme = b.scheme;
  }
  t.has_fragment = r.has_fragment;
  t.fragment = r.fragment;
  return compose(t);
}

std::string strip_fragment(std::string_view uri) {
  size_t hash = uri.find('#');
  return std::string(uri.substr(0, hash));
}

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t k = 0; k < s.size(); ++k) {
    if (s[k] == '%' && k + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[k + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[k + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(k + 1, 2)), nullptr, 16));
      k += 2;
    } else {
      out += s[k];
    }
  }
  return out;
}

using json::append_pointer_token;

// ECMA-262 long Unicode property names -> the short general categories RE2 knows.
std::string_view unicode_property(std::string_view name) {
  static constexpr std::pair<std::string_view, std::string_view> kLong[] = {
      {"Letter", "L"},
      {"Uppercase_Letter", "Lu"},
      {"Lowercase_Letter", "Ll"},
      {"Titlecase_Letter", "Lt"},
      {"Modifier_Letter", "Lm"},
      {"Other_Letter", "Lo"},
      {"Mark", "M"},
      {"Nonspacing_Mark", "Mn"},
      {"Spacing_Mark", "Mc"},
      {"Enclosing_Mark", "Me"},
      {"Number", "N"},
      {"Decimal_Number", "Nd"},
      {"digit", "Nd"},
      {"Letter_Number", "Nl"},
      {"Other_Number", "No"},
      {"Punctuation", "P"},
      {"punct", "P"},
      {"Symbol", "S"},
      {"Math_Symbol", "Sm"},
      {"Currency_Symbol", "Sc"},
      {"Separator", "Z"},
      {"Space_Separator", "Zs"},
      {"Line_Separator", "Zl"},
      {"Paragraph_Separator", "Zp"},
      {"Other", "C"},
      {"Control", "Cc"},
      {"cntrl", "Cc"},
      {"Format", "Cf"},
      {"Private_Use", "Co"},
      {"Surrogate", "Cs"}};
  for (auto [long_name, short_name] : kLong) {
    if (name == long_name) return short_name;
  }
  return name;
}

// Translates ECMA-262 escapes RE2 spells differently (\uXXXX -> \x{XXXX}, long Unicode
// property names -> short ones).
std::string ecma_to_re2(std::string_view p) {
  std::string out;
  for (size_t k = 0; k < p.size(); ++k) {
    if (p[k] == '\\' && k + 1 < p.size()) {
      if (p[k + 1] == 'u' && k + 5 < p.size() &&
          std::all_of(p.begin() + static_cast<std::ptrdiff_t>(k + 2),
                      p.begin() + static_cast<std::ptrdiff_t>(k + 6),
                      [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })) {
        out += "\\x{";
        out += p.substr(k + 2, 4);
        out += '}';
        k += 5;
        continue;
      }
      if ((p[k + 1] == 'p' || p[k + 1] == 'P') && k + 2 < p.size() && p[k + 2] == '{') {
        size_t close = p.find('}', k + 3);
        if (close != std::string_view::npos) {
          std::string_view name = p.substr(k + 3, close - k - 3);
          if (size_t eq = name.find('='); eq != std::string_view::npos) {
            std::string_view prop = name.substr(0, eq);
            if (prop == "General_Category" || prop == "gc" || prop == "Script" || prop == "sc") {
              name = name.substr(eq + 1);
            }
          }
          out += '\\';
          out += p[k + 1];
          out += '{';
          out += unicode_property(name);
          out += '}';
          k = close;
          continue;
        }
      }
      out += p.substr(k, 2);
      ++k;
      continue;
    }
    out += p[k];
  }
  return out;
}

// ---------------------------------------------------------------------------
enum TypeBit : uint8_t {
  kTNull = 1,
  kTBool = 2,
  kTObject = 4,
  kTArray = 8,
  kTNumber = 16,
  kTString = 32,
  kTInteger = 64,
};

// Names with values for lookup by member key: a linear scan that compares length and
// an 8-byte prefix word before any memcmp, which beats a binary search for the few names
// a schema object usually lists. Duplicate names are kept.
class NameTable {
 public:
  void add(std::string_view name, int value) {
    entries_.push_back({prefix_of(name), name.size(), value});
    names_.emplace_back(name);
  }
  bool empty() const { return entries_.empty(); }
  size_t size() const { return entries_.size(); }
  // Calls f(value) for each entry named `key`.
  template <class F>
  void for_each_match(std::string_view key, F&& f) const {
    const uint64_t prefix = prefix_of(key);
    for (size_t k = 0; k < entries_.size(); ++k) {
      const Entry& entry = entries_[k];
      if (entry.len == key.size() && entry.prefix == prefix &&
          (key.size() <= 8 ||
           std::memcmp(names_[k].data() + 8, key.data() + 8, key.size() - 8) == 0)) {
        f(entry.value);
      }
    }
  }

 private:
  static uint64_t prefix_of(std::string_view s) {
    uint64_t word = 0;
    std::memcpy(&word, s.data(), std::min<size_t>(8, s.size()));
    return word;
  }
  struct Entry {
    uint64_t prefix;
    size_t len;
    int value;
  };
  std::vector<Entry> entries_;
  std::vector<std::string> names_;
};

// Property names -> their position, by open addressing on a hash of the length and the
// first and last eight bytes: one probe and one compare for most lookups, where a scan
// of the names would compare each.
class KeyIndex {
 public:
  void build(const std::vector<std::pair<std::string, int>>& names) {
    size_t cap = 8;
    while (cap < names.size() * 2) cap *= 2;
    slots_.assign(cap, -1);
    mask_ = cap - 1;
    names_.clear();
    for (const auto& [name, unused] : names) names_.push_back(name);
    for (size_t i = 0; i < names_.size(); ++i) {
      size_t h = hash(names_[i]) & mask_;
      while (slots_[h] >= 0) {
        if (names_[static_cast<size_t>(slots_[h])] == names_[i]) break;  // first one wins
        h = (h + 1) & mask_;
      }
      if (slots_[h] < 0) slots_[h] = static_cast<int>(i);
    }
  }
  int find(std::string_view key) const {
    if (slots_.empty()) return -1;
    size_t h = hash(key) & mask_;
    for (;;) {
      const int i = slots_[h];
      if (i < 0) return -1;
      const std::string& name = names_[static_cast<size_t>(i)];
      if (name.size() == key.size() && std::memcmp(name.data(), key.data(), key.size()) == 0) {
        return i;
      }
      h = (h + 1) & mask_;
    }
  }

 private:
  static size_t hash(std::string_view s) {
    uint64_t a = 0, b = 0;
    if (s.size() >= 8) {
      std::memcpy(&a, s.data(), 8);
      std::memcpy(&b, s.data() + s.size() - 8, 8);
    } else {
      for (char c : s) a = (a << 8) | static_cast<unsigned char>(c);
    }
    uint64_t h = (a ^ (b * 0x9E3779B97F4A7C15ull) ^ s.size()) * 0xBF58476D1CE4E5B9ull;
    return static_cast<size_t>(h ^ (h >> 31));
  }
  std::vector<int> slots_;
  size_t mask_ = 0;
  std::vector<std::string> names_;
};

struct Node {
  std::string path;  // schema path of this subschema
  int8_t boolean = -1;
  uint8_t types = 0;
  bool has_type = false;
  const JValue* enum_values = nullptr;
  const JValue* const_value = nullptr;
  std::vector<std::string> required;
  NameTable required_table;                             // name -> position in required
  std::vector<std::pair<std::string, int>> properties;  // sorted by key_less
  KeyIndex property_index;                              // name -> position in properties
  // Per properties entry: its bit in required_all when it is a required name, else 0;
  // set when every required name is a property (and there are at most 64).
  std::vector<uint64_t> property_required;
  uint64_t required_all = 0;
  bool required_in_properties = false;
  std::vector<std::pair<int, int>> pattern_properties;  // regex index, node
  int additional = -1;
  std::optional<double> minimum, maximum, exclusive_minimum, exclusive_maximum, multiple_of;
  std::optional<uint64_t> min_length, max_length, min_items, max_items, min_properties,
      max_properties, min_contains, max_contains;
  int pattern = -1;
  std::string format;
  FormatCheck format_check = nullptr;  // a known format's checker (unknown: annotation)
  bool unique_items = false;
  std::vector<int> prefix_items;
  int items = -1;
  int contains = -1;
  std::vector<int> all_of, any_of, one_of;
  int not_schema = -1, if_schema = -1, then_schema = -1, else_schema = -1;
  std::vector<std::pair<std::string, std::vector<std::string>>> dependent_required;
  std::vector<std::pair<std::string, int>> dependent_schemas;
  int property_names = -1;
  std::vector<int> refs;  // $ref, and $dynamicRef that is not dynamic
  // $dynamicRef to a $dynamicAnchor: the initial target and the anchor name.
  int dynamic_ref = -1;
  std::string dynamic_name;
  // The $dynamicAnchors this schema resource defines (set on resource roots only).
  std::vector<std::pair<std::string, int>> dynamic_anchors;
  // The root of the schema resource this node belongs to, if it defines dynamic anchors:
  // entering the node puts that resource on the dynamic scope.
  int scope_resource = -1;
  int unevaluated_properties = -1, unevaluated_items = -1;
  const JValue* default_value = nullptr;
  // For normalization, resolved once after compilation (through $ref and allOf):
  uint8_t coerce_types = 0;  // the "type" bits that constrain this schema, or 0
  bool has_default = false;  // a "default" here or through $ref
  std::string default_json;  // its JSON text (JsonWriter style)
};

// Evaluated properties / items of one instance location (for unevaluated*).
struct Annot {
  std::vector<char> props;
  std::vector<char> items;
  void mark_prop(size_t k, size_t n) {
    if (props.size() < n) props.resize(n, 0);
    props[k] = 1;
  }
  void mark_item(size_t k, size_t n) {
    if (items.size() < n) items.resize(n, 0);
    items[k] = 1;
  }
  bool prop(size_t k) const { return k < props.size() && props[k]; }
  bool item(size_t k) const { return k < items.size() && items[k]; }
  void merge(const Annot& o) {
    if (props.size() < o.props.size()) props.resize(o.props.size(), 0);
    for (size_t k = 0; k < o.props.size(); ++k) props[k] |= o.props[k];
    if (items.size() < o.items.size()) items.resize(o.items.size(), 0);
    for (size_t k = 0; k < o.items.size(); ++k) items[k] |= o.items[k];
  }
};

// Orders property names by length, then bytes: most comparisons during lookup are then
// decided by the length alone.
inline bool key_less(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return a.size() < b.size();
  return std::memcmp(a.data(), b.data(), a.size()) < 0;
}

// One step of the instance path; the pointer text is built only for a violation.
struct PathToken {
  std::string_view key;
  size_t index;
  bool is_index;
};

struct Ctx {
  std::vector<Violation>* out;
  size_t max;
  std::vector<PathToken>* inst;
  std::vector<int>* scope;  // resources (with dynamic anchors) on the dynamic scope
  int depth = 0;
  bool full() const { return out->size() >= max; }
};

}  // namespace

struct Schema::Impl {
  std::deque<std::unique_ptr<JValue>> docs;
  std::vector<Node> nodes;
  std::vector<std::unique_ptr<RE2>> regexes;
  std::vector<std::optional<SimplePattern>> simple;  // per regex: the fast path, if any
  bool formats = true;
  int root = 0;

  bool eval(int ni, simdjson::dom::element e, Annot* annot, Ctx& c, bool report) const;
  bool matches(int re, std::string_view s) const {
    const auto& fast = simple[static_cast<size_t>(re)];
    return fast ? fast->match(s) : RE2::PartialMatch(s, *regexes[static_cast<size_t>(re)]);
  }
  bool eval_object(const Node& n, simdjson::dom::element e, Annot* a, Ctx& c, bool report) const;
  bool eval_array(const Node& n, simdjson::dom::element e, Annot* a, Ctx& c, bool report) const;

  void normalize(int ni, simdjson::dom::element e, const NormalizeOptions& o, json::Location& at,
                 std::vector<json::Edit>& out, int hops) const;
  // Fills Node::coerce_types and the defaults, once the nodes are compiled.
  void resolve_normalization();
  // The "type" bits that constrain node `ni` (its own, else its $ref's or allOf's), or 0.
  uint8_t constraining_types(int ni, int depth) const;
  const JValue* default_of(int ni, int depth) const;
};

namespace {

void add_violation(Ctx& c, const Node& n, const char* keyword, std::string message) {
  if (c.full()) return;
  Violation v;
  for (const PathToken& token : *c.inst) {
    if (token.is_index) {
      json::append_pointer_index(v.instance_path, token.index);
    } else {
      append_pointer_token(v.instance_path, token.key);
    }
  }
  v.keyword = keyword;
  v.schema_path = n.path;
  append_pointer_token(v.schema_path, keyword);
  v.message = std::move(message);
  c.out->push_back(std::move(v));
}

// Checks a count (characters, items, properties, contains matches) against the optional
// bounds of a min/max keyword pair and reports each bound it breaks, as
// "expected at least 2 items, got 1". Returns true when evaluation should stop;
// `failed` records the failure and says whether to stop.
template <class Failed>
bool count_out_of_bounds(Ctx& c, const Node& n, bool report, uint64_t got,
                         std::optional<uint64_t> min, const char* min_keyword,
                         std::optional<uint64_t> max, const char* max_keyword,
                         std::string_view noun, Failed&& failed) {
  auto one = [&](bool broken, const char* keyword, const char* relation, uint64_t bound) {
    if (!broken) return false;
    if (report) {
      add_violation(c, n, keyword,
                    "expected " + std::string(relation) + std::to_string(bound) + " " +
                        std::string(noun) + ", got " + std::to_string(got));
    }
    return failed();
  };
  return one(min && got < *min, min_keyword, "at least ", min.value_or(0)) ||
         one(max && got > *max, max_keyword, "at most ", max.value_or(0));
}

// Pushes a token onto the instance path for the life of the guard.
// One step into the instance, for as long as the guard lives. It restarts the count
// of $ref hops, so kMaxRefDepth bounds chains of references that never move into the
// instance (an infinite loop), not how deeply a valid instance nests (which simdjson
// bounds). Only a reporting evaluation (`report`) tracks the path.
class PathGuard {
 public:
  PathGuard(Ctx& c, std::string_view key, bool report)
      : c_(c), path_(report ? c.inst : nullptr), depth_(c.depth) {
    c.depth = 0;
    if (path_ != nullptr) path_->push_back({key, 0, false});
  }
  PathGuard(Ctx& c, size_t index, bool report)
      : c_(c), path_(report ? c.inst : nullptr), depth_(c.depth) {
    c.depth = 0;
    if (path_ != nullptr) path_->push_back({{}, index, true});
  }
  ~PathGuard() {
    c_.depth = depth_;
    if (path_ != nullptr) path_->pop_back();
  }
  PathGuard(const PathGuard&) = delete;
  PathGuard& operator=(const PathGuard&) = delete;

 private:
  Ctx& c_;
  std::vector<PathToken>* path_;
  int depth_;
};

size_t code_points(std::string_view s) {
  size_t n = 0;
  for (char ch : s) {
    if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80) ++n;
  }
  return n;
}

const char* type_name(simdjson::dom::element e) {
  using T = simdjson::dom::element_type;
  switch (e.type()) {
    case T::NULL_VALUE:
      return "null";
    case T::BOOL:
      return "boolean";
    case T::OBJECT:
      return "object";
    case T::ARRAY:
      return "array";
    case T::STRING:
      return "string";
    case T::DOUBLE: {
      double d = e.get_double().value_unsafe();
      return std::isfinite(d) && d == std::floor(d) ? "integer" : "number";
    }
    default:
      return "integer";
  }
}

std::string type_list(uint8_t types) {
  static constexpr std::pair<uint8_t, const char*> kNames[] = {
      {kTNull, "null"},     {kTBool, "boolean"},  {kTObject, "object"},  {kTArray, "array"},
      {kTNumber, "number"}, {kTString, "string"}, {kTInteger, "integer"}};
  std::string s;
  for (auto [bit, name] : kNames) {
    // "number" includes integers; name "integer" only when it was asked for alone.
    if (bit == kTInteger && (types & kTNumber)) continue;
    if (types & bit) {
      if (!s.empty()) s += " or ";
      s += name;
    }
  }
  return s;
}

// Bit k is set when required name k is a member of `obj`. Kept out of line so the
// simdjson iteration inlines here (eval_object is too large for the inliner).
[[gnu::noinline]] uint64_t required_mask(simdjson::dom::object obj, const NameTable& names) {
  uint64_t present = 0;
  for (auto field : obj) {
    names.for_each_match(field.key, [&](int k) { present |= uint64_t{1} << k; });
  }
  return present;
}

// A hash that agrees with equal(): numbers by their value as a double (1 and 1.0 hash
// alike; equal() then decides exactly), object members order-independent.
uint64_t value_hash(simdjson::dom::element e) {
  using T = simdjson::dom::element_type;
  auto mix = [](uint64_t h) {
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDull;
    h ^= h >> 33;
    return h;
  };
  switch (e.type()) {
    case T::NULL_VALUE:
      return 1;
    case T::BOOL:
      return e.get_bool().value_unsafe() ? 2 : 3;
    case T::STRING:
      return mix(std::hash<std::string_view>{}(e.get_string().value_unsafe()) ^ 4);
    case T::ARRAY: {
      uint64_t h = 5;
      simdjson::dom::array arr = e.get_array().value_unsafe();
      for (auto x : arr) h = mix(h * 31 + value_hash(x));
      return h;
    }
    case T::OBJECT: {
      uint64_t h = 6;
      simdjson::dom::object obj = e.get_object().value_unsafe();
      for (auto field : obj) {
        h += mix(std::hash<std::string_view>{}(field.key) ^ mix(value_hash(field.value)));
      }
      return h;
    }
    default: {
      double d = num_double(num_of(e));
      if (d == 0) d = 0;  // -0.0 == 0.0
      uint64_t bits = 0;
      std::memcpy(&bits, &d, sizeof bits);
      return mix(bits ^ 7);
    }
  }
}

// The first pair (by the first index, then the second) of equal items, for
// uniqueItems. Small arrays compare every pair; larger ones compare only items whose
// hashes agree, so the time is n log n, not quadratic, on untrusted input.
bool first_equal_pair(simdjson::dom::array arr, size_t size, size_t& first, size_t& second) {
  constexpr size_t kPairwiseMax = 16;
  if (size <= kPairwiseMax) {
    size_t k = 0;
    for (auto x = arr.begin(); x != arr.end(); ++x, ++k) {
      auto y = x;
      size_t j = k;
      for (++y, ++j; y != arr.end(); ++y, ++j) {
        if (equal(*x, *y)) {
          first = k;
          second = j;
          return true;
        }
      }
    }
    return false;
  }
  std::vector<simdjson::dom::element> items;
  std::vector<std::pair<uint64_t, size_t>> hashed;  // (hash, index), sorted
  items.reserve(size);
  hashed.reserve(size);
  for (auto x : arr) {
    hashed.emplace_back(value_hash(x), items.size());
    items.push_back(x);
  }
  std::sort(hashed.begin(), hashed.end());
  bool found = false;
  for (size_t g = 0; g < hashed.size();) {
    size_t end = g + 1;
    while (end < hashed.size() && hashed[end].first == hashed[g].first) ++end;
    // Within a group (ascending index), the first item that has an equal later one
    // gives the group's smallest pair.
    for (size_t i = g; i + 1 < end; ++i) {
      const size_t a = hashed[i].second;
      if (found && a > first) break;
      bool hit = false;
      for (size_t j = i + 1; j < end && !hit; ++j) {
        const size_t b = hashed[j].second;
        if (equal(items[a], items[b])) {
          if (!found || a < first || (a == first && b < second)) {
            first = a;
            second = b;
          }
          found = hit = true;
        }
      }
      if (hit) break;
    }
    g = end;
  }
  return found;
}

// The position of `key` in n.properties, or -1.
int property_index(const Node& n, std::string_view key) { return n.property_index.find(key); }

}  // namespace

bool Schema::Impl::eval(int ni, simdjson::dom::element e, Annot* annot, Ctx& c, bool report) const {
  using T = simdjson::dom::element_type;
  const Node& n = nodes[static_cast<size_t>(ni)];
  if (n.boolean >= 0) {
    if (n.boolean) return true;
    if (report) {
      const size_t before = c.out->size();
      add_violation(c, n, "false", "no value is allowed here (schema is false)");
      // The schema path of a false schema is its own location.
      if (c.out->size() > before) c.out->back().schema_path = n.path;
    }
    return false;
  }
  if (report && c.full()) return false;
  bool ok = true;
  // Records a failure; true when evaluation of this node should stop.
  auto failed = [&]() {
    ok = false;
    return !report || c.full();
  };
  const bool wants_annot = n.unevaluated_properties >= 0 || n.unevaluated_items >= 0;
  std::optional<Annot> own;  // constructed only for unevaluated*
  if (wants_annot) own.emplace();
  Annot* a = wants_annot ? &*own : annot;

  // Dynamic scope for $dynamicRef: entered resources, outermost first.
  struct ScopeGuard {
    std::vector<int>* scope = nullptr;
    ~ScopeGuard() {
      if (scope != nullptr) scope->pop_back();
    }
  } scope_guard;
  if (n.scope_resource >= 0 && (c.scope->empty() || c.scope->back() != n.scope_resource)) {
    c.scope->push_back(n.scope_resource);
    scope_guard.scope = c.scope;
  }
  if (n.dynamic_ref >= 0) {
    int target = n.dynamic_ref;
    bool found = false;
    for (int resource : *c.scope) {
      for (const auto& [name, sub] : nodes[static_cast<size_t>(resource)].dynamic_anchors) {
        if (name == n.dynamic_name) {
          target = sub;
          found = true;
          break;
        }
      }
      if (found) break;
    }
    if (c.depth >= kMaxRefDepth) {
      if (report)
        add_violation(c, n, "$dynamicRef", "reference recursion too deep (infinite loop?)");
      return false;
    }
    ++c.depth;
    bool r = eval(target, e, a, c, report);
    --c.depth;
    if (!r && failed()) return false;
  }

  // $ref / $dynamicRef: in-place, followed lazily with a depth guard.
  for (int ref : n.refs) {
    if (c.depth >= kMaxRefDepth) {
      if (report) add_violation(c, n, "$ref", "reference recursion too deep (infinite loop?)");
      return false;
    }
    ++c.depth;
    bool r = eval(ref, e, a, c, report);
    --c.depth;
    if (!r && failed()) return false;
  }

  const T t = e.type();
  if (n.has_type) {
    uint8_t bit = 0;
    switch (t) {
      case T::NULL_VALUE:
        bit = kTNull;
        break;
      case T::BOOL:
        bit = kTBool;
        break;
      case T::OBJECT:
        bit = kTObject;
        break;
      case T::ARRAY:
        bit = kTArray;
        break;
      case T::STRING:
        bit = kTString;
        break;
      case T::DOUBLE: {
        double d = e.get_double().value_unsafe();
        bit = std::isfinite(d) && d == std::floor(d) ? (kTNumber | kTInteger) : kTNumber;
        break;
      }
      default:
        bit = kTNumber | kTInteger;
    }
    if ((n.types & bit) == 0) {
      if (report) {
        add_violation(c, n, "type", "expected " + type_list(n.types) + ", got " + type_name(e));
      }
      if (failed()) return false;
    }
  }
  if (n.enum_values != nullptr) {
    bool found = false;
    for (const JValue& v : n.enum_values->arr) {
      if (equal(e, v)) {
        found = true;
        break;
      }
    }
    if (!found) {
      if (report) {
        add_violation(c, n, "enum", "expected one of " + show(*n.enum_values) + ", got " + show(e));
      }
      if (failed()) return false;
    }
  }
  if (n.const_value != nullptr && !equal(e, *n.const_value)) {
    if (report)
      add_violation(c, n, "const", "expected " + show(*n.const_value) + ", got " + show(e));
    if (failed()) return false;
  }

  // Numbers.
  if (is_num(t)) {
    Num num = num_of(e);
    double x = num_double(num);
    auto bound = [&](const std::optional<double>& b, bool bad, const char* kw, const char* op) {
      if (b && bad) {
        if (report)
          add_violation(c, n, kw,
                        std::string("expected ") + op + " " + fmt_double(*b) + ", got " + show(e));
        return failed();
      }
      return false;
    };
    if (bound(n.minimum, n.minimum && x < *n.minimum, "minimum", ">=")) return false;
    if (bound(n.maximum, n.maximum && x > *n.maximum, "maximum", "<=")) return false;
    if (bound(n.exclusive_minimum, n.exclusive_minimum && x <= *n.exclusive_minimum,
              "exclusiveMinimum", ">")) {
      return false;
    }
    if (bound(n.exclusive_maximum, n.exclusive_maximum && x >= *n.exclusive_maximum,
              "exclusiveMaximum", "<")) {
      return false;
    }
    if (n.multiple_of) {
      double m = *n.multiple_of;
      bool multiple;
      if (num.kind != 2 && m == std::floor(m) && m < 9.007199254740992e15) {
        uint64_t mi = static_cast<uint64_t>(m);
        uint64_t v = num.kind == 0
                         ? (num.i < 0 ? static_cast<uint64_t>(0) - static_cast<uint64_t>(num.i)
                                      : static_cast<uint64_t>(num.i))
                         : num.u;
        multiple = v % mi == 0;
      } else {
        double q = x / m;
        multiple =
            std::isfinite(q) && std::fabs(q - std::round(q)) <= 1e-9 * std::max(1.0, std::fabs(q));
      }
      if (!multiple) {
        if (report) {
          add_violation(c, n, "multipleOf",
                        "expected a multiple of " + fmt_double(m) + ", got " + show(e));
        }
        if (failed()) return false;
      }
    }
  } else if (t == T::STRING) {
    std::string_view s = e.get_string().value_unsafe();
    if ((n.min_length || n.max_length) &&
        count_out_of_bounds(c, n, report, code_points(s), n.min_length, "minLength", n.max_length,
                            "maxLength", "characters", failed)) {
      return false;
    }
    if (n.pattern >= 0 && !matches(n.pattern, s)) {
      if (report) {
        add_violation(c, n, "pattern",
                      "expected to match /" + regexes[static_cast<size_t>(n.pattern)]->pattern() +
                          "/, got " + show(e));
      }
      if (failed()) return false;
    }
    if (n.format_check != nullptr && formats && !n.format_check(s)) {
      if (report)
        add_violation(c, n, "format", "expected a valid " + n.format + ", got " + show(e));
      if (failed()) return false;
    }
  } else if (t == T::OBJECT) {
    if (!eval_object(n, e, a, c, report)) {
      if (failed()) return false;
    }
  } else if (t == T::ARRAY) {
    if (!eval_array(n, e, a, c, report)) {
      if (failed()) return false;
    }
  }

  // Applicators.
  for (int sub : n.all_of) {
    if (!eval(sub, e, a, c, report) && failed()) return false;
  }
  if (!n.any_of.empty()) {
    bool any = false;
    for (int sub : n.any_of) {
      if (a != nullptr) {
        Annot branch;
        if (eval(sub, e, &branch, c, false)) {
          any = true;
          a->merge(branch);
        }
      } else if (eval(sub, e, nullptr, c, false)) {
        any = true;
        break;
      }
    }
    if (!any) {
      if (report) add_violation(c, n, "anyOf", "no subschema of anyOf matched");
      if (failed()) return false;
    }
  }
  if (!n.one_of.empty()) {
    size_t matches = 0;
    Annot kept;
    for (int sub : n.one_of) {
      Annot branch;
      if (eval(sub, e, a != nullptr ? &branch : nullptr, c, false)) {
        if (++matches == 1 && a != nullptr) kept = std::move(branch);
        if (matches > 1) break;
      }
    }
    if (matches != 1) {
      if (report) {
        add_violation(c, n, "oneOf",
                      matches == 0 ? "no subschema of oneOf matched"
                                   : "more than one subschema of oneOf matched");
      }
      if (failed()) return false;
    } else if (a != nullptr) {
      a->merge(kept);
    }
  }
  if (n.not_schema >= 0 && eval(n.not_schema, e, nullptr, c, false)) {
    if (report) add_violation(c, n, "not", "value matches a schema under \"not\"");
    if (failed()) return false;
  }
  if (n.if_schema >= 0) {
    Annot cond;
    bool pass = eval(n.if_schema, e, a != nullptr ? &cond : nullptr, c, false);
    if (pass && a != nullptr) a->merge(cond);
    int branch = pass ? n.then_schema : n.else_schema;
    const size_t before = c.out->size();
    if (branch >= 0 && !eval(branch, e, a, c, report)) {
      if (report && c.out->size() == before) {
        add_violation(c, n, pass ? "then" : "else",
                      pass ? "value matches \"if\" but not \"then\""
                           : "value fails \"if\" and does not match \"else\"");
      }
      if (failed()) return false;
    }
  }

  // unevaluated* last: they see the annotations of everything above.
  if (wants_annot && ok) {
    if (t == T::OBJECT && n.unevaluated_properties >= 0) {
      const Node& u = nodes[static_cast<size_t>(n.unevaluated_properties)];
      auto obj = as_object(e);
      size_t size = obj.size();
      size_t k = 0;
      for (auto field : obj) {
        if (!own->prop(k)) {
          PathGuard guard(c, field.key, report);
          if (u.boolean == 0) {
            if (report) {
              add_violation(c, n, "unevaluatedProperties",
                            "property \"" + std::string(field.key) + "\" is not allowed");
            }
            if (failed()) return false;
          } else if (!eval(n.unevaluated_properties, field.value, nullptr, c, report)) {
            if (failed()) return false;
          }
          own->mark_prop(k, size);
        }
        ++k;
      }
    }
    if (t == T::ARRAY && n.unevaluated_items >= 0) {
      const Node& u = nodes[static_cast<size_t>(n.unevaluated_items)];
      auto arr = as_array(e);
      size_t size = arr.size();
      size_t k = 0;
      for (simdjson::dom::element item : arr) {
        if (!own->item(k)) {
          PathGuard guard(c, k, report);
          if (u.boolean == 0) {
            if (report)
              add_violation(c, n, "unevaluatedItems",
                            "item " + std::to_string(k) + " is not allowed");
            if (failed()) return false;
          } else if (!eval(n.unevaluated_items, item, nullptr, c, report)) {
            if (failed()) return false;
          }
          own->mark_item(k, size);
        }
        ++k;
      }
    }
  }
  if (ok && wants_annot && annot != nullptr) annot->merge(*own);
  return ok;
}

bool Schema::Impl::eval_object(const Node& n, simdjson::dom::element e, Annot* a, Ctx& c,
                               bool report) const {
  bool ok = true;
  auto failed = [&]() {
    ok = false;
    return !report || c.full();
  };
  const simdjson::dom::object obj = as_object(e);
  const size_t size = obj.size();
  // For a verdict only, required names that are all properties are checked in the
  // properties pass below (one lookup per member instead of two).
  const bool by_properties = !report && n.required_in_properties;
  if (!n.required.empty() && !by_properties) {
    // One pass over the members marks the required names present (up to 64 names;
    // longer lists fall back to a lookup per name).
    const bool by_mask = n.required.size() <= 64;
    const uint64_t present = by_mask ? required_mask(obj, n.required_table) : 0;
    for (size_t k = 0; k < n.required.size(); ++k) {
      bool has = false;
      if (by_mask) {
        has = (present >> k) & 1;
      } else {
        simdjson::dom::element unused;
        has = obj.at_key(n.required[k]).get(unused) == simdjson::SUCCESS;
      }
      if (!has) {
        if (report) {
          add_violation(c, n, "required", "missing required property \"" + n.required[k] + "\"");
        }
        if (failed()) return false;
      }
    }
  }
  if (count_out_of_bounds(c, n, report, size, n.min_properties, "minProperties", n.max_properties,
                          "maxProperties", "properties", failed)) {
    return false;
  }
  for (const auto& [name, deps] : n.dependent_required) {
    simdjson::dom::element unused;
    if (obj.at_key(name).get(unused) != simdjson::SUCCESS) continue;
    for (const std::string& dep : deps) {
      if (obj.at_key(dep).get(unused) != simdjson::SUCCESS) {
        if (report) {
          add_violation(c, n, "dependentRequired",
                        "property \"" + dep + "\" is required when \"" + name + "\" is present");
        }
        if (failed()) return false;
      }
    }
  }
  for (const auto& [name, sub] : n.dependent_schemas) {
    simdjson::dom::element unused;
    if (obj.at_key(name).get(unused) != simdjson::SUCCESS) continue;
    if (!eval(sub, e, a, c, report) && failed()) return false;
  }

  // propertyNames: each key is validated as a JSON string, parsed into a per-thread
  // parser (the key has no element of its own in the instance DOM).
  if (n.property_names >= 0) {
    thread_local simdjson::dom::parser key_parser;
    thread_local std::string key_json;
    for (auto field : obj) {
      key_json.clear();
      json::append_json_string(key_json, field.key);
      key_json.reserve(key_json.size() + simdjson::SIMDJSON_PADDING);
      simdjson::dom::element key;
      if (key_parser.parse(key_json.data(), key_json.size(), false).get(key) != simdjson::SUCCESS) {
        continue;
      }
      PathGuard guard(c, field.key, report);
      const size_t before = c.out->size();
      if (!eval(n.property_names, key, nullptr, c, report)) {
        if (report && c.out->size() > before &&
            nodes[static_cast<size_t>(n.property_names)].boolean == 0) {
          c.out->back().keyword = "propertyNames";
          c.out->back().message = "property name \"" + std::string(field.key) + "\" is not allowed";
        }
        if (failed()) return false;
      }
    }
  }

  // properties, patternProperties, additionalProperties: one pass over the members.
  if (!n.properties.empty() || !n.pattern_properties.empty() || n.additional >= 0) {
    size_t k = 0;
    uint64_t present = 0;
    for (auto field : obj) {
      bool matched = false;
      if (int i = property_index(n, field.key); i >= 0) {
        const int sub = n.properties[static_cast<size_t>(i)].second;
        if (by_properties) present |= n.property_required[static_cast<size_t>(i)];
        matched = true;
        PathGuard guard(c, field.key, report);
        if (!eval(sub, field.value, nullptr, c, report) && failed()) return false;
      }
      for (const auto& [re, sub] : n.pattern_properties) {
        if (matches(re, field.key)) {
          matched = true;
          PathGuard guard(c, field.key, report);
          if (!eval(sub, field.value, nullptr, c, report) && failed()) return false;
        }
      }
      if (!matched && n.additional >= 0) {
        matched = true;
        PathGuard guard(c, field.key, report);
        if (nodes[static_cast<size_t>(n.additional)].boolean == 0) {
          if (report) {
            add_violation(c, n, "additionalProperties",
                          "property \"" + std::string(field.key) + "\" is not allowed");
          }
          if (failed()) return false;
        } else if (!eval(n.additional, field.value, nullptr, c, report) && failed()) {
          return false;
        }
      }
      if (matched && a != nullptr) a->mark_prop(k, size);
      ++k;
    }
    if (by_properties && present != n.required_all) return false;
  }
  return ok;
}

bool Schema::Impl::eval_array(const Node& n, simdjson::dom::element e, Annot* a, Ctx& c,
                              bool report) const {
  bool ok = true;
  auto failed = [&]() {
    ok = false;
    return !report || c.full();
  };
  const simdjson::dom::array arr = as_array(e);
  const size_t size = arr.size();
  if (count_out_of_bounds(c, n, report, size, n.min_items, "minItems", n.max_items, "maxItems",
                          "items", failed)) {
    return false;
  }
  if (n.unique_items && size > 1) {
    size_t first = 0;
    size_t second = 0;
    if (first_equal_pair(arr, size, first, second)) {
      if (report) {
        add_violation(
            c, n, "uniqueItems",
            "items " + std::to_string(first) + " and " + std::to_string(second) + " are equal");
      }
      if (failed()) return false;
    }
  }
  if (!n.prefix_items.empty() || n.items >= 0) {
    size_t k = 0;
    for (simdjson::dom::element item : arr) {
      int sub = -1;
      const char* keyword = "items";
      if (k < n.prefix_items.size()) {
        sub = n.prefix_items[k];
        keyword = "prefixItems";
      } else {
        sub = n.items;
      }
      if (sub < 0) break;
      PathGuard guard(c, k, report);
      if (nodes[static_cast<size_t>(sub)].boolean == 0) {
        if (report) {
          add_violation(c, n, keyword,
                        "item " + std::to_string(k) + " is not allowed (array has " +
                            std::to_string(size) + " items)");
        }
        if (failed()) return false;
      } else if (!eval(sub, item, nullptr, c, report) && failed()) {
        return false;
      }
      if (a != nullptr) a->mark_item(k, size);
      ++k;
    }
  }
  if (n.contains >= 0) {
    uint64_t matches = 0;
    size_t k = 0;
    for (simdjson::dom::element item : arr) {
      PathGuard guard(c, k, false);
      if (eval(n.contains, item, nullptr, c, false)) {
        ++matches;
        if (a != nullptr) a->mark_item(k, size);
      }
      ++k;
    }
    if (count_out_of_bounds(c, n, report, matches, n.min_contains.value_or(1),
                            n.min_contains ? "minContains" : "contains", n.max_contains,
                            "maxContains", "items matching \"contains\"", failed)) {
      return false;
    }
  }
  return ok;
}

// ---------------------------------------------------------------------------
// Compilation.
namespace {

bool read_file_to(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  out = ss.str();
  return true;
}

class Compiler {
 public:
  Compiler(Schema::Impl& impl, const SchemaOptions& opt, std::string origin)
      : impl_(impl), opt_(opt), origin_(std::move(origin)) {}

  // Parses `text` into a new document registered under `uri`. Returns null on error.
  const JValue* add_document(std::string_view text, const std::string& uri,
                             const std::string& label) {
    simdjson::dom::parser parser;
    simdjson::padded_string padded(text);
    simdjson::dom::element root;
    auto err = parser.parse(padded).get(root);
    if (err != simdjson::SUCCESS) {
      error_ = label + ": not valid JSON: " + simdjson::error_message(err);
      return nullptr;
    }
    // As for events: which of two values a keyword has would be a guess.
    if (std::string dup; find_duplicate_key(root, dup)) {
      error_ = label + ": schema " + dup + ": duplicate key";
      return nullptr;
    }
    impl_.docs.push_back(std::make_unique<JValue>(from_dom(root)));
    const JValue* doc = impl_.docs.back().get();
    std::string base = strip_fragment(uri);
    resources_.emplace(base, doc);
    // Violations name a subschema of another document by its URI, or by the file path
    // it was read from when it has no URI of its own (never an absolute file: URI).
    std::string prefix = uri == base_uri_              ? std::string{}
                         : base.starts_with("file://") ? label
                                                       : base;
    index(*doc, base, "", prefix, doc);
    return doc;
  }

  bool load_schema_dir() {
    if (opt_.schema_dir.empty()) return true;
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(opt_.schema_dir, ec)) {
      if (entry.path().extension() == ".json") files.push_back(entry.path());
    }
    if (ec) {
      error_ = opt_.schema_dir + ": cannot read schema directory: " + ec.message();
      return false;
    }
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      std::string uri = "file://" + std::filesystem::absolute(file).lexically_normal().string();
      if (resources_.count(uri)) continue;
      std::string text;
      if (!read_file(file.string(), text)) return false;
      if (add_document(text, uri, file.string()) == nullptr) return false;
    }
    return true;
  }

  bool read_file(const std::string& path, std::string& out) {
    if (!read_file_to(path, out)) {
      error_ = path + ": cannot read schema file";
      return false;
    }
    return true;
  }

  // Compiles the schema at `v`, memoized by location.
  int compile(const JValue* v) {
    auto found = memo_.find(v);
    if (found != memo_.end()) return found->second;
    int index = static_cast<int>(impl_.nodes.size());
    impl_.nodes.emplace_back();
    memo_.emplace(v, index);
    auto p = path_of_.find(v);
    std::string path = p != path_of_.end() ? p->second : std::string{};
    Node node;
    node.path = path;
    if (!fill(*v, node)) return -1;
    link_required(node);
    impl_.nodes[static_cast<size_t>(index)] = std::move(node);
    return index;
  }

  std::string error_;
  std::string base_uri_;

 private:
  bool fail(const std::string& path, const std::string& message) {
    if (error_.empty()) {
      error_ = origin_ + ": schema " + (path.empty() ? std::string("/") : path) + ": " + message;
    }
    return false;
  }

  // Registers $id, $anchor and locations of every subschema below `v`.
  void index(const JValue& v, std::string base, const std::string& path, const std::string& prefix,
             const JValue* resource) {
    path_of_.emplace(&v, prefix.empty() ? path : prefix + "#" + path);
    if (v.kind != JValue::kObject) return;
    if (const JValue* id = v.get("$id"); id != nullptr && id->kind == JValue::kString) {
      base = strip_fragment(resolve_uri(base, id->s));
      resources_.emplace(base, &v);
      resource = &v;
    }
    base_of_.emplace(&v, base);
    resource_of_.emplace(&v, resource);
    for (const char* kw : {"$anchor", "$dynamicAnchor"}) {
      if (const JValue* anchor = v.get(kw); anchor != nullptr && anchor->kind == JValue::kString) {
        anchors_.emplace(base + "#" + anchor->s, &v);
        if (kw[1] == 'd') dynamic_anchors_[resource].emplace_back(anchor->s, &v);
      }
    }
    for (const auto& [key, sub] : v.obj) {
      std::string sub_path = path;
      append_pointer_token(sub_path, key);
      if (key == "properties" || key == "patternProperties" || key == "$defs" ||
          key == "definitions" || key == "dependentSchemas") {
        if (sub.kind != JValue::kObject) continue;
        for (const auto& [name, s] : sub.obj) {
          std::string p = sub_path;
          append_pointer_token(p, name);
          index(s, base, p, prefix, resource);
        }
      } else if (key == "allOf" || key == "anyOf" || key == "oneOf" || key == "prefixItems") {
        if (sub.kind != JValue::kArray) continue;
        for (size_t k = 0; k < sub.arr.size(); ++k) {
          index(sub.arr[k], base, sub_path + "/" + std::to_string(k), prefix, resource);
        }
      } else if (key == "items" || key == "additionalProperties" || key == "not" || key == "if" ||
                 key == "then" || key == "else" || key == "contains" || key == "propertyNames" ||
                 key == "unevaluatedProperties" || key == "unevaluatedItems") {
        index(sub, base, sub_path, prefix, resource);
      }
    }
  }

  std::string base_for(const JValue& v) {
    auto it = base_of_.find(&v);
    return it != base_of_.end() ? it->second : base_uri_;
  }

  // Finds a document that is not loaded yet, through uri_map, file: URIs and schema_dir.
  const JValue* load_remote(const std::string& uri) {
    std::string file;
    for (const auto& [prefix, dir] : opt_.uri_map) {
      if (uri.starts_with(prefix)) {
        file = dir + "/" + uri.substr(prefix.size());
        break;
      }
    }
    std::string text;
    if (file.empty() && uri.starts_with("file://")) {
      std::string local = percent_decode(uri.substr(7));
      if (read_file_to(local, text)) file = local;
    }
    if (file.empty() && !opt_.schema_dir.empty()) {
      size_t slash = uri.rfind('/');
      std::string name = slash == std::string::npos ? uri : uri.substr(slash + 1);
      if (!name.empty()) file = opt_.schema_dir + "/" + name;
    }
    if (file.empty()) return nullptr;
    if (text.empty() && !read_file_to(file, text)) return nullptr;
    return add_document(text, uri, file);
  }

  const JValue* resolve_ref(const std::string& ref, const JValue& at, const std::string& path) {
    std::string abs = resolve_uri(base_for(at), ref);
    size_t hash = abs.find('#');
    std::string doc_uri = abs.substr(0, hash);
    std::string fragment = hash == std::string::npos ? std::string{} : abs.substr(hash + 1);
    auto doc = resources_.find(doc_uri);
    const JValue* target = nullptr;
    if (doc != resources_.end()) {
      target = doc->second;
    } else {
      target = load_remote(doc_uri);
      if (target == nullptr) {
        if (!error_.empty()) return nullptr;
        fail(path, "cannot resolve $ref \"" + ref + "\" (" + doc_uri + " not found)");
        return nullptr;
      }
      // The loaded document may register itself under its $id; prefer that entry.
      auto again = resources_.find(doc_uri);
      if (again != resources_.end()) target = again->second;
    }
    if (fragment.empty()) return target;
    fragment = percent_decode(fragment);
    if (fragment[0] != '/') {
      auto anchor = anchors_.find(doc_uri + "#" + fragment);
      if (anchor == anchors_.end()) {
        fail(path, "cannot resolve $ref \"" + ref + "\" (no anchor \"" + fragment + "\")");
        return nullptr;
      }
      return anchor->second;
    }
    size_t pos = 1;
    while (target != nullptr && pos <= fragment.size()) {
      size_t next = fragment.find('/', pos);
      if (next == std::string::npos) next = fragment.size();
      std::string token;
      for (size_t k = pos; k < next; ++k) {
        if (fragment[k] == '~' && k + 1 < next && fragment[k + 1] == '1') {
          token += '/';
          ++k;
        } else if (fragment[k] == '~' && k + 1 < next && fragment[k + 1] == '0') {
          token += '~';
          ++k;
        } else {
          token += fragment[k];
        }
      }
      if (target->kind == JValue::kObject) {
        target = target->get(token);
      } else if (target->kind == JValue::kArray) {
        size_t idx = 0;
        auto r = std::from_chars(token.data(), token.data() + token.size(), idx);
        target = (r.ec == std::errc{} && r.ptr == token.data() + token.size() &&
                  idx < target->arr.size())
                     ? &target->arr[idx]
                     : nullptr;
      } else {
        target = nullptr;
      }
      pos = next + 1;
    }
    if (target == nullptr) {
      fail(path, "cannot resolve $ref \"" + ref + "\" (no such location)");
      return nullptr;
    }
    if (!path_of_.count(target)) {
      // A location no keyword indexes (e.g. under an unknown keyword): index it now.
      index(*target, doc_uri, fragment, doc_uri, target);
    }
    return target;
  }

  bool subschema(const JValue* v, const std::string& path, int& out) {
    if (v->kind != JValue::kObject && v->kind != JValue::kBool) {
      return fail(path, "expected a schema (object or boolean)");
    }
    if (!path_of_.count(v)) path_of_.emplace(v, path);
    out = compile(v);
    return out >= 0;
  }

  bool uint_keyword(const JValue& v, const std::string& path, std::optional<uint64_t>& out) {
    if (v.kind == JValue::kUint) {
      out = v.u;
    } else if (v.kind == JValue::kInt && v.i >= 0) {
      out = static_cast<uint64_t>(v.i);
    } else if (v.kind == JValue::kDouble && v.d >= 0 && v.d == std::floor(v.d) && v.d < 1.8e19) {
      out = static_cast<uint64_t>(v.d);
    } else {
      return fail(path, "expected a non-negative integer");
    }
    return true;
  }

  bool number_keyword(const JValue& v, const std::string& path, std::optional<double>& out) {
    if (!v.is_number()) return fail(path, "expected a number");
    out = v.as_double();
    return true;
  }

  bool strings(const JValue& v, const std::string& path, std::vector<std::string>& out) {
    if (v.kind != JValue::kArray) return fail(path, "expected an array of strings");
    for (const JValue& s : v.arr) {
      if (s.kind != JValue::kString) return fail(path, "expected an array of strings");
      out.push_back(s.s);
    }
    return true;
  }

  // Marks the properties that are required names (see Node::required_in_properties).
  static void link_required(Node& n) {
    if (n.required.empty() || n.required.size() > 64) return;
    n.property_required.assign(n.properties.size(), 0);
    for (size_t r = 0; r < n.required.size(); ++r) {
      const int i = property_index(n, n.required[r]);
      if (i < 0 || n.property_required[static_cast<size_t>(i)] != 0) return;  // or repeated
      n.property_required[static_cast<size_t>(i)] = uint64_t{1} << r;
      n.required_all |= uint64_t{1} << r;
    }
    n.required_in_properties = true;
  }

  int regex(const std::string& pattern, const std::string& path) {
    RE2::Options options;
    options.set_log_errors(false);
    auto re = std::make_unique<RE2>(ecma_to_re2(pattern), options);
    if (!re->ok()) {
      fail(path, "bad regular expression \"" + pattern + "\": " + re->error());
      return -1;
    }
    impl_.regexes.push_back(std::move(re));
    // The fast path sees the pattern as written: it accepts no construct whose
    // meaning ecma_to_re2 changes.
    impl_.simple.push_back(SimplePattern::compile(pattern));
    return static_cast<int>(impl_.regexes.size() - 1);
  }

  bool schema_array(const JValue& v, const std::string& path, std::vector<int>& out) {
    if (v.kind != JValue::kArray || v.arr.empty()) {
      return fail(path, "expected a non-empty array of schemas");
    }
    for (size_t k = 0; k < v.arr.size(); ++k) {
      int sub = -1;
      if (!subschema(&v.arr[k], path + "/" + std::to_string(k), sub)) return false;
      out.push_back(sub);
    }
    return true;
  }

  bool fill(const JValue& v, Node& n) {
    if (v.kind == JValue::kBool) {
      n.boolean = v.b ? 1 : 0;
      return true;
    }
    if (v.kind != JValue::kObject) return fail(n.path, "expected a schema (object or boolean)");
    if (auto own = dynamic_anchors_.find(&v); own != dynamic_anchors_.end()) {
      for (const auto& [name, target] : own->second) {
        int sub = -1;
        if (!subschema(target, n.path, sub)) return false;
        n.dynamic_anchors.emplace_back(name, sub);
      }
    }
    if (auto res = resource_of_.find(&v); res != resource_of_.end()) {
      if (dynamic_anchors_.count(res->second)) {
        n.scope_resource = res->second == &v ? memo_.at(&v) : compile(res->second);
        if (n.scope_resource < 0) return false;
      }
    }
    for (const auto& [key, value] : v.obj) {
      std::string path = n.path;
      append_pointer_token(path, key);
      const std::string& k = key;
      if (k == "type") {
        n.has_type = true;
        auto add = [&](const JValue& t) {
          static constexpr std::pair<const char*, uint8_t> kTypes[] = {
              {"null", kTNull},
              {"boolean", kTBool},
              {"object", kTObject},
              {"array", kTArray},
              {"number", kTNumber | kTInteger},
              {"string", kTString},
              {"integer", kTInteger}};
          if (t.kind == JValue::kString) {
            for (auto [name, bit] : kTypes) {
              if (t.s == name) {
                n.types |= bit;
                return true;
              }
            }
          }
          return fail(path, "unknown type " + show(t));
        };
        if (value.kind == JValue::kArray) {
          for (const JValue& t : value.arr) {
            if (!add(t)) return false;
          }
        } else if (!add(value)) {
          return false;
        }
      } else if (k == "enum") {
        if (value.kind != JValue::kArray) return fail(path, "expected an array");
        n.enum_values = &value;
      } else if (k == "const") {
        n.const_value = &value;
      } else if (k == "default") {
        n.default_value = &value;
      } else if (k == "required") {
        if (!strings(value, path, n.required)) return false;
        for (size_t r = 0; r < n.required.size(); ++r) {
          n.required_table.add(n.required[r], static_cast<int>(r));
        }
      } else if (k == "properties") {
        if (value.kind != JValue::kObject) return fail(path, "expected an object of schemas");
        for (const auto& [name, s] : value.obj) {
          std::string p = path;
          append_pointer_token(p, name);
          int sub = -1;
          if (!subschema(&s, p, sub)) return false;
          n.properties.emplace_back(name, sub);
        }
        std::stable_sort(n.properties.begin(), n.properties.end(),
                         [](const auto& x, const auto& y) { return key_less(x.first, y.first); });
        n.property_index.build(n.properties);
      } else if (k == "patternProperties") {
        if (value.kind != JValue::kObject) return fail(path, "expected an object of schemas");
        for (const auto& [name, s] : value.obj) {
          std::string p = path;
          append_pointer_token(p, name);
          int re = regex(name, p);
          if (re < 0) return false;
          int sub = -1;
          if (!subschema(&s, p, sub)) return false;
          n.pattern_properties.emplace_back(re, sub);
        }
      } else if (k == "additionalProperties") {
        if (!subschema(&value, path, n.additional)) return false;
      } else if (k == "minimum") {
        if (!number_keyword(value, path, n.minimum)) return false;
      } else if (k == "maximum") {
        if (!number_keyword(value, path, n.maximum)) return false;
      } else if (k == "exclusiveMinimum") {
        if (!number_keyword(value, path, n.exclusive_minimum)) return false;
      } else if (k == "exclusiveMaximum") {
        if (!number_keyword(value, path, n.exclusive_maximum)) return false;
      } else if (k == "multipleOf") {
        if (!number_keyword(value, path, n.multiple_of)) return false;
        if (*n.multiple_of <= 0) return fail(path, "expected a number > 0");
      } else if (k == "minLength") {
        if (!uint_keyword(value, path, n.min_length)) return false;
      } else if (k == "maxLength") {
        if (!uint_keyword(value, path, n.max_length)) return false;
      } else if (k == "minItems") {
        if (!uint_keyword(value, path, n.min_items)) return false;
      } else if (k == "maxItems") {
        if (!uint_keyword(value, path, n.max_items)) return false;
      } else if (k == "minProperties") {
        if (!uint_keyword(value, path, n.min_properties)) return false;
      } else if (k == "maxProperties") {
        if (!uint_keyword(value, path, n.max_properties)) return false;
      } else if (k == "minContains") {
        if (!uint_keyword(value, path, n.min_contains)) return false;
      } else if (k == "maxContains") {
        if (!uint_keyword(value, path, n.max_contains)) return false;
      } else if (k == "pattern") {
        if (value.kind != JValue::kString) return fail(path, "expected a string");
        n.pattern = regex(value.s, path);
        if (n.pattern < 0) return false;
      } else if (k == "format") {
        if (value.kind != JValue::kString) return fail(path, "expected a string");
        n.format = value.s;
        n.format_check = find_format(value.s);
      } else if (k == "uniqueItems") {
        if (value.kind != JValue::kBool) return fail(path, "expected a boolean");
        n.unique_items = value.b;
      } else if (k == "prefixItems") {
        if (!schema_array(value, path, n.prefix_items)) return false;
      } else if (k == "items") {
        if (!subschema(&value, path, n.items)) return false;
      } else if (k == "contains") {
        if (!subschema(&value, path, n.contains)) return false;
      } else if (k == "allOf") {
        if (!schema_array(value, path, n.all_of)) return false;
      } else if (k == "anyOf") {
        if (!schema_array(value, path, n.any_of)) return false;
      } else if (k == "oneOf") {
        if (!schema_array(value, path, n.one_of)) return false;
      } else if (k == "not") {
        if (!subschema(&value, path, n.not_schema)) return false;
      } else if (k == "if") {
        if (!subschema(&value, path, n.if_schema)) return false;
      } else if (k == "then") {
        if (!subschema(&value, path, n.then_schema)) return false;
      } else if (k == "else") {
        if (!subschema(&value, path, n.else_schema)) return false;
      } else if (k == "dependentRequired") {
        if (value.kind != JValue::kObject) return fail(path, "expected an object");
        for (const auto& [name, deps] : value.obj) {
          std::string p = path;
          append_pointer_token(p, name);
          std::vector<std::string> list;
          if (!strings(deps, p, list)) return false;
          n.dependent_required.emplace_back(name, std::move(list));
        }
      } else if (k == "dependentSchemas") {
        if (value.kind != JValue::kObject) return fail(path, "expected an object of schemas");
        for (const auto& [name, s] : value.obj) {
          std::string p = path;
          append_pointer_token(p, name);
          int sub = -1;
          if (!subschema(&s, p, sub)) return false;
          n.dependent_schemas.emplace_back(name, sub);
        }
      } else if (k == "propertyNames") {
        if (!subschema(&value, path, n.property_names)) return false;
      } else if (k == "unevaluatedProperties") {
        if (!subschema(&value, path, n.unevaluated_properties)) return false;
      } else if (k == "unevaluatedItems") {
        if (!subschema(&value, path, n.unevaluated_items)) return false;
      } else if (k == "$ref" || k == "$dynamicRef") {
        if (value.kind != JValue::kString) return fail(path, "expected a string");
        const JValue* target = resolve_ref(value.s, v, path);
        if (target == nullptr) return false;
        int sub = -1;
        if (!subschema(target, path, sub)) return false;
        // A $dynamicRef whose initial target carries the same $dynamicAnchor is dynamic.
        size_t hash = value.s.find('#');
        std::string name = hash == std::string::npos ? std::string{} : value.s.substr(hash + 1);
        const JValue* anchor =
            target->kind == JValue::kObject ? target->get("$dynamicAnchor") : nullptr;
        if (k == "$dynamicRef" && !name.empty() && name[0] != '/' && anchor != nullptr &&
            anchor->kind == JValue::kString && anchor->s == name) {
          n.dynamic_ref = sub;
          n.dynamic_name = name;
        } else {
          n.refs.push_back(sub);
        }
      } else if (k == "$defs" || k == "definitions") {
        if (value.kind != JValue::kObject) return fail(path, "expected an object of schemas");
        for (const auto& [name, s] : value.obj) {
          std::string p = path;
          append_pointer_token(p, name);
          int sub = -1;
          if (!subschema(&s, p, sub)) return false;
        }
      }
      // Anything else ($id, $schema, $comment, title, default, unknown keywords) is ignored.
    }
    return true;
  }

  Schema::Impl& impl_;
  const SchemaOptions& opt_;
  std::string origin_;
  std::unordered_map<std::string, const JValue*> resources_;
  std::unordered_map<std::string, const JValue*> anchors_;
  std::unordered_map<const JValue*, std::string> base_of_;
  std::unordered_map<const JValue*, std::string> path_of_;
  std::unordered_map<const JValue*, int> memo_;
  std::unordered_map<const JValue*, const JValue*> resource_of_;
  std::unordered_map<const JValue*, std::vector<std::pair<std::string, const JValue*>>>
      dynamic_anchors_;
};

}  // namespace

Schema::Schema(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Schema::Schema(Schema&&) noexcept = default;
Schema& Schema::operator=(Schema&&) noexcept = default;
Schema::~Schema() = default;

size_t Schema::node_count() const { return impl_->nodes.size(); }

namespace {

// `label` names the schema in errors: the path as the user gave it, else the URI.
Result<std::unique_ptr<Schema::Impl>> compile_impl(std::string_view json,
                                                   const std::string& base_uri, std::string label,
                                                   const SchemaOptions& options) {
  auto impl = std::make_unique<Schema::Impl>();
  impl->formats = options.formats;
  if (label.empty()) label = base_uri.empty() ? std::string("schema") : base_uri;
  if (label.starts_with("file://")) label = label.substr(7);
  const std::string& origin = label;
  Compiler compiler(*impl, options, origin);
  compiler.base_uri_ = strip_fragment(base_uri);
  const JValue* root = compiler.add_document(json, compiler.base_uri_, origin);
  if (root == nullptr || !compiler.load_schema_dir()) return usage_error(compiler.error_);
  impl->root = compiler.compile(root);
  if (impl->root < 0) return usage_error(compiler.error_);
  impl->resolve_normalization();
  return impl;
}

}  // namespace

Result<Schema> Schema::compile_text(std::string_view json, const std::string& base_uri,
                                    const SchemaOptions& options) {
  auto impl = compile_impl(json, base_uri, {}, options);
  if (!impl) return std::unexpected(impl.error());
  return Schema(std::move(*impl));
}

Result<Schema> Schema::compile_file(const std::string& path, const SchemaOptions& options) {
  std::string text;
  if (!read_file_to(path, text)) return usage_error(path + ": cannot read schema file");
  std::error_code ec;
  auto abs = std::filesystem::absolute(path, ec).lexically_normal();
  auto impl = compile_impl(text, "file://" + (ec ? path : abs.string()), path, options);
  if (!impl) return std::unexpected(impl.error());
  return Schema(std::move(*impl));
}

namespace {

constexpr int kMaxNormalizeDepth = 64;

}  // namespace

uint8_t Schema::Impl::constraining_types(int ni, int depth) const {
  const Node& n = nodes[ni];
  if (n.has_type) return n.types;
  if (depth >= kMaxNormalizeDepth) return 0;
  for (int r : n.refs) {
    if (uint8_t t = constraining_types(r, depth + 1)) return t;
  }
  for (int a : n.all_of) {
    if (uint8_t t = constraining_types(a, depth + 1)) return t;
  }
  return 0;
}

const JValue* Schema::Impl::default_of(int ni, int depth) const {
  const Node& n = nodes[ni];
  if (n.default_value != nullptr || depth >= kMaxNormalizeDepth) return n.default_value;
  for (int r : n.refs) {
    if (const JValue* d = default_of(r, depth + 1)) return d;
  }
  return nullptr;
}

namespace {

// Would --coerce turn string `s` into a value of `types`? Numbers are written as
// spelled, so the string must be a JSON number that also fits where simdjson reads it
// (64-bit integers, finite doubles); otherwise the schema judges the string as it is.
bool coerces(uint8_t types, std::string_view s) {
  if (types == 0 || (types & kTString)) return false;
  bool integral = false;
  if ((types & (kTNumber | kTInteger)) && json::is_json_number(s, &integral) &&
      ((types & kTNumber) || integral)) {
    const char* end = s.data() + s.size();
    if (integral) {
      int64_t i = 0;
      uint64_t u = 0;
      return std::from_chars(s.data(), end, i).ec == std::errc() ||
             std::from_chars(s.data(), end, u).ec == std::errc();
    }
    double d = 0;
    auto r = std::from_chars(s.data(), end, d);
    return r.ec == std::errc() && std::isfinite(d);
  }
  return (types & kTBool) && (s == "true" || s == "false");
}

}  // namespace

void Schema::Impl::resolve_normalization() {
  for (size_t i = 0; i < nodes.size(); ++i) {
    Node& n = nodes[i];
    n.coerce_types = constraining_types(static_cast<int>(i), 0);
    if (const JValue* d = default_of(static_cast<int>(i), 0)) {
      n.has_default = true;
      append_jvalue(n.default_json, *d);
    }
  }
}

void Schema::Impl::normalize(int ni, simdjson::dom::element e, const NormalizeOptions& o,
                             json::Location& at, std::vector<json::Edit>& out, int hops) const {
  // `hops` counts $ref/allOf steps since the last step into the instance: a chain that
  // never moves on is a loop, cut here; nesting of the instance is bounded by simdjson.
  if (hops >= kMaxNormalizeDepth) return;
  const Node& n = nodes[static_cast<size_t>(ni)];
  if (n.boolean >= 0) return;
  for (int r : n.refs) normalize(r, e, o, at, out, hops + 1);
  for (int a : n.all_of) normalize(a, e, o, at, out, hops + 1);
  // One member or element: coerce it, or descend into it.
  auto child = [&](int sub, simdjson::dom::element v) {
    if (o.coerce && v.type() == simdjson::dom::element_type::STRING) {
      std::string_view s = v.get_string().value_unsafe();
      if (coerces(nodes[static_cast<size_t>(sub)].coerce_types, s)) {
        out.push_back({json::Edit::kReplace, at, {}, std::string(s)});
        return;
      }
    }
    normalize(sub, v, o, at, out, 0);
  };
  if (e.type() == simdjson::dom::element_type::OBJECT && !n.properties.empty()) {
    // One pass over the members, a property lookup each; then the defaults of the
    // properties that were not seen.
    const size_t np = n.properties.size();
    uint64_t seen_small = 0;
    std::vector<char> seen_big(np > 64 ? np : 0, 0);
    simdjson::dom::object obj = e.get_object().value_unsafe();  // not a temporary's member
    for (auto field : obj) {
      const int i = property_index(n, field.key);
      if (i < 0) continue;
      if (np > 64) {
        seen_big[static_cast<size_t>(i)] = 1;
      } else {
        seen_small |= uint64_t{1} << i;
      }
      at.push_back({std::string(field.key), 0, false});
      child(n.properties[static_cast<size_t>(i)].second, field.value);
      at.pop_back();
    }
    if (o.defaults) {
      for (size_t i = 0; i < np; ++i) {
        const bool seen = np > 64 ? seen_big[i] != 0 : ((seen_small >> i) & 1) != 0;
        const Node& sub = nodes[static_cast<size_t>(n.properties[i].second)];
        if (!seen && sub.has_default) {
          out.push_back({json::Edit::kAddMember, at, n.properties[i].first, sub.default_json});
        }
      }
    }
  } else if (e.type() == simdjson::dom::element_type::ARRAY) {
    size_t k = 0;
    simdjson::dom::array arr = e.get_array().value_unsafe();  // not a temporary's member
    for (simdjson::dom::element v : arr) {
      int sub = k < n.prefix_items.size() ? n.prefix_items[k] : n.items;
      if (sub >= 0) {
        at.push_back({{}, k, true});
        child(sub, v);
        at.pop_back();
      }
      ++k;
    }
  }
}

void Schema::plan_normalization(simdjson::dom::element instance, const NormalizeOptions& options,
                                std::vector<json::Edit>& out) const {
  json::Location at;
  impl_->normalize(impl_->root, instance, options, at, out, 0);
}

bool Schema::validate(simdjson::dom::element instance, std::vector<Violation>& out,
                      size_t max_errors) const {
  thread_local std::vector<PathToken> inst_path;
  thread_local std::vector<int> scope;
  inst_path.clear();
  scope.clear();
  const size_t bound = max_errors > SIZE_MAX - out.size() ? SIZE_MAX : out.size() + max_errors;
  Ctx c{&out, bound, &inst_path, &scope};
  // A quick verdict first (no paths, first failure stops); only an invalid instance is
  // evaluated again to report its violations.
  if (impl_->eval(impl_->root, instance, nullptr, c, false)) return true;
  if (max_errors == 0) return false;
  inst_path.clear();
  scope.clear();
  c.depth = 0;
  impl_->eval(impl_->root, instance, nullptr, c, true);
  return false;
}

}  // namespace ev::validate
