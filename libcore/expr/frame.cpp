// Frame: reading a Scope's fields from an event in one walk of the document.
//
// The field paths form a trie (root = the event object). The walk iterates each
// object the trie enters once, member by member, matching keys against the node's
// children (the first member of a name wins, as Event::find); a leaf converts its
// value. A path that ends where another continues (`device` and `device.os`) is read
// with Event::find after the walk, since an On-Demand value is consumed once.
#include <cstring>

#include "libcore/expr/expr.h"
#include "libcore/json/event_time.h"

namespace ev::expr {

struct Frame::Node {
  json::PathSegment seg;
  int32_t slot = -1;  // the field ending here
  std::vector<uint32_t> children;
  uint64_t seen = 0;  // the event generation it was last matched in
};

Frame::Frame(const Scope& scope, time::Clock* clock) : scope_(scope), clock_(clock) {
  if (!clock_) {
    own_clock_ = std::make_unique<time::SystemClock>();
    clock_ = own_clock_.get();
  }
  vars_.resize(scope.variables());
  fields_.resize(scope.fields());
  field_errors_.resize(scope.fields());
  field_failed_.resize(scope.fields());
  present_.resize(scope.fields());
  nodes_.emplace_back();
  for (size_t slot = 0; slot < scope.fields(); ++slot) {
    const auto& segs = scope.fields_[slot].segments();
    uint32_t cur = 0;
    for (const auto& seg : segs) {
      uint32_t next = 0;
      for (uint32_t c : nodes_[cur].children) {
        if (nodes_[c].seg == seg) next = c;
      }
      if (!next) {
        nodes_.emplace_back();
        nodes_.back().seg = seg;
        next = static_cast<uint32_t>(nodes_.size() - 1);
        nodes_[cur].children.push_back(next);
      }
      cur = next;
    }
    nodes_[cur].slot = static_cast<int32_t>(slot);
    if (scope.fields_[slot].segments() == scope.time_path_.segments()) {
      time_slot_ = static_cast<int32_t>(slot);
    }
  }
  for (const Node& n : nodes_) {
    if (n.slot >= 0 && !n.children.empty()) slow_.push_back(static_cast<uint32_t>(n.slot));
  }
}

Frame::~Frame() = default;

void Frame::reset(json::Event& event) {
  event_ = &event;
  ++generation_;
  loaded_ = false;
  load_failed_ = false;
  failed_ = false;
  error_.clear();
  arena_.reset();
  for (Value& v : vars_) v = Value::null();
}

bool Frame::fail(std::string message) {
  if (!failed_) {
    failed_ = true;
    error_ = std::move(message);
  }
  return false;
}

int64_t Frame::now() { return clock_->now_ns(); }

bool Frame::read_field(uint32_t slot, Value& out) {
  if (!loaded_ && !load()) return false;
  if (load_failed_) return fail(error_.empty() ? "invalid JSON" : error_);
  if (field_failed_[slot]) return fail(field_errors_[slot]);
  out = fields_[slot];
  return true;
}

bool Frame::load() {
  loaded_ = true;
  for (size_t i = 0; i < fields_.size(); ++i) {
    fields_[i] = Value::null();
    field_failed_[i] = 0;
    present_[i] = 0;
  }
  if (!event_) return true;  // constant folding: no event
  may_escape_ = std::memchr(event_->raw().data(), '\\', event_->raw().size()) != nullptr;
  line_end_ = event_->raw().data() + event_->raw().size();
  walk_error_ = simdjson::SUCCESS;
  if (fields_.empty()) return true;
  auto doc = event_->doc();
  if (!doc) {
    load_failed_ = true;
    return fail(doc.error().message);
  }
  simdjson::ondemand::object obj;
  if (auto err = (*doc)->get_object().get(obj); err) {
    load_failed_ = true;
    return fail(json::describe(err));
  }
  if (nodes_[0].children.size()) walk_object(obj, nodes_[0]);
  if (walk_error_) {
    load_failed_ = true;
    return fail(json::describe(walk_error_));
  }
  for (uint32_t slot : slow_) {
    simdjson::ondemand::value v;
    auto found = event_->find(scope_.fields_[slot], v);
    if (!found) {
      load_failed_ = true;
      return fail(found.error().message);
    }
    if (*found == json::Found::kYes) convert(v, slot);
    if (walk_error_) {
      load_failed_ = true;
      return fail(json::describe(walk_error_));
    }
  }
  return true;
}

void Frame::walk_object(simdjson::ondemand::object obj, const Node& node) {
  for (auto member : obj) {
    simdjson::ondemand::field field;
    if (auto err = std::move(member).get(field); err) {
      walk_error_ = err;
      return;
    }
    std::string_view key;
    if (may_escape_) {
      if (auto err = field.unescaped_key().get(key); err) {
        walk_error_ = err;
        return;
      }
    } else {
      const char* k = field.key().raw();
      const char* end = static_cast<const char*>(std::memchr(
          k, '"', static_cast<size_t>(event_->raw().data() + event_->raw().size() - k)));
      if (!end) {
        walk_error_ = simdjson::TAPE_ERROR;
        return;
      }
      key = std::string_view(k, static_cast<size_t>(end - k));
    }
    for (uint32_t c : node.children) {
      Node& child = nodes_[c];
      if (child.seg.kind != json::PathSegment::Kind::kKey || child.seg.key != key) continue;
      if (child.seen != generation_) {
        child.seen = generation_;
        visit(field.value(), child);
        if (walk_error_) return;
      }
      break;
    }
  }
}

void Frame::walk_array(simdjson::ondemand::array arr, const Node& node) {
  size_t index = 0;
  size_t wanted = 0;
  for (uint32_t c : node.children) {
    if (nodes_[c].seg.kind == json::PathSegment::Kind::kIndex) ++wanted;
  }
  for (auto element : arr) {
    if (!wanted) return;
    simdjson::ondemand::value v;
    if (auto err = element.get(v); err) {
      walk_error_ = err;
      return;
    }
    for (uint32_t c : node.children) {
      Node& child = nodes_[c];
      if (child.seg.kind == json::PathSegment::Kind::kIndex && child.seg.index == index) {
        --wanted;
        visit(v, child);
        if (walk_error_) return;
        break;
      }
    }
    ++index;
  }
}

void Frame::visit(simdjson::ondemand::value value, const Node& node) {
  if (node.children.empty()) {
    convert(value, static_cast<uint32_t>(node.slot));
    return;
  }
  simdjson::ondemand::json_type type;
  if (auto err = value.type().get(type); err) {
    walk_error_ = err;
    return;
  }
  if (type == simdjson::ondemand::json_type::object) {
    simdjson::ondemand::object obj;
    if (auto err = value.get_object().get(obj); err) {
      walk_error_ = err;
      return;
    }
    walk_object(obj, node);
  } else if (type == simdjson::ondemand::json_type::array) {
    simdjson::ondemand::array arr;
    if (auto err = value.get_array().get(arr); err) {
      walk_error_ = err;
      return;
    }
    walk_array(arr, node);
  }
}

void Frame::convert(simdjson::ondemand::value value, uint32_t slot) {
  present_[slot] = 1;
  Value& out = fields_[slot];
  if (static_cast<int32_t>(slot) == time_slot_) {
    bool is_null = false;
    if (value.is_null().get(is_null) == simdjson::SUCCESS && is_null) return;
    auto t = json::time_of(value, scope_.options().time_unit);
    if (!t) {
      field_failed_[slot] = 1;
      field_errors_[slot] = "time field " + scope_.fields_[slot].text() + ": " + t.error().message;
      return;
    }
    out = Value::time(*t);
    return;
  }
  simdjson::ondemand::json_type type;
  simdjson::error_code err = value.type().get(type);
  if (!err) {
    switch (type) {
      case simdjson::ondemand::json_type::number:
        // A number beyond a double (1e400) is valid JSON: it reads as null.
        out = value.get_double().get(out.n) ? Value::null() : Value::number(out.n);
        break;
      case simdjson::ondemand::json_type::string:
        if (!may_escape_) {
          // The token is the quoted string, maybe followed by whitespace.
          std::string_view token = value.raw_json_token();
          while (token.size() > 1 && token.back() != '"') token.remove_suffix(1);
          if (token.size() < 2) {
            err = simdjson::STRING_ERROR;
            break;
          }
          out = Value::string(token.substr(1, token.size() - 2));
        } else {
          std::string_view s;
          err = value.get_string().get(s);
          if (!err) out = Value::string(arena_.copy(s));
        }
        break;
      case simdjson::ondemand::json_type::boolean: {
        bool b = false;
        err = value.get_bool().get(b);
        out = Value::boolean(b);
        break;
      }
      case simdjson::ondemand::json_type::null:
        break;
      case simdjson::ondemand::json_type::array:
      case simdjson::ondemand::json_type::object: {
        auto raw = json::raw_text(value);
        if (!raw) {
          err = simdjson::TAPE_ERROR;
          break;
        }
        out = Value::raw(
            type == simdjson::ondemand::json_type::array ? Type::kArray : Type::kObject, *raw);
        break;
      }
    }
  }
  if (err) {
    out = Value::null();
    walk_error_ = err;
  }
}

}  // namespace ev::expr
