#include "libcore/window/aggregates.h"

#include <xxhash.h>

#include <bit>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <set>

#include "libcore/json/canonical.h"

namespace ev::window {

namespace od = simdjson::ondemand;

// One field read by the aggregates, with what they need of it.
struct Aggregates::Field {
  json::FieldPath path;
  bool numeric = false;     // count(F), sum, avg, min, max: the kNumSlots doubles at num_at
  bool text = false;        // count_distinct, top, first, last: the canonical text
  std::string numeric_use;  // the first aggregate that needs a number, for messages
  size_t num_at = 0;
  int sketch = -1, distinct = -1, top = -1, first = -1;
  size_t top_capacity = 0;
};

struct Aggregates::Value {
  bool present = false;
  bool has_num = false;
  bool is_int = false;
  double num = 0;
  uint64_t hash = 0;
  std::string text;
};

struct Aggregates::FirstLast {
  int64_t first_t = 0, last_t = 0;
  std::string first, last;
  size_t bytes() const { return sizeof(FirstLast) + first.capacity() + last.capacity(); }
};

namespace {

// The doubles of a numeric field, from Field::num_at.
// kPresent counts values of any type (count(F)); kN the numbers among them.
enum NumSlot { kPresent = 0, kN, kSum, kComp, kMin, kMax, kAllInt, kNumSlots };
constexpr double kExactIntLimit = 9007199254740992.0;  // 2^53

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits at commas outside parentheses, brackets and double quotes.
std::vector<std::string_view> split_top(std::string_view s) {
  std::vector<std::string_view> parts;
  int depth = 0;
  bool quoted = false;
  size_t from = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (quoted) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        quoted = false;
    } else if (c == '"') {
      quoted = true;
    } else if (c == '(' || c == '[') {
      ++depth;
    } else if (c == ')' || c == ']') {
      --depth;
    } else if (c == ',' && depth == 0) {
      parts.push_back(s.substr(from, i - from));
      from = i + 1;
    }
  }
  parts.push_back(s.substr(from));
  return parts;
}

std::string format_q(double percent) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", percent);
  return buf;
}

const char* fn_name(AggFn fn) {
  switch (fn) {
    case AggFn::kCount:
    case AggFn::kCountField:
      return "count";
    case AggFn::kSum:
      return "sum";
    case AggFn::kAvg:
      return "avg";
    case AggFn::kMin:
      return "min";
    case AggFn::kMax:
      return "max";
    case AggFn::kCountDistinct:
      return "count_distinct";
    case AggFn::kQuantile:
      return "percentile";
    case AggFn::kFirst:
      return "first";
    case AggFn::kLast:
      return "last";
    case AggFn::kTop:
      return "top";
  }
  return "?";
}

std::string call_text(const AggSpec& s) {
  switch (s.fn) {
    case AggFn::kCount:
      return "count";
    case AggFn::kQuantile:
      return "percentile(" + s.field + ", " + format_q(s.q) + ")";
    case AggFn::kTop:
      return "top(" + s.field + ", " + std::to_string(s.k) + ")";
    default:
      return std::string(fn_name(s.fn)) + "(" + s.field + ")";
  }
}

std::string default_name(const AggSpec& s) {
  if (s.fn == AggFn::kCount) return "count";
  if (s.fn == AggFn::kQuantile) return "p" + format_q(s.q * 100) + "_" + s.field;
  return std::string(fn_name(s.fn)) + "_" + s.field;
}

Result<AggSpec> parse_item(std::string_view item) {
  item = trim(item);
  const std::string quoted = "'" + std::string(item) + "'";
  if (item.empty()) return usage_error("--agg: an empty item");
  AggSpec spec;
  // "… as NAME": the last " as " outside parentheses.
  const size_t close = item.rfind(')');
  const size_t as = item.rfind(" as ");
  if (as != std::string_view::npos && (close == std::string_view::npos || as > close)) {
    spec.name = std::string(trim(item.substr(as + 4)));
    item = trim(item.substr(0, as));
    if (spec.name.empty()) return usage_error("--agg " + quoted + ": a name after 'as'");
  }
  std::string_view fn = item;
  std::vector<std::string_view> args;
  const size_t open = item.find('(');
  if (open != std::string_view::npos) {
    if (item.back() != ')') return usage_error("--agg " + quoted + ": expected ')' at the end");
    fn = trim(item.substr(0, open));
    for (auto a : split_top(item.substr(open + 1, item.size() - open - 2))) {
      args.push_back(trim(a));
    }
    if (args.size() == 1 && args[0].empty()) args.clear();
  }
  for (char c : fn) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.') {
      return usage_error("--agg " + quoted + ": '" + std::string(fn) + "' is not a function");
    }
  }
  auto need = [&](size_t n) -> Status {
    if (args.size() == n) return {};
    return usage_error("--agg " + quoted + ": " + std::string(fn) + " takes " + std::to_string(n) +
                       (n == 1 ? " argument" : " arguments"));
  };
  if (fn == "count") {
    spec.fn = args.empty() ? AggFn::kCount : AggFn::kCountField;
    if (args.size() > 1) return usage_error("--agg " + quoted + ": count takes 0 or 1 arguments");
  } else if (fn == "sum" || fn == "avg" || fn == "min" || fn == "max" || fn == "count_distinct" ||
             fn == "first" || fn == "last") {
    if (auto st = need(1); !st) return std::unexpected(st.error());
    spec.fn = fn == "sum"              ? AggFn::kSum
              : fn == "avg"            ? AggFn::kAvg
              : fn == "min"            ? AggFn::kMin
              : fn == "max"            ? AggFn::kMax
              : fn == "count_distinct" ? AggFn::kCountDistinct
              : fn == "first"          ? AggFn::kFirst
                                       : AggFn::kLast;
  } else if (fn == "percentile") {
    if (auto st = need(2); !st) return std::unexpected(st.error());
    double q = -1;
    auto [p, ec] = std::from_chars(args[1].data(), args[1].data() + args[1].size(), q);
    if (ec != std::errc() || p != args[1].data() + args[1].size() || !(q >= 0 && q <= 1)) {
      return usage_error("--agg " + quoted + ": the quantile must be a number from 0 to 1");
    }
    spec.fn = AggFn::kQuantile;
    spec.q = q;
  } else if (fn.size() > 1 && fn[0] == 'p' && std::isdigit(static_cast<unsigned char>(fn[1]))) {
    if (auto st = need(1); !st) return std::unexpected(st.error());
    double percent = -1;
    const char* end = fn.data() + fn.size();
    auto [p, ec] = std::from_chars(fn.data() + 1, end, percent);
    if (ec != std::errc() || p != end || !(percent >= 0 && percent <= 100)) {
      return usage_error("--agg " + quoted + ": pN takes a percentage from 0 to 100 (p95, p99.9)");
    }
    spec.fn = AggFn::kQuantile;
    spec.q = percent / 100;
  } else if (fn == "top") {
    if (args.size() != 1 && args.size() != 2) {
      return usage_error("--agg " + quoted + ": top takes a field and a count, top(page, 5)");
    }
    spec.fn = AggFn::kTop;
    spec.k = 10;
    if (args.size() == 2) {
      size_t k = 0;
      auto [p, ec] = std::from_chars(args[1].data(), args[1].data() + args[1].size(), k);
      if (ec != std::errc() || p != args[1].data() + args[1].size() || k == 0 || k > 10000) {
        return usage_error("--agg " + quoted + ": top's count must be from 1 to 10000");
      }
      spec.k = k;
    }
  } else {
    return usage_error("--agg " + quoted + ": unknown function '" + std::string(fn) +
                       "' (count, sum, avg, min, max, count_distinct, p50, p90, p95, p99, "
                       "percentile, first, last, top)");
  }
  if (spec.fn != AggFn::kCount) {
    spec.field = std::string(args[0]);
    if (spec.field.empty()) return usage_error("--agg " + quoted + ": an empty field");
    auto path = json::FieldPath::parse(spec.field);
    if (!path) return usage_error("--agg " + quoted + ": " + path.error().message);
  }
  if (spec.name.empty()) spec.name = default_name(spec);
  return spec;
}

void neumaier(double& sum, double& comp, double x) {
  const double t = sum + x;
  comp += std::fabs(sum) >= std::fabs(x) ? (sum - t) + x : (x - t) + sum;
  sum = t;
}

void write_number(json::JsonWriter& w, double v, bool integral) {
  if (integral && std::fabs(v) < kExactIntLimit) {
    w.value(static_cast<int64_t>(v));
  } else {
    w.value(v);
  }
}

}  // namespace

Result<std::vector<AggSpec>> parse_aggregates(std::string_view text) {
  std::vector<AggSpec> specs;
  for (auto item : split_top(text)) {
    auto spec = parse_item(item);
    if (!spec) return std::unexpected(spec.error());
    specs.push_back(std::move(*spec));
  }
  return specs;
}

std::string describe_aggregates(const std::vector<AggSpec>& specs) {
  std::string out;
  for (const auto& s : specs) {
    if (!out.empty()) out += ", ";
    out += call_text(s);
    if (s.name != default_name(s)) out += " as " + s.name;
  }
  return out;
}

Aggregates::~Aggregates() = default;

Result<std::unique_ptr<Aggregates>> Aggregates::make(std::vector<AggSpec> specs, bool exact) {
  std::unique_ptr<Aggregates> a(new Aggregates());
  a->specs_ = std::move(specs);
  if (auto st = a->plan(exact); !st) return std::unexpected(st.error());
  return a;
}

Status Aggregates::plan(bool exact) {
  exact_ = exact;
  std::set<std::string> names;
  for (auto& s : specs_) {
    if (!names.insert(s.name).second) {
      return usage_error("--agg: two aggregates are named '" + s.name + "' (use 'as NAME')");
    }
    if (s.fn == AggFn::kCount) continue;
    Field* f = nullptr;
    for (auto& g : fields_) {
      if (g.path.text() == s.field) f = &g;
    }
    if (f == nullptr) {
      auto path = json::FieldPath::parse(s.field);
      if (!path) return std::unexpected(path.error());
      f = &fields_.emplace_back();
      f->path = std::move(*path);
    }
    switch (s.fn) {
      case AggFn::kCountField:
      case AggFn::kSum:
      case AggFn::kAvg:
      case AggFn::kMin:
      case AggFn::kMax:
        if (!f->numeric && s.fn != AggFn::kCountField) f->numeric_use = call_text(s);
        if (!f->numeric) f->num_at = num_width_, num_width_ += kNumSlots;
        f->numeric = true;
        break;
      case AggFn::kQuantile:
        if (f->numeric_use.empty()) f->numeric_use = call_text(s);
        if (f->sketch < 0) f->sketch = static_cast<int>(n_sketch_++);
        break;
      case AggFn::kCountDistinct:
        f->text = true;
        if (f->distinct < 0) f->distinct = static_cast<int>(n_distinct_++);
        break;
      case AggFn::kTop:
        f->text = true;
        if (f->top < 0) f->top = static_cast<int>(n_top_++);
        f->top_capacity = std::max(f->top_capacity, std::max<size_t>(1000, 10 * s.k));
        break;
      case AggFn::kFirst:
      case AggFn::kLast:
        f->text = true;
        if (f->first < 0) f->first = static_cast<int>(n_first_++);
        break;
      case AggFn::kCount:
        break;
    }
  }
  values_.resize(fields_.size());
  for (const auto& s : specs_) {
    spec_keys_.push_back(json::JsonWriter::key_json_of(s.name));
    int at = -1;
    for (size_t i = 0; i < fields_.size(); ++i) {
      if (s.fn != AggFn::kCount && fields_[i].path.text() == s.field) at = static_cast<int>(i);
    }
    spec_fields_.push_back(at);
  }
  top_capacity_.resize(n_top_);
  for (const auto& f : fields_) {
    if (f.top >= 0) top_capacity_[f.top] = f.top_capacity;
  }
  return {};
}

Status Aggregates::extract(json::Event& event) {
  for (size_t i = 0; i < fields_.size(); ++i) {
    const Field& f = fields_[i];
    Value& v = values_[i];
    v.present = false;
    v.has_num = false;
    od::value value;
    auto found = event.find(f.path, value);
    if (!found) return std::unexpected(found.error());
    if (*found == json::Found::kMissing) continue;
    od::json_type type;
    if (auto err = value.type().get(type); err) return data_error(json::describe(err));
    if (type == od::json_type::null) continue;
    const bool wants_number = !f.numeric_use.empty();
    if (type == od::json_type::number && (wants_number || f.numeric)) {
      const std::string_view token = trim(value.raw_json_token());
      bool integral = false;
      if (!json::is_json_number(token, &integral)) return data_error("invalid JSON: a bad number");
      auto [p, ec] = std::from_chars(token.data(), token.data() + token.size(), v.num);
      if (ec != std::errc() || !std::isfinite(v.num)) {
        return data_error("field " + f.path.text() + ": " + std::string(token) +
                          " is out of range (" + f.numeric_use + ")");
      }
      v.is_int = integral;
      v.has_num = true;
    } else if (wants_number) {
      auto raw = json::raw_text(value);
      std::string shown = raw ? std::string(raw->substr(0, 60)) : std::string("?");
      return data_error("field " + f.path.text() + ": " + shown + " is not a number (" +
                        f.numeric_use + ")");
    }
    if (f.text) {
      // After a number was read from it, the value is read again from its token.
      if (type == od::json_type::number) {
        v.text.clear();
        v.text.assign(trim(value.raw_json_token()));
      } else {
        v.text.clear();
        if (auto st = json::append_canonical(value, v.text); !st) {
          return data_error("field " + f.path.text() + ": " + st.error().message);
        }
      }
      v.hash = XXH3_64bits(v.text.data(), v.text.size());
    }
    v.present = true;
  }
  return {};
}

uint32_t Aggregates::new_row() {
  uint32_t row;
  if (!free_.empty()) {
    row = free_.back();
    free_.pop_back();
  } else {
    row = rows_++;
    num_.resize(static_cast<size_t>(rows_) * num_width_);
    sketch_.resize(static_cast<size_t>(rows_) * n_sketch_);
    distinct_.resize(static_cast<size_t>(rows_) * n_distinct_);
    top_.resize(static_cast<size_t>(rows_) * n_top_);
    first_.resize(static_cast<size_t>(rows_) * n_first_);
  }
  double* n = &num_[static_cast<size_t>(row) * num_width_];
  std::fill(n, n + num_width_, 0.0);
  for (const auto& f : fields_) {
    if (f.numeric) n[f.num_at + kAllInt] = 1;
  }
  return row;
}

void Aggregates::free_row(uint32_t row) {
  const size_t r = row;
  for (size_t i = 0; i < n_sketch_; ++i) sketch_[r * n_sketch_ + i].reset();
  for (size_t i = 0; i < n_distinct_; ++i) distinct_[r * n_distinct_ + i].reset();
  for (size_t i = 0; i < n_top_; ++i) top_[r * n_top_ + i].reset();
  for (size_t i = 0; i < n_first_; ++i) first_[r * n_first_ + i].reset();
  free_.push_back(row);
}

int64_t Aggregates::add(uint32_t row, int64_t t) {
  const size_t r = row;
  double* n = &num_[r * num_width_];
  n[0] += 1;
  int64_t grown = 0;
  for (size_t i = 0; i < fields_.size(); ++i) {
    const Field& f = fields_[i];
    const Value& v = values_[i];
    if (!v.present) continue;
    if (f.numeric) {
      double* s = n + f.num_at;
      s[kPresent] += 1;
    }
    if (f.numeric && v.has_num) {
      double* s = n + f.num_at;
      if (s[kN] == 0 || v.num < s[kMin]) s[kMin] = v.num;
      if (s[kN] == 0 || v.num > s[kMax]) s[kMax] = v.num;
      s[kN] += 1;
      neumaier(s[kSum], s[kComp], v.num);
      if (!v.is_int) s[kAllInt] = 0;
    }
    if (f.sketch >= 0 && v.has_num) {
      auto& sk = sketch_[r * n_sketch_ + f.sketch];
      if (!sk) sk = std::make_unique<QuantileSketch>(), grown += sk->bytes();
      const size_t before = sk->bytes();
      sk->add(v.num);
      grown += static_cast<int64_t>(sk->bytes()) - static_cast<int64_t>(before);
    }
    if (f.distinct >= 0) {
      auto& d = distinct_[r * n_distinct_ + f.distinct];
      if (!d) d = std::make_unique<DistinctCounter>(exact_), grown += d->bytes();
      const size_t before = d->bytes();
      d->add(v.hash);
      grown += static_cast<int64_t>(d->bytes()) - static_cast<int64_t>(before);
    }
    if (f.top >= 0) {
      auto& k = top_[r * n_top_ + f.top];
      if (!k) k = std::make_unique<TopK>(f.top_capacity), grown += k->bytes();
      const size_t before = k->bytes();
      k->add(v.text, v.hash);
      grown += static_cast<int64_t>(k->bytes()) - static_cast<int64_t>(before);
    }
    if (f.first >= 0) {
      auto& fl = first_[r * n_first_ + f.first];
      const size_t before = fl ? fl->bytes() : 0;
      if (!fl) {
        fl = std::make_unique<FirstLast>();
        fl->first_t = fl->last_t = t;
        fl->first = fl->last = v.text;
      } else {
        if (t < fl->first_t) fl->first_t = t, fl->first.assign(v.text);
        if (t >= fl->last_t) fl->last_t = t, fl->last.assign(v.text);
      }
      grown += static_cast<int64_t>(fl->bytes()) - static_cast<int64_t>(before);
    }
  }
  return grown;
}

int64_t Aggregates::merge(uint32_t dst, uint32_t src) {
  const int64_t before = static_cast<int64_t>(row_bytes(dst) + row_bytes(src));
  const size_t d = dst, s = src;
  double* a = &num_[d * num_width_];
  const double* b = &num_[s * num_width_];
  a[0] += b[0];
  for (const auto& f : fields_) {
    if (!f.numeric) continue;
    double* x = a + f.num_at;
    const double* y = b + f.num_at;
    x[kPresent] += y[kPresent];
    if (y[kN] == 0) continue;
    if (x[kN] == 0 || y[kMin] < x[kMin]) x[kMin] = y[kMin];
    if (x[kN] == 0 || y[kMax] > x[kMax]) x[kMax] = y[kMax];
    x[kN] += y[kN];
    neumaier(x[kSum], x[kComp], y[kSum]);
    neumaier(x[kSum], x[kComp], y[kComp]);
    if (y[kAllInt] == 0) x[kAllInt] = 0;
  }
  auto fold = [](auto& into, auto& from) {
    if (!from) return;
    if (!into) {
      into = std::move(from);
    } else {
      into->merge(*from);
    }
  };
  for (size_t i = 0; i < n_sketch_; ++i)
    fold(sketch_[d * n_sketch_ + i], sketch_[s * n_sketch_ + i]);
  for (size_t i = 0; i < n_distinct_; ++i) {
    fold(distinct_[d * n_distinct_ + i], distinct_[s * n_distinct_ + i]);
  }
  for (size_t i = 0; i < n_top_; ++i) fold(top_[d * n_top_ + i], top_[s * n_top_ + i]);
  for (size_t i = 0; i < n_first_; ++i) {
    auto& into = first_[d * n_first_ + i];
    auto& from = first_[s * n_first_ + i];
    if (!from) continue;
    if (!into) {
      into = std::move(from);
      continue;
    }
    if (from->first_t < into->first_t) into->first_t = from->first_t, into->first = from->first;
    if (from->last_t >= into->last_t) into->last_t = from->last_t, into->last = from->last;
  }
  free_row(src);
  return static_cast<int64_t>(row_bytes(dst)) - before;
}

void Aggregates::write(uint32_t row, json::JsonWriter& w) const {
  const size_t r = row;
  const double* n = &num_[r * num_width_];
  for (size_t i = 0; i < specs_.size(); ++i) {
    const AggSpec& s = specs_[i];
    w.key_json(spec_keys_[i]);
    if (s.fn == AggFn::kCount) {
      w.value(static_cast<uint64_t>(n[0]));
      continue;
    }
    const Field* f = &fields_[static_cast<size_t>(spec_fields_[i])];
    const double* x = f->numeric ? n + f->num_at : nullptr;
    switch (s.fn) {
      case AggFn::kCountField:
        w.value(static_cast<uint64_t>(x[kPresent]));
        break;
      case AggFn::kSum:
        if (x[kN] == 0)
          w.null();
        else
          write_number(w, x[kSum] + x[kComp], x[kAllInt] != 0);
        break;
      case AggFn::kAvg:
        if (x[kN] == 0)
          w.null();
        else
          w.value((x[kSum] + x[kComp]) / x[kN]);
        break;
      case AggFn::kMin:
        if (x[kN] == 0)
          w.null();
        else
          write_number(w, x[kMin], x[kAllInt] != 0);
        break;
      case AggFn::kMax:
        if (x[kN] == 0)
          w.null();
        else
          write_number(w, x[kMax], x[kAllInt] != 0);
        break;
      case AggFn::kQuantile: {
        const auto& sk = sketch_[r * n_sketch_ + f->sketch];
        if (!sk || sk->count() == 0)
          w.null();
        else
          w.value(sk->quantile(s.q));
        break;
      }
      case AggFn::kCountDistinct: {
        const auto& d = distinct_[r * n_distinct_ + f->distinct];
        w.value(d ? d->estimate() : uint64_t{0});
        break;
      }
      case AggFn::kFirst:
      case AggFn::kLast: {
        const auto& fl = first_[r * n_first_ + f->first];
        if (!fl)
          w.null();
        else
          w.raw(s.fn == AggFn::kFirst ? fl->first : fl->last);
        break;
      }
      case AggFn::kTop: {
        const auto& k = top_[r * n_top_ + f->top];
        w.begin_array();
        if (k) {
          for (const auto& [text, count] : k->top(s.k)) {
            w.begin_object().key("value").raw(text).key("count").value(count).end_object();
          }
        }
        w.end_array();
        break;
      }
      case AggFn::kCount:
        break;
    }
  }
}

size_t Aggregates::fixed_row_bytes() const {
  return num_width_ * sizeof(double) + (n_sketch_ + n_distinct_ + n_top_ + n_first_) * 8;
}

size_t Aggregates::row_bytes(uint32_t row) const {
  const size_t r = row;
  size_t b = fixed_row_bytes();
  for (size_t i = 0; i < n_sketch_; ++i) {
    if (const auto& p = sketch_[r * n_sketch_ + i]) b += p->bytes();
  }
  for (size_t i = 0; i < n_distinct_; ++i) {
    if (const auto& p = distinct_[r * n_distinct_ + i]) b += p->bytes();
  }
  for (size_t i = 0; i < n_top_; ++i) {
    if (const auto& p = top_[r * n_top_ + i]) b += p->bytes();
  }
  for (size_t i = 0; i < n_first_; ++i) {
    if (const auto& p = first_[r * n_first_ + i]) b += p->bytes();
  }
  return b;
}

void Aggregates::save(uint32_t row, state::SnapshotWriter& w) const {
  const size_t r = row;
  for (size_t i = 0; i < num_width_; ++i) w.u64(std::bit_cast<uint64_t>(num_[r * num_width_ + i]));
  auto each = [&w](const auto& p) {
    w.u32(p ? 1 : 0);
    if (p) p->save(w);
  };
  for (size_t i = 0; i < n_sketch_; ++i) each(sketch_[r * n_sketch_ + i]);
  for (size_t i = 0; i < n_distinct_; ++i) each(distinct_[r * n_distinct_ + i]);
  for (size_t i = 0; i < n_top_; ++i) each(top_[r * n_top_ + i]);
  for (size_t i = 0; i < n_first_; ++i) {
    const auto& p = first_[r * n_first_ + i];
    w.u32(p ? 1 : 0);
    if (!p) continue;
    w.i64(p->first_t);
    w.i64(p->last_t);
    w.bytes(p->first);
    w.bytes(p->last);
  }
}

Result<uint32_t> Aggregates::load(state::SnapshotReader& r) {
  const uint32_t row = new_row();
  const size_t at = row;
  auto fail = [&](Error e) -> Result<uint32_t> {
    free_row(row);
    return std::unexpected(std::move(e));
  };
  for (size_t i = 0; i < num_width_; ++i) {
    auto v = r.u64();
    if (!v) return fail(v.error());
    num_[at * num_width_ + i] = std::bit_cast<double>(*v);
  }
  auto each = [&](auto& p, auto make) -> Status {
    auto has = r.u32();
    if (!has) return std::unexpected(has.error());
    if (*has > 1) return r.corrupt("a bad aggregate flag");
    if (*has == 0) return {};
    p = make();
    return p->load(r);
  };
  for (size_t i = 0; i < n_sketch_; ++i) {
    auto st = each(sketch_[at * n_sketch_ + i], [] { return std::make_unique<QuantileSketch>(); });
    if (!st) return fail(st.error());
  }
  for (size_t i = 0; i < n_distinct_; ++i) {
    auto st = each(distinct_[at * n_distinct_ + i],
                   [this] { return std::make_unique<DistinctCounter>(exact_); });
    if (!st) return fail(st.error());
  }
  for (size_t i = 0; i < n_top_; ++i) {
    const size_t capacity = top_capacity_[i];
    auto st = each(top_[at * n_top_ + i], [capacity] { return std::make_unique<TopK>(capacity); });
    if (!st) return fail(st.error());
  }
  for (size_t i = 0; i < n_first_; ++i) {
    auto has = r.u32();
    if (!has) return fail(has.error());
    if (*has > 1) return fail(r.corrupt("a bad aggregate flag").error());
    if (*has == 0) continue;
    auto p = std::make_unique<FirstLast>();
    auto ft = r.i64();
    auto lt = r.i64();
    if (!ft || !lt) return fail((!ft ? ft : lt).error());
    auto first = r.bytes();
    if (!first) return fail(first.error());
    auto last = r.bytes();
    if (!last) return fail(last.error());
    p->first_t = *ft;
    p->last_t = *lt;
    p->first = std::move(*first);
    p->last = std::move(*last);
    first_[at * n_first_ + i] = std::move(p);
  }
  return row;
}

}  // namespace ev::window
