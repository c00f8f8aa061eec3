// Expr: the lexer, the parser (precedence climbing into a flat node array), constant
// folding and the evaluator. Frame's field reading is in frame.cpp.
#include "libcore/expr/expr.h"

#include <re2/re2.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <optional>

#include "libcore/json/json_writer.h"
#include "libcore/time/duration.h"

namespace ev::expr {

namespace {

bool is_ident_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '$';
}
bool is_ident_char(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }
bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_keyword(std::string_view s) {
  return s == "and" || s == "or" || s == "not" || s == "in" || s == "true" || s == "false" ||
         s == "null";
}

enum class Op : uint8_t {
  kLit,
  kField,
  kVar,
  kArray,
  kNeg,
  kNot,
  kAnd,
  kOr,
  kAdd,
  kSub,
  kMul,
  kDiv,
  kMod,
  kEq,
  kNe,
  kLt,
  kLe,
  kGt,
  kGe,
  kIn,
  kNotIn,
  kCall,
};

enum class Fn : uint8_t {
  kNone,
  kIf,
  kCoalesce,
  kLower,
  kUpper,
  kLen,
  kContains,
  kStartsWith,
  kEndsWith,
  kMatches,
  kSubstr,
  kStr,
  kNumber,
  kAbs,
  kMin,
  kMax,
  kRound,
  kFloor,
  kCeil,
  kLog,
  kExp,
  kSqrt,
  kPow,
  kTime,
  kHour,
  kMinute,
  kDow,
  kDate,
  kNow,
  kIsNull,
  kIsNumber,
  kIsString,
  kIsBool,
  kIsArray,
  kIsObject,
  kIsTime,
  kExists,
};

struct FnInfo {
  std::string_view name;
  Fn fn;
  int min_args;
  int max_args;  // -1: any number
};

constexpr FnInfo kFunctions[] = {
    {"if", Fn::kIf, 3, 3},
    {"coalesce", Fn::kCoalesce, 1, -1},
    {"lower", Fn::kLower, 1, 1},
    {"upper", Fn::kUpper, 1, 1},
    {"len", Fn::kLen, 1, 1},
    {"contains", Fn::kContains, 2, 2},
    {"starts_with", Fn::kStartsWith, 2, 2},
    {"ends_with", Fn::kEndsWith, 2, 2},
    {"matches", Fn::kMatches, 2, 2},
    {"substr", Fn::kSubstr, 2, 3},
    {"str", Fn::kStr, 1, 1},
    {"number", Fn::kNumber, 1, 1},
    {"abs", Fn::kAbs, 1, 1},
    {"min", Fn::kMin, 1, -1},
    {"max", Fn::kMax, 1, -1},
    {"round", Fn::kRound, 1, 2},
    {"floor", Fn::kFloor, 1, 1},
    {"ceil", Fn::kCeil, 1, 1},
    {"log", Fn::kLog, 1, 1},
    {"exp", Fn::kExp, 1, 1},
    {"sqrt", Fn::kSqrt, 1, 1},
    {"pow", Fn::kPow, 2, 2},
    {"time", Fn::kTime, 1, 1},
    {"hour", Fn::kHour, 1, 1},
    {"minute", Fn::kMinute, 1, 1},
    {"dow", Fn::kDow, 1, 1},
    {"date", Fn::kDate, 1, 1},
    {"now", Fn::kNow, 0, 0},
    {"is_null", Fn::kIsNull, 1, 1},
    {"is_number", Fn::kIsNumber, 1, 1},
    {"is_string", Fn::kIsString, 1, 1},
    {"is_bool", Fn::kIsBool, 1, 1},
    {"is_array", Fn::kIsArray, 1, 1},
    {"is_object", Fn::kIsObject, 1, 1},
    {"is_time", Fn::kIsTime, 1, 1},
    {"exists", Fn::kExists, 1, 1},
};

const FnInfo* find_function(std::string_view name) {
  for (const FnInfo& f : kFunctions) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

std::string_view op_text(Op op) {
  switch (op) {
    case Op::kAdd:
      return "+";
    case Op::kSub:
      return "-";
    case Op::kMul:
      return "*";
    case Op::kDiv:
      return "/";
    case Op::kMod:
      return "%";
    case Op::kEq:
      return "==";
    case Op::kNe:
      return "!=";
    case Op::kLt:
      return "<";
    case Op::kLe:
      return "<=";
    case Op::kGt:
      return ">";
    case Op::kGe:
      return ">=";
    case Op::kAnd:
      return "and";
    case Op::kOr:
      return "or";
    case Op::kNot:
      return "not";
    case Op::kNeg:
      return "-";
    case Op::kIn:
      return "in";
    case Op::kNotIn:
      return "not in";
    default:
      return "?";
  }
}

// A finite number, or null.
Value finite(double v) { return std::isfinite(v) ? Value::number(v) : Value::null(); }

// Code points in valid UTF-8.
size_t utf8_length(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}
// The byte offset of code point `cp` (clamped to the end).
size_t utf8_offset(std::string_view s, size_t cp) {
  size_t i = 0;
  while (i < s.size() && cp > 0) {
    ++i;
    while (i < s.size() && (static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) ++i;
    --cp;
  }
  return i;
}

}  // namespace

struct Expr::Impl {
  struct Node {
    Op op = Op::kLit;
    Fn fn = Fn::kNone;
    uint32_t col = 0;  // 1-based
    uint32_t a = 0, b = 0;
    uint32_t args = 0, nargs = 0;  // into arg_pool
    uint32_t slot = 0;
    int re = -1;
    Value lit;
  };

  std::string text;
  std::string label;
  std::vector<Node> nodes;
  std::vector<uint32_t> arg_pool;
  std::vector<std::unique_ptr<RE2>> regexes;
  std::vector<std::unique_ptr<std::string>> strings;        // literal string storage
  std::vector<std::unique_ptr<std::vector<Value>>> arrays;  // literal array storage
  uint32_t root = 0;
  bool constant = true;

  bool eval(uint32_t i, Frame& f, Value& out) const;
  // Node i's value without copying a leaf (a literal, variable or field): a pointer
  // to it, or to `tmp` holding a computed value; null on an error.
  const Value* operand(uint32_t i, Frame& f, Value& tmp) const {
    const Node& n = nodes[i];
    switch (n.op) {
      case Op::kLit:
        return &n.lit;
      case Op::kVar:
        return &f.variable(n.slot);
      case Op::kField:
        return f.field_ptr(n.slot);
      default:
        return eval(i, f, tmp) ? &tmp : nullptr;
    }
  }
  bool call(const Node& n, Frame& f, Value& out) const;
  bool type_error(const Node& n, Frame& f, std::string message) const {
    return f.fail(label + ", column " + std::to_string(n.col) + ": " + message);
  }
  bool compare(const Node& n, Frame& f, const Value& x, const Value& y, int& cmp) const;
  bool arg_string(const Node& n, Frame& f, uint32_t k, Value& out, bool& null) const;
  bool arg_number(const Node& n, Frame& f, uint32_t k, Value& out, bool& null) const;
  bool arg_time(const Node& n, Frame& f, uint32_t k, Value& out, bool& null) const;
  bool member(const Node& n, Frame& f, const Value& x, const Value& list, Value& out) const;
  uint32_t arg(const Node& n, uint32_t k) const { return arg_pool[n.args + k]; }
  Value keep(const Value& v);  // copies a folded value into the expression's storage
};

// ---------------------------------------------------------------- values

namespace {

bool equal(Frame& f, const Value& x, const Value& y);

// Walks a raw JSON array (a field's text) with the frame's second parser.
template <class Fn>
bool for_each_raw(Frame& f, std::string_view raw, Fn&& fn) {
  auto& parser = f.sub_parser();
  simdjson::ondemand::document doc;
  if (parser.iterate(raw.data(), raw.size(), raw.size() + simdjson::SIMDJSON_PADDING).get(doc)) {
    return false;
  }
  simdjson::ondemand::array arr;
  if (doc.get_array().get(arr)) return false;
  for (auto element : arr) {
    simdjson::ondemand::value v;
    if (element.get(v)) return false;
    Value x;
    simdjson::ondemand::json_type type;
    if (v.type().get(type)) return false;
    switch (type) {
      case simdjson::ondemand::json_type::number: {
        double d;
        if (v.get_double().get(d)) return false;
        x = Value::number(d);
        break;
      }
      case simdjson::ondemand::json_type::string: {
        std::string_view s;
        if (v.get_string().get(s)) return false;
        x = Value::string(f.arena().copy(s));
        break;
      }
      case simdjson::ondemand::json_type::boolean: {
        bool b;
        if (v.get_bool().get(b)) return false;
        x = Value::boolean(b);
        break;
      }
      case simdjson::ondemand::json_type::null:
        break;
      default: {
        auto r = json::raw_text(v);
        if (!r) return false;
        x = Value::raw(type == simdjson::ondemand::json_type::array ? Type::kArray : Type::kObject,
                       *r);
      }
    }
    if (!fn(x)) break;
  }
  return true;
}

bool equal(Frame& f, const Value& x, const Value& y) {
  if (x.type != y.type) return false;
  switch (x.type) {
    case Type::kNull:
      return true;
    case Type::kBool:
      return x.b == y.b;
    case Type::kNumber:
      return x.n == y.n;
    case Type::kString:
      return x.s == y.s;
    case Type::kTime:
      return x.t == y.t;
    case Type::kObject:
      return x.s == y.s;
    case Type::kArray:
      if (x.items || x.s.empty()) {
        if (y.items || y.s.empty()) {
          if (x.count != y.count) return false;
          for (uint32_t i = 0; i < x.count; ++i) {
            if (!equal(f, x.items[i], y.items[i])) return false;
          }
          return true;
        }
        std::string text;  // rare: a computed array against a field's array
        append_json(text, x);
        return text == y.s;
      }
      if (y.items || y.s.empty()) return equal(f, y, x);
      return x.s == y.s;
  }
  return false;
}

}  // namespace

bool Expr::Impl::compare(const Node& n, Frame& f, const Value& x0, const Value& y0,
                         int& cmp) const {
  Value x = x0, y = y0;
  // A string meets a time: read the string as a time (ts > "2024-05-01T00:00:00Z").
  if (x.type == Type::kTime && y.type == Type::kString) {
    auto t = time::parse_time_text(y.s, f.scope_options().time_unit);
    if (!t) return type_error(n, f, "not a time: \"" + std::string(y.s) + "\"");
    y = Value::time(*t);
  } else if (x.type == Type::kString && y.type == Type::kTime) {
    auto t = time::parse_time_text(x.s, f.scope_options().time_unit);
    if (!t) return type_error(n, f, "not a time: \"" + std::string(x.s) + "\"");
    x = Value::time(*t);
  }
  if (x.type != y.type ||
      (x.type != Type::kNumber && x.type != Type::kString && x.type != Type::kTime)) {
    return type_error(n, f,
                      (n.op == Op::kCall ? std::string(n.fn == Fn::kMin ? "min()" : "max()")
                                         : "'" + std::string(op_text(n.op)) + "'") +
                          " cannot compare " + std::string(type_name(x.type)) + " and " +
                          std::string(type_name(y.type)));
  }
  switch (x.type) {
    case Type::kNumber:
      cmp = x.n < y.n ? -1 : (x.n > y.n ? 1 : 0);
      break;
    case Type::kString:
      cmp = x.s.compare(y.s);
      break;
    default:
      cmp = x.t < y.t ? -1 : (x.t > y.t ? 1 : 0);
      break;
  }
  return true;
}

bool Expr::Impl::member(const Node& n, Frame& f, const Value& x, const Value& list,
                        Value& out) const {
  if (list.is_null() || x.is_null()) {
    out = Value::null();
    return true;
  }
  if (list.type != Type::kArray) {
    return type_error(n, f,
                      "'in' needs an array on its right, got " + std::string(type_name(list.type)));
  }
  bool found = false;
  if (list.items || list.s.empty()) {
    for (uint32_t i = 0; i < list.count && !found; ++i) found = equal(f, x, list.items[i]);
  } else if (!for_each_raw(f, list.s, [&](const Value& e) { return !(found = equal(f, x, e)); })) {
    return type_error(n, f, "invalid JSON array");
  }
  out = Value::boolean(n.op == Op::kIn ? found : !found);
  return true;
}

bool Expr::Impl::arg_string(const Node& n, Frame& f, uint32_t k, Value& out, bool& null) const {
  const Value* p = operand(arg(n, k), f, out);
  if (!p) return false;
  if (p != &out) out = *p;
  null = out.is_null();
  if (null || out.type == Type::kString) return true;
  return type_error(n, f,
                    "argument " + std::to_string(k + 1) + " must be a string, got " +
                        std::string(type_name(out.type)));
}

bool Expr::Impl::arg_number(const Node& n, Frame& f, uint32_t k, Value& out, bool& null) const {
  const Value* p = operand(arg(n, k), f, out);
  if (!p) return false;
  if (p != &out) out = *p;
  null = out.is_null();
  if (null || out.type == Type::kNumber) return true;
  return type_error(n, f,
                    "argument " + std::to_string(k + 1) + " must be a number, got " +
                        std::string(type_name(out.type)));
}

bool Expr::Impl::arg_time(const Node& n, Frame& f, uint32_t k, Value& out, bool& null) const {
  const Value* p = operand(arg(n, k), f, out);
  if (!p) return false;
  if (p != &out) out = *p;
  null = out.is_null();
  if (null || out.type == Type::kTime) return true;
  if (out.type == Type::kString || out.type == Type::kNumber) {
    auto t = out.type == Type::kString ? time::parse_time_text(out.s, f.scope_options().time_unit)
                                       : time::from_epoch(out.n, f.scope_options().time_unit);
    null = !t;
    out = t ? Value::time(*t) : Value::null();
    return true;
  }
  return type_error(n, f,
                    "argument " + std::to_string(k + 1) + " must be a time, got " +
                        std::string(type_name(out.type)));
}

bool Expr::Impl::eval(uint32_t i, Frame& f, Value& out) const {
  const Node& n = nodes[i];
  switch (n.op) {
    case Op::kLit:
      out = n.lit;
      return true;
    case Op::kField:
      return f.field(n.slot, out);
    case Op::kVar:
      out = f.variable(n.slot);
      return true;
    case Op::kArray: {
      Value* items = f.arena().values(n.nargs);
      for (uint32_t k = 0; k < n.nargs; ++k) {
        if (!eval(arg(n, k), f, items[k])) return false;
      }
      out = Value::array(items, n.nargs);
      return true;
    }
    case Op::kNeg: {
      if (!eval(n.a, f, out)) return false;
      if (out.is_null()) return true;
      if (out.type != Type::kNumber) {
        return type_error(n, f, "'-' needs a number, got " + std::string(type_name(out.type)));
      }
      out.n = -out.n;
      return true;
    }
    case Op::kNot: {
      if (!eval(n.a, f, out)) return false;
      if (out.is_null()) return true;
      if (out.type != Type::kBool) {
        return type_error(n, f, "'not' needs a boolean, got " + std::string(type_name(out.type)));
      }
      out.b = !out.b;
      return true;
    }
    case Op::kAnd:
    case Op::kOr: {
      const bool is_and = n.op == Op::kAnd;
      Value tx, ty;
      const Value* px = operand(n.a, f, tx);
      if (!px) return false;
      const Value& x = *px;
      if (!x.is_null() && x.type != Type::kBool) {
        return type_error(n, f,
                          "'" + std::string(op_text(n.op)) + "' needs booleans, got " +
                              std::string(type_name(x.type)));
      }
      if (x.type == Type::kBool && x.b != is_and) {  // false and _, true or _
        out = x;
        return true;
      }
      const Value* py = operand(n.b, f, ty);
      if (!py) return false;
      const Value& y = *py;
      if (!y.is_null() && y.type != Type::kBool) {
        return type_error(n, f,
                          "'" + std::string(op_text(n.op)) + "' needs booleans, got " +
                              std::string(type_name(y.type)));
      }
      if (y.type == Type::kBool && y.b != is_and) {
        out = y;
      } else if (x.is_null() || y.is_null()) {
        out = Value::null();
      } else {
        out = Value::boolean(is_and);
      }
      return true;
    }
    case Op::kIn:
    case Op::kNotIn: {
      Value tx;
      const Value* px = operand(n.a, f, tx);
      if (!px) return false;
      const Value& x = *px;
      const Node& list = nodes[n.b];
      if (list.op == Op::kArray) {  // evaluated element by element, nothing materialized
        if (x.is_null()) {
          out = Value::null();
          return true;
        }
        bool found = false;
        for (uint32_t k = 0; k < list.nargs && !found; ++k) {
          Value e;
          if (!eval(arg(list, k), f, e)) return false;
          found = equal(f, x, e);
        }
        out = Value::boolean(n.op == Op::kIn ? found : !found);
        return true;
      }
      Value y;
      if (!eval(n.b, f, y)) return false;
      return member(n, f, x, y, out);
    }
    case Op::kCall:
      return call(n, f, out);
    default:
      break;
  }
  // Binary operators.
  Value tx, ty;
  const Value* px = operand(n.a, f, tx);
  if (!px) return false;
  const Value* py = operand(n.b, f, ty);
  if (!py) return false;
  const Value& x = *px;
  const Value& y = *py;
  switch (n.op) {
    case Op::kEq:
    case Op::kNe: {
      bool eq;
      int cmp = 0;
      if ((x.type == Type::kTime && y.type == Type::kString) ||
          (x.type == Type::kString && y.type == Type::kTime)) {
        if (!compare(n, f, x, y, cmp)) return false;
        eq = cmp == 0;
      } else {
        eq = equal(f, x, y);
      }
      out = Value::boolean(n.op == Op::kEq ? eq : !eq);
      return true;
    }
    case Op::kLt:
    case Op::kLe:
    case Op::kGt:
    case Op::kGe: {
      if (x.is_null() || y.is_null()) {
        out = Value::null();
        return true;
      }
      int cmp = 0;
      if (!compare(n, f, x, y, cmp)) return false;
      bool r = n.op == Op::kLt   ? cmp < 0
               : n.op == Op::kLe ? cmp <= 0
               : n.op == Op::kGt ? cmp > 0
                                 : cmp >= 0;
      out = Value::boolean(r);
      return true;
    }
    default:
      break;
  }
  if (x.is_null() || y.is_null()) {
    out = Value::null();
    return true;
  }
  if (x.type == Type::kNumber && y.type == Type::kNumber) {
    switch (n.op) {
      case Op::kAdd:
        out = finite(x.n + y.n);
        return true;
      case Op::kSub:
        out = finite(x.n - y.n);
        return true;
      case Op::kMul:
        out = finite(x.n * y.n);
        return true;
      case Op::kDiv:
        out = y.n == 0 ? Value::null() : finite(x.n / y.n);
        return true;
      case Op::kMod:
        out = y.n == 0 ? Value::null() : finite(std::fmod(x.n, y.n));
        return true;
      default:
        break;
    }
  }
  if (n.op == Op::kAdd && x.type == Type::kString && y.type == Type::kString) {
    char* p = f.arena().alloc(x.s.size() + y.s.size());
    std::memcpy(p, x.s.data(), x.s.size());
    std::memcpy(p + x.s.size(), y.s.data(), y.s.size());
    out = Value::string({p, x.s.size() + y.s.size()});
    return true;
  }
  auto seconds = [](double s) { return static_cast<int64_t>(std::llround(s * 1e9)); };
  if (n.op == Op::kAdd && x.type == Type::kTime && y.type == Type::kNumber) {
    out = Value::time(x.t + seconds(y.n));
    return true;
  }
  if (n.op == Op::kAdd && x.type == Type::kNumber && y.type == Type::kTime) {
    out = Value::time(y.t + seconds(x.n));
    return true;
  }
  if (n.op == Op::kSub && x.type == Type::kTime && y.type == Type::kNumber) {
    out = Value::time(x.t - seconds(y.n));
    return true;
  }
  if (n.op == Op::kSub && x.type == Type::kTime && y.type == Type::kTime) {
    out = Value::number(static_cast<double>(x.t - y.t) / 1e9);
    return true;
  }
  return type_error(n, f,
                    "'" + std::string(op_text(n.op)) + "' needs numbers" +
                        (n.op == Op::kAdd ? std::string(" or strings") : std::string()) + ", got " +
                        std::string(type_name(x.type)) + " and " + std::string(type_name(y.type)));
}

bool Expr::Impl::call(const Node& n, Frame& f, Value& out) const {
  bool null = false;
  Value x, y;
  auto number1 = [&](auto fn) {
    if (!arg_number(n, f, 0, x, null)) return false;
    out = null ? Value::null() : finite(fn(x.n));
    return true;
  };
  switch (n.fn) {
    case Fn::kIf: {
      if (!eval(arg(n, 0), f, x)) return false;
      if (!x.is_null() && x.type != Type::kBool) {
        return type_error(n, f,
                          "if() needs a boolean condition, got " + std::string(type_name(x.type)));
      }
      return eval(arg(n, x.is_true() ? 1 : 2), f, out);
    }
    case Fn::kCoalesce:
      for (uint32_t k = 0; k < n.nargs; ++k) {
        if (!eval(arg(n, k), f, out)) return false;
        if (!out.is_null()) return true;
      }
      return true;
    case Fn::kLower:
    case Fn::kUpper: {
      if (!arg_string(n, f, 0, x, null)) return false;
      if (null) {
        out = x;
        return true;
      }
      char* p = f.arena().alloc(x.s.size());
      for (size_t k = 0; k < x.s.size(); ++k) {
        char c = x.s[k];
        if (n.fn == Fn::kLower && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
        if (n.fn == Fn::kUpper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
        p[k] = c;
      }
      out = Value::string({p, x.s.size()});
      return true;
    }
    case Fn::kLen: {
      if (!eval(arg(n, 0), f, x)) return false;
      switch (x.type) {
        case Type::kNull:
          out = x;
          return true;
        case Type::kString:
          out = Value::number(static_cast<double>(utf8_length(x.s)));
          return true;
        case Type::kArray:
          if (x.items || x.s.empty()) {
            out = Value::number(x.count);
            return true;
          } else {
            double count = 0;
            if (!for_each_raw(f, x.s, [&](const Value&) { return ++count, true; })) {
              return type_error(n, f, "invalid JSON array");
            }
            out = Value::number(count);
            return true;
          }
        case Type::kObject: {
          auto& parser = f.sub_parser();
          simdjson::ondemand::document doc;
          size_t count = 0;
          if (parser.iterate(x.s.data(), x.s.size(), x.s.size() + simdjson::SIMDJSON_PADDING)
                  .get(doc) ||
              doc.count_fields().get(count)) {
            return type_error(n, f, "invalid JSON object");
          }
          out = Value::number(static_cast<double>(count));
          return true;
        }
        default:
          return type_error(
              n, f, "len() needs a string, array or object, got " + std::string(type_name(x.type)));
      }
    }
    case Fn::kContains:
    case Fn::kStartsWith:
    case Fn::kEndsWith: {
      bool null2 = false;
      if (!arg_string(n, f, 0, x, null) || !arg_string(n, f, 1, y, null2)) return false;
      if (null || null2) {
        out = Value::null();
        return true;
      }
      bool r = n.fn == Fn::kContains     ? x.s.find(y.s) != std::string_view::npos
               : n.fn == Fn::kStartsWith ? x.s.starts_with(y.s)
                                         : x.s.ends_with(y.s);
      out = Value::boolean(r);
      return true;
    }
    case Fn::kMatches: {
      if (!arg_string(n, f, 0, x, null)) return false;
      out = null ? Value::null()
                 : Value::boolean(
                       RE2::PartialMatch(re2::StringPiece(x.s.data(), x.s.size()), *regexes[n.re]));
      return true;
    }
    case Fn::kSubstr: {
      bool null2 = false, null3 = false;
      if (!arg_string(n, f, 0, x, null) || !arg_number(n, f, 1, y, null2)) return false;
      Value len;
      if (n.nargs == 3 && !arg_number(n, f, 2, len, null3)) return false;
      if (null || null2 || null3) {
        out = Value::null();
        return true;
      }
      const double total = static_cast<double>(utf8_length(x.s));
      double start = std::trunc(y.n);
      if (start < 0) start = std::max(0.0, total + start);
      start = std::min(start, total);
      double count = n.nargs == 3 ? std::max(0.0, std::trunc(len.n)) : total - start;
      count = std::min(count, total - start);
      const size_t b = utf8_offset(x.s, static_cast<size_t>(start));
      const size_t e = b + utf8_offset(x.s.substr(b), static_cast<size_t>(count));
      out = Value::string(x.s.substr(b, e - b));
      return true;
    }
    case Fn::kStr: {
      if (!eval(arg(n, 0), f, x)) return false;
      if (x.is_null() || x.type == Type::kString) {
        out = x;
        return true;
      }
      std::string rendered;  // short: numbers, booleans, times (containers are raw already)
      append_text(rendered, x);
      out = Value::string(f.arena().copy(rendered));
      return true;
    }
    case Fn::kNumber: {
      if (!eval(arg(n, 0), f, x)) return false;
      switch (x.type) {
        case Type::kNumber:
          out = x;
          return true;
        case Type::kBool:
          out = Value::number(x.b ? 1 : 0);
          return true;
        case Type::kTime:
          out = Value::number(static_cast<double>(x.t) / 1e9);
          return true;
        case Type::kString: {
          double d = 0;
          std::string_view s = x.s;
          auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
          out = ec == std::errc() && p == s.data() + s.size() && !s.empty() ? finite(d)
                                                                            : Value::null();
          return true;
        }
        default:
          out = Value::null();
          return true;
      }
    }
    case Fn::kAbs:
      return number1([](double v) { return std::fabs(v); });
    case Fn::kFloor:
      return number1([](double v) { return std::floor(v); });
    case Fn::kCeil:
      return number1([](double v) { return std::ceil(v); });
    case Fn::kLog:
      return number1([](double v) { return std::log(v); });
    case Fn::kExp:
      return number1([](double v) { return std::exp(v); });
    case Fn::kSqrt:
      return number1([](double v) { return std::sqrt(v); });
    case Fn::kRound: {
      bool null2 = false;
      if (!arg_number(n, f, 0, x, null)) return false;
      if (n.nargs == 2 && !arg_number(n, f, 1, y, null2)) return false;
      if (null || null2) {
        out = Value::null();
        return true;
      }
      if (n.nargs == 1 || y.n == 0) {
        out = finite(std::round(x.n));
      } else {
        const double scale = std::pow(10.0, std::trunc(y.n));
        out = finite(std::round(x.n * scale) / scale);
      }
      return true;
    }
    case Fn::kPow: {
      bool null2 = false;
      if (!arg_number(n, f, 0, x, null) || !arg_number(n, f, 1, y, null2)) return false;
      out = null || null2 ? Value::null() : finite(std::pow(x.n, y.n));
      return true;
    }
    case Fn::kMin:
    case Fn::kMax: {
      out = Value::null();
      for (uint32_t k = 0; k < n.nargs; ++k) {
        if (!eval(arg(n, k), f, x)) return false;
        if (x.is_null()) continue;
        if (x.type != Type::kNumber && x.type != Type::kTime && x.type != Type::kString) {
          return type_error(n, f,
                            std::string(n.fn == Fn::kMin ? "min" : "max") +
                                "() needs numbers, times or strings, got " +
                                std::string(type_name(x.type)));
        }
        // Times and strings meet as times: the result is a time.
        if (x.type == Type::kString && out.type == Type::kTime) {
          auto t = time::parse_time_text(x.s, f.scope_options().time_unit);
          if (!t) return type_error(n, f, "not a time: \"" + std::string(x.s) + "\"");
          x = Value::time(*t);
        }
        if (x.type == Type::kTime && out.type == Type::kString) {
          auto t = time::parse_time_text(out.s, f.scope_options().time_unit);
          if (!t) return type_error(n, f, "not a time: \"" + std::string(out.s) + "\"");
          out = Value::time(*t);
        }
        if (out.is_null()) {
          out = x;
          continue;
        }
        int cmp = 0;
        if (!compare(n, f, x, out, cmp)) return false;
        if (n.fn == Fn::kMin ? cmp < 0 : cmp > 0) out = x;
      }
      return true;
    }
    case Fn::kTime:
      if (!arg_time(n, f, 0, out, null)) return false;
      return true;
    case Fn::kHour:
    case Fn::kMinute:
    case Fn::kDow:
    case Fn::kDate: {
      if (!arg_time(n, f, 0, x, null)) return false;
      if (null) {
        out = Value::null();
        return true;
      }
      constexpr int64_t kDay = 86'400 * time::kNsPerSec;
      int64_t days = x.t / kDay, rem = x.t % kDay;
      if (rem < 0) {
        rem += kDay;
        --days;
      }
      const int64_t sec = rem / time::kNsPerSec;
      switch (n.fn) {
        case Fn::kHour:
          out = Value::number(static_cast<double>(sec / 3600));
          return true;
        case Fn::kMinute:
          out = Value::number(static_cast<double>(sec / 60 % 60));
          return true;
        case Fn::kDow:
          out = Value::number(static_cast<double>(((days % 7) + 11) % 7));
          return true;
        default: {
          int64_t yy;
          unsigned mm, dd;
          time::civil_from_days(days, yy, mm, dd);
          char buf[32];
          int len = std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(yy),
                                  mm, dd);
          out = Value::string(f.arena().copy({buf, static_cast<size_t>(len)}));
          return true;
        }
      }
    }
    case Fn::kNow:
      out = Value::time(f.now());
      return true;
    case Fn::kIsNull:
    case Fn::kIsNumber:
    case Fn::kIsString:
    case Fn::kIsBool:
    case Fn::kIsArray:
    case Fn::kIsObject:
    case Fn::kIsTime: {
      if (!eval(arg(n, 0), f, x)) return false;
      static constexpr Type kTypes[] = {Type::kNull,  Type::kNumber, Type::kString, Type::kBool,
                                        Type::kArray, Type::kObject, Type::kTime};
      out =
          Value::boolean(x.type == kTypes[static_cast<int>(n.fn) - static_cast<int>(Fn::kIsNull)]);
      return true;
    }
    case Fn::kExists: {
      const Node& p = nodes[arg(n, 0)];
      if (p.op == Op::kVar) {
        out = Value::boolean(!f.variable(p.slot).is_null());
        return true;
      }
      if (!f.field(p.slot, x)) return false;
      out = Value::boolean(f.present(p.slot));
      return true;
    }
    case Fn::kNone:
      break;
  }
  return type_error(n, f, "unknown function");
}

Value Expr::Impl::keep(const Value& v) {
  Value r = v;
  if (v.type == Type::kString || v.type == Type::kObject || (v.type == Type::kArray && !v.items)) {
    strings.push_back(std::make_unique<std::string>(v.s));
    r.s = *strings.back();
  } else if (v.type == Type::kArray) {
    auto items = std::make_unique<std::vector<Value>>();
    for (uint32_t i = 0; i < v.count; ++i) items->push_back(keep(v.items[i]));
    r.items = items->data();
    arrays.push_back(std::move(items));
  }
  return r;
}

// ---------------------------------------------------------------- the parser

namespace {

struct Token {
  enum Kind {
    kEnd,
    kNumber,
    kString,
    kName,
    kPath,
    kOp,
    kLParen,
    kRParen,
    kLBracket,
    kRBracket,
    kComma
  };
  Kind kind = kEnd;
  size_t pos = 0;  // byte offset in the text
  std::string_view text;
  std::string value;  // strings: unescaped; paths: field path text
  double number = 0;
};

}  // namespace

class Parser {
 public:
  Parser(std::string_view text, Scope& scope, Expr::Impl& out)
      : text_(text), scope_(scope), out_(out) {}

  Status parse() {
    if (auto st = next(); !st) return st;
    auto root = parse_or();
    if (!root) return std::unexpected(root.error());
    if (tok_.kind != Token::kEnd)
      return error(tok_.pos, "unexpected '" + std::string(tok_.text) + "'");
    out_.root = *root;
    return {};
  }

 private:
  using Index = Result<uint32_t>;
  using Node = Expr::Impl::Node;

  std::unexpected<Error> error(size_t pos, const std::string& message) {
    std::string caret(pos + 2, ' ');
    caret += '^';
    return usage_error(out_.label + ": column " + std::to_string(pos + 1) + ": " + message +
                       "\n  " + std::string(text_) + "\n" + caret);
  }

  Status next() {
    size_t i = pos_;
    while (i < text_.size() &&
           (text_[i] == ' ' || text_[i] == '\t' || text_[i] == '\n' || text_[i] == '\r')) {
      ++i;
    }
    tok_ = Token{};
    tok_.pos = i;
    if (i >= text_.size()) {
      pos_ = i;
      return {};
    }
    const char c = text_[i];
    size_t j = i + 1;
    if (is_digit(c) || (c == '.' && i + 1 < text_.size() && is_digit(text_[i + 1]))) {
      j = i;
      while (j < text_.size() && (is_digit(text_[j]) || text_[j] == '.')) ++j;
      if (j < text_.size() && (text_[j] == 'e' || text_[j] == 'E') && j + 1 < text_.size() &&
          (is_digit(text_[j + 1]) || ((text_[j + 1] == '+' || text_[j + 1] == '-') &&
                                      j + 2 < text_.size() && is_digit(text_[j + 2])))) {
        j += 2;
        while (j < text_.size() && is_digit(text_[j])) ++j;
      }
      if (j < text_.size() && is_ident_start(text_[j])) {  // a duration: 5m, 1h30m, 250ms
        while (j < text_.size() && (is_ident_char(text_[j]) || text_[j] == '.')) ++j;
        auto d = time::parse_duration(text_.substr(i, j - i));
        if (!d)
          return error(i,
                       "invalid number or duration '" + std::string(text_.substr(i, j - i)) + "'");
        tok_.number = static_cast<double>(*d) / 1e9;
      } else {
        auto [p, ec] = std::from_chars(text_.data() + i, text_.data() + j, tok_.number);
        if (ec != std::errc() || p != text_.data() + j) {
          return error(i, "invalid number '" + std::string(text_.substr(i, j - i)) + "'");
        }
      }
      tok_.kind = Token::kNumber;
    } else if (c == '"' || c == '\'') {
      j = i + 1;
      std::string raw = "\"";
      for (;;) {
        if (j >= text_.size()) return error(i, "unterminated string");
        char d = text_[j];
        if (d == c) break;
        if (d == '\\') {
          if (j + 1 >= text_.size()) return error(i, "unterminated string");
          if (text_[j + 1] == '\'') {
            raw += '\'';
          } else {
            raw += d;
            raw += text_[j + 1];
          }
          j += 2;
          continue;
        }
        if (d == '"') raw += '\\';
        raw += d;
        ++j;
      }
      ++j;
      raw += '"';
      // JSON's escapes (json_writer.h).
      size_t at = 0;
      tok_.value.clear();
      if (auto why = json::decode_json_string(raw, at, tok_.value); !why.empty()) {
        return error(i, "invalid string literal: " + std::string(why) +
                            " (JSON escapes: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)");
      }
      tok_.kind = Token::kString;
    } else if (is_ident_start(c) || c == '`') {
      // A name or a field path: name(.name | .`key` | [N] | ["key"])*
      std::string path;
      j = i;
      bool first = true;
      for (;;) {
        if (j < text_.size() && text_[j] == '`') {
          size_t e = text_.find('`', j + 1);
          if (e == std::string_view::npos) return error(j, "unterminated `path`");
          if (!first) path += '.';
          path.append(text_.substr(j + 1, e - j - 1));
          j = e + 1;
        } else if (j < text_.size() && is_ident_start(text_[j])) {
          size_t b = j;
          while (j < text_.size() && is_ident_char(text_[j])) ++j;
          if (!first) path += '.';
          path.append(text_.substr(b, j - b));
        } else {
          return error(j, "expected a name after '.'");
        }
        first = false;
        while (j < text_.size() && text_[j] == '[') {
          size_t e = j + 1;
          if (e < text_.size() && text_[e] == '"') {  // ["key"]
            ++e;
            while (e < text_.size() && text_[e] != '"') e += text_[e] == '\\' ? 2 : 1;
            ++e;
          } else {
            while (e < text_.size() && is_digit(text_[e])) ++e;
          }
          if (e >= text_.size() || text_[e] != ']')
            return error(j, "expected an index [N] or [\"key\"]");
          path.append(text_.substr(j, e + 1 - j));
          j = e + 1;
        }
        if (j + 1 < text_.size() && text_[j] == '.' &&
            (is_ident_start(text_[j + 1]) || text_[j + 1] == '`')) {
          ++j;
          continue;
        }
        break;
      }
      tok_.value = std::move(path);
      const std::string_view word = text_.substr(i, j - i);
      tok_.kind = word == tok_.value && word.find_first_of(".[`") == std::string_view::npos
                      ? Token::kName
                      : Token::kPath;
    } else {
      static constexpr std::string_view kOps[] = {"==", "!=", "<=", ">=", "&&", "||", "<", ">",
                                                  "+",  "-",  "*",  "/",  "%",  "!",  "="};
      tok_.kind = Token::kOp;
      j = 0;
      for (std::string_view op : kOps) {
        if (text_.substr(i).starts_with(op)) {
          j = i + op.size();
          break;
        }
      }
      if (j == 0) {
        j = i + 1;
        switch (c) {
          case '(':
            tok_.kind = Token::kLParen;
            break;
          case ')':
            tok_.kind = Token::kRParen;
            break;
          case '[':
            tok_.kind = Token::kLBracket;
            break;
          case ']':
            tok_.kind = Token::kRBracket;
            break;
          case ',':
            tok_.kind = Token::kComma;
            break;
          default:
            return error(i, "unexpected character '" + std::string(1, c) + "'");
        }
      } else if (text_.substr(i, j - i) == "=") {
        return error(i, "'=' is not an operator here; compare with '=='");
      }
    }
    tok_.text = text_.substr(i, j - i);
    pos_ = j;
    return {};
  }

  bool is_word(std::string_view w) const { return tok_.kind == Token::kName && tok_.text == w; }
  bool is_op(std::string_view o) const { return tok_.kind == Token::kOp && tok_.text == o; }

  uint32_t add(Node n) {
    out_.nodes.push_back(std::move(n));
    return static_cast<uint32_t>(out_.nodes.size() - 1);
  }
  Node make(Op op, size_t pos) {
    Node n;
    n.op = op;
    n.col = static_cast<uint32_t>(pos + 1);
    return n;
  }

  // An operator with one literal operand of a type it never takes (`amount * "a"`,
  // `x and 3`) is an error now rather than on every event.
  Index check_literals(uint32_t i) {
    const Node& n = out_.nodes[i];
    auto bad = [&](uint32_t k, bool ok_number, bool ok_string, bool ok_bool) -> bool {
      const Node& c = out_.nodes[k];
      if (c.op != Op::kLit) return false;
      switch (c.lit.type) {
        case Type::kNull:
        case Type::kTime:
          return false;  // the evaluator decides (times take part in + - <)
        case Type::kNumber:
          return !ok_number;
        case Type::kString:
          return !ok_string;
        case Type::kBool:
          return !ok_bool;
        default:
          return true;
      }
    };
    auto fail = [&](uint32_t k, std::string_view needs) -> Index {
      return error(n.col - 1, "'" + std::string(op_text(n.op)) + "' needs " + std::string(needs) +
                                  ", got " + std::string(type_name(out_.nodes[k].lit.type)));
    };
    switch (n.op) {
      case Op::kNeg:
        if (bad(n.a, true, false, false)) return fail(n.a, "a number");
        break;
      case Op::kNot:
        if (bad(n.a, false, false, true)) return fail(n.a, "a boolean");
        break;
      case Op::kAnd:
      case Op::kOr:
        for (uint32_t k : {n.a, n.b}) {
          if (bad(k, false, false, true)) return fail(k, "booleans");
        }
        break;
      case Op::kAdd:
        for (uint32_t k : {n.a, n.b}) {
          if (bad(k, true, true, false)) return fail(k, "numbers or strings");
        }
        break;
      case Op::kSub:
      case Op::kMul:
      case Op::kDiv:
      case Op::kMod:
        for (uint32_t k : {n.a, n.b}) {
          if (bad(k, true, false, false)) return fail(k, "numbers");
        }
        break;
      case Op::kLt:
      case Op::kLe:
      case Op::kGt:
      case Op::kGe:
        for (uint32_t k : {n.a, n.b}) {
          if (bad(k, true, true, false)) return fail(k, "numbers, strings or times");
        }
        break;
      default:
        break;
    }
    return i;
  }

  // Folds node `i` when its operands are literals (and it is not now()).
  Index fold(uint32_t i) {
    Node& n = out_.nodes[i];
    auto lit = [&](uint32_t k) { return out_.nodes[k].op == Op::kLit; };
    bool all = true;
    switch (n.op) {
      case Op::kLit:
      case Op::kField:
      case Op::kVar:
        return i;
      case Op::kNeg:
      case Op::kNot:
        all = lit(n.a);
        break;
      case Op::kArray:
      case Op::kCall:
        if (n.fn == Fn::kNow || n.fn == Fn::kExists) return i;
        for (uint32_t k = 0; k < n.nargs; ++k) all = all && lit(out_.arg(n, k));
        break;
      default:
        all = lit(n.a) && lit(n.b);
        break;
    }
    if (!all) return check_literals(i);
    static const Scope kEmpty;
    Frame frame(kEmpty);
    Value v;
    if (!out_.eval(i, frame, v)) {
      // "label, column N: why" from the evaluator, shown with the caret.
      const std::string& why = frame.error();
      const std::string prefix = out_.label + ", column ";
      size_t col = 0, k = prefix.size();
      if (why.starts_with(prefix)) {
        while (k < why.size() && is_digit(why[k]))
          col = col * 10 + static_cast<size_t>(why[k++] - '0');
        if (col > 0 && why.compare(k, 2, ": ") == 0) return error(col - 1, why.substr(k + 2));
      }
      return usage_error(why);
    }
    Node& folded = out_.nodes[i];
    folded.op = Op::kLit;
    folded.lit = out_.keep(v);
    return i;
  }

  // operand (op operand)*, left-associative: `op_here` names the operator at the
  // current token, or none where the chain ends.
  template <class OpHere>
  Index parse_chain(Index (Parser::*operand)(), OpHere op_here) {
    auto left = (this->*operand)();
    if (!left) return left;
    while (std::optional<Op> op = op_here()) {
      Node n = make(*op, tok_.pos);
      if (auto st = next(); !st) return std::unexpected(st.error());
      auto right = (this->*operand)();
      if (!right) return right;
      n.a = *left;
      n.b = *right;
      left = fold(add(n));
      if (!left) return left;
    }
    return left;
  }

  Index parse_or() {
    return parse_chain(&Parser::parse_and, [this]() -> std::optional<Op> {
      if (is_word("or") || is_op("||")) return Op::kOr;
      return std::nullopt;
    });
  }

  Index parse_and() {
    return parse_chain(&Parser::parse_not, [this]() -> std::optional<Op> {
      if (is_word("and") || is_op("&&")) return Op::kAnd;
      return std::nullopt;
    });
  }

  Index parse_not() {
    if (is_word("not") || is_op("!")) {
      Node n = make(Op::kNot, tok_.pos);
      if (auto st = next(); !st) return std::unexpected(st.error());
      auto operand = parse_not();
      if (!operand) return operand;
      n.a = *operand;
      return fold(add(n));
    }
    return parse_cmp();
  }

  std::optional<Op> cmp_op() {
    if (tok_.kind == Token::kOp) {
      if (tok_.text == "==") return Op::kEq;
      if (tok_.text == "!=") return Op::kNe;
      if (tok_.text == "<") return Op::kLt;
      if (tok_.text == "<=") return Op::kLe;
      if (tok_.text == ">") return Op::kGt;
      if (tok_.text == ">=") return Op::kGe;
    }
    if (is_word("in")) return Op::kIn;
    if (is_word("not")) {  // "not in"
      size_t k = pos_;
      while (k < text_.size() && (text_[k] == ' ' || text_[k] == '\t')) ++k;
      if (text_.substr(k).starts_with("in") &&
          (k + 2 >= text_.size() || !is_ident_char(text_[k + 2]))) {
        return Op::kNotIn;
      }
    }
    return std::nullopt;
  }

  Index parse_cmp() {
    auto left = parse_add();
    if (!left) return left;
    auto op = cmp_op();
    if (!op) return left;
    Node n = make(*op, tok_.pos);
    if (*op == Op::kNotIn) {
      if (auto st = next(); !st) return std::unexpected(st.error());
    }
    if (auto st = next(); !st) return std::unexpected(st.error());
    auto right = parse_add();
    if (!right) return right;
    if (cmp_op()) return error(tok_.pos, "comparisons do not chain; join them with 'and'");
    n.a = *left;
    n.b = *right;
    return fold(add(n));
  }

  Index parse_add() {
    return parse_chain(&Parser::parse_mul, [this]() -> std::optional<Op> {
      if (is_op("+")) return Op::kAdd;
      if (is_op("-")) return Op::kSub;
      return std::nullopt;
    });
  }

  Index parse_mul() {
    return parse_chain(&Parser::parse_unary, [this]() -> std::optional<Op> {
      if (is_op("*")) return Op::kMul;
      if (is_op("/")) return Op::kDiv;
      if (is_op("%")) return Op::kMod;
      return std::nullopt;
    });
  }

  Index parse_unary() {
    if (is_op("-")) {
      Node n = make(Op::kNeg, tok_.pos);
      if (auto st = next(); !st) return std::unexpected(st.error());
      auto operand = parse_unary();
      if (!operand) return operand;
      n.a = *operand;
      return fold(add(n));
    }
    if (is_op("+")) {
      if (auto st = next(); !st) return std::unexpected(st.error());
      return parse_unary();
    }
    return parse_primary();
  }

  // Comma-separated expressions up to `close`; appends their nodes to the arg pool.
  Status parse_list(Token::Kind close, std::string_view what, Node& n) {
    std::vector<uint32_t> items;
    if (tok_.kind != close) {
      for (;;) {
        auto item = parse_or();
        if (!item) return std::unexpected(item.error());
        items.push_back(*item);
        if (tok_.kind == Token::kComma) {
          if (auto st = next(); !st) return st;
          continue;
        }
        if (tok_.kind != close) {
          return error(tok_.pos, "expected ',' or '" +
                                     std::string(close == Token::kRParen ? ")" : "]") + "' in " +
                                     std::string(what));
        }
        break;
      }
    }
    if (auto st = next(); !st) return st;
    n.args = static_cast<uint32_t>(out_.arg_pool.size());
    n.nargs = static_cast<uint32_t>(items.size());
    out_.arg_pool.insert(out_.arg_pool.end(), items.begin(), items.end());
    return {};
  }

  Index name_node(const std::string& path_text, bool plain, size_t pos) {
    if (plain) {
      int var = scope_.find_variable(path_text);
      if (var >= 0) {
        Node n = make(Op::kVar, pos);
        n.slot = static_cast<uint32_t>(var);
        scope_.mark_referenced(n.slot);
        out_.constant = false;
        return add(n);
      }
    }
    auto path = json::FieldPath::parse(path_text);
    if (!path) return error(pos, path.error().message);
    Node n = make(Op::kField, pos);
    n.slot = scope_.field(*path);
    out_.constant = false;
    return add(n);
  }

  Index parse_primary() {
    const size_t pos = tok_.pos;
    switch (tok_.kind) {
      case Token::kNumber: {
        Node n = make(Op::kLit, pos);
        n.lit = Value::number(tok_.number);
        if (auto st = next(); !st) return std::unexpected(st.error());
        return add(n);
      }
      case Token::kString: {
        Node n = make(Op::kLit, pos);
        n.lit = out_.keep(Value::string(tok_.value));
        if (auto st = next(); !st) return std::unexpected(st.error());
        return add(n);
      }
      case Token::kLParen: {
        if (auto st = next(); !st) return std::unexpected(st.error());
        auto inner = parse_or();
        if (!inner) return inner;
        if (tok_.kind != Token::kRParen) return error(tok_.pos, "expected ')'");
        if (auto st = next(); !st) return std::unexpected(st.error());
        return inner;
      }
      case Token::kLBracket: {
        Node n = make(Op::kArray, pos);
        if (auto st = next(); !st) return std::unexpected(st.error());
        if (auto st = parse_list(Token::kRBracket, "an array", n); !st)
          return std::unexpected(st.error());
        return fold(add(n));
      }
      case Token::kPath: {
        std::string path = tok_.value;
        if (auto st = next(); !st) return std::unexpected(st.error());
        return name_node(path, false, pos);
      }
      case Token::kName: {
        std::string name = tok_.value;
        if (name == "true" || name == "false" || name == "null") {
          Node n = make(Op::kLit, pos);
          if (name != "null") n.lit = Value::boolean(name == "true");
          if (auto st = next(); !st) return std::unexpected(st.error());
          return add(n);
        }
        if (is_keyword(name)) return error(pos, "unexpected '" + name + "'");
        if (auto st = next(); !st) return std::unexpected(st.error());
        if (tok_.kind != Token::kLParen) return name_node(name, true, pos);
        const FnInfo* fn = find_function(name);
        if (!fn) return error(pos, "unknown function '" + name + "'");
        if (auto st = next(); !st) return std::unexpected(st.error());
        Node n = make(Op::kCall, pos);
        n.fn = fn->fn;
        if (auto st = parse_list(Token::kRParen, name + "()", n); !st)
          return std::unexpected(st.error());
        if (static_cast<int>(n.nargs) < fn->min_args ||
            (fn->max_args >= 0 && static_cast<int>(n.nargs) > fn->max_args)) {
          std::string want = fn->min_args == fn->max_args ? std::to_string(fn->min_args)
                             : fn->max_args < 0 ? "at least " + std::to_string(fn->min_args)
                                                : std::to_string(fn->min_args) + " or " +
                                                      std::to_string(fn->max_args);
          return error(pos, name + "() takes " + want + " argument" + (want == "1" ? "" : "s") +
                                ", got " + std::to_string(n.nargs));
        }
        if (fn->fn == Fn::kNow) out_.constant = false;
        if (fn->fn == Fn::kExists) {
          const Node& a = out_.nodes[out_.arg(n, 0)];
          if (a.op != Op::kField && a.op != Op::kVar) {
            return error(a.col - 1, "exists() takes a field path");
          }
        }
        if (fn->fn == Fn::kMatches) {
          const Node& a = out_.nodes[out_.arg(n, 1)];
          if (a.op != Op::kLit || a.lit.type != Type::kString) {
            return error(a.col - 1, "matches() takes its pattern as a string literal");
          }
          RE2::Options options;
          options.set_log_errors(false);
          auto re =
              std::make_unique<RE2>(re2::StringPiece(a.lit.s.data(), a.lit.s.size()), options);
          if (!re->ok()) return error(a.col - 1, "invalid regular expression: " + re->error());
          n.re = static_cast<int>(out_.regexes.size());
          out_.regexes.push_back(std::move(re));
        }
        return fold(add(n));
      }
      case Token::kEnd:
        return error(pos, "unexpected end of expression");
      default:
        return error(pos, "unexpected '" + std::string(tok_.text) + "'");
    }
  }

  std::string_view text_;
  Scope& scope_;
  Expr::Impl& out_;
  size_t pos_ = 0;
  Token tok_;
};

// ---------------------------------------------------------------- Scope and Expr

Scope::Scope(ScopeOptions opt) : opt_(std::move(opt)) {
  auto path = json::FieldPath::parse(opt_.time_field.empty() ? "ts" : opt_.time_field);
  if (path) time_path_ = std::move(*path);
}

bool is_name(std::string_view s) {
  return !s.empty() && is_ident_start(s[0]) && std::all_of(s.begin(), s.end(), is_ident_char) &&
         !is_keyword(s);
}

Result<uint32_t> Scope::declare(std::string_view name) {
  if (!is_name(name)) {
    return usage_error("invalid name '" + std::string(name) +
                       "': names are letters, digits, _ and $, not starting with a digit");
  }
  if (find_variable(name) >= 0) {
    return usage_error("'" + std::string(name) + "' is defined twice");
  }
  variables_.emplace_back(name);
  referenced_.push_back(0);
  return static_cast<uint32_t>(variables_.size() - 1);
}

int Scope::find_variable(std::string_view name) const {
  for (size_t i = variables_.size(); i-- > 0;) {
    if (variables_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

uint32_t Scope::field(const json::FieldPath& path) {
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].segments() == path.segments()) return static_cast<uint32_t>(i);
  }
  fields_.push_back(path);
  return static_cast<uint32_t>(fields_.size() - 1);
}

Expr::Expr(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Expr::Expr(Expr&&) noexcept = default;
Expr& Expr::operator=(Expr&&) noexcept = default;
Expr::~Expr() = default;

Result<Expr> Expr::compile(std::string_view text, Scope& scope, std::string label) {
  auto impl = std::make_unique<Impl>();
  impl->text = std::string(text);
  impl->label = std::move(label);
  impl->nodes.reserve(16);
  Parser parser(impl->text, scope, *impl);
  if (auto st = parser.parse(); !st) return std::unexpected(st.error());
  return Expr(std::move(impl));
}

bool Expr::eval(Frame& frame, Value& out) const { return impl_->eval(impl_->root, frame, out); }

bool Expr::holds(Frame& frame) const {
  Value v;
  if (!impl_->eval(impl_->root, frame, v)) return false;
  if (v.type == Type::kBool) return v.b;
  if (v.is_null()) return false;
  return frame.fail(impl_->label + ": the result must be a boolean, got " +
                    std::string(type_name(v.type)));
}

const std::string& Expr::text() const { return impl_->text; }
const std::string& Expr::label() const { return impl_->label; }
bool Expr::is_constant() const { return impl_->constant; }

}  // namespace ev::expr
