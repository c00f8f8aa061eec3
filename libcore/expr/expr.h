// The expression language (ev-expr(7)): compiled once, evaluated per event.
//
// A Scope holds what a set of expressions over the same event may name: the event's
// fields (collected as expressions are compiled) and computed names declared by the
// program (ev-score's --set names, score, flags, ...), which shadow fields of the
// same name. Expr::compile parses one expression into a flat node array, resolves
// names and functions, folds constant sub-expressions (so `"a" * 2` is a compile
// error with its column) and compiles regular expressions (RE2). A Frame evaluates
// expressions of one Scope over one event: on the first field an expression reads,
// the Frame reads every field of the Scope in one pass over the event's bytes (a
// scanner, frame.cpp; fields nested under one key share the walk), so many
// expressions over the same event cost one pass. Strings and arrays made while evaluating live in
// the Frame's Arena, reused across events: evaluation allocates nothing per event once the arena
// has grown to the largest event's needs (an error message allocates).
//
// Semantics (missing fields are null; null propagates through arithmetic; division
// by zero and non-finite results are null; three-valued and/or/not; a type error is
// a per-event error) are specified in man/ev-expr.7.scd. Compile errors are kUsage,
// naming the expression's label and the column (1-based, in bytes) with a caret line.
// A Scope and its Exprs are immutable once Frames exist; one Frame per thread.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libcore/base/status.h"
#include "libcore/expr/value.h"
#include "libcore/json/event.h"
#include "libcore/json/field_path.h"
#include "libcore/time/clock.h"
#include "libcore/time/timestamp.h"

namespace ev::expr {

struct ScopeOptions {
  std::string time_field = "ts";  // this field reads as a time value
  time::EpochUnit time_unit = time::EpochUnit::kAuto;
};

// A plain name: [A-Za-z_$][A-Za-z0-9_$]*, not a keyword (and, or, not, in, true,
// false, null). What Scope::declare takes and an expression names without backticks.
bool is_name(std::string_view s);

class Scope {
 public:
  explicit Scope(ScopeOptions opt = {});

  // A computed name visible to expressions compiled after this call. Returns its
  // variable slot (Frame::set). Fails with kUsage when `name` is declared already or
  // is not a plain name ([A-Za-z_$][A-Za-z0-9_$]*, not a keyword).
  Result<uint32_t> declare(std::string_view name);
  // The slot of a declared name, or -1.
  int find_variable(std::string_view name) const;
  // Whether an expression compiled so far reads the variable: a program may skip
  // computing a value nothing reads.
  bool referenced(uint32_t slot) const { return referenced_[slot] != 0; }
  void mark_referenced(uint32_t slot) { referenced_[slot] = 1; }

  // The field slot for `path` (shared by every expression naming it).
  uint32_t field(const json::FieldPath& path);

  size_t variables() const { return variables_.size(); }
  size_t fields() const { return fields_.size(); }
  const ScopeOptions& options() const { return opt_; }

 private:
  friend class Frame;
  ScopeOptions opt_;
  std::vector<std::string> variables_;
  std::vector<uint8_t> referenced_;
  std::vector<json::FieldPath> fields_;
  json::FieldPath time_path_;
};

class Frame;

class Expr {
 public:
  // Compiles `text` in `scope`. `label` names the expression in messages
  // ("--where", "rule night"). Fails with kUsage:
  //   "--where: column 9: expected ')'\n  hour(ts\n          ^"
  static Result<Expr> compile(std::string_view text, Scope& scope, std::string label);

  Expr(Expr&&) noexcept;
  Expr& operator=(Expr&&) noexcept;
  ~Expr();

  // Evaluates over the frame's event. False on an error; frame.error() says why
  // ("rule night, column 8: '*' needs numbers, got string and number").
  bool eval(Frame& frame, Value& out) const;
  // Evaluates as a condition: true only for the boolean true (false and null are not
  // true). Another result is a type error (returns false with frame.failed()).
  bool holds(Frame& frame) const;

  const std::string& text() const;
  const std::string& label() const;
  // True when the expression reads no field and no variable and is not now():
  // its value is the same for every event.
  bool is_constant() const;

 private:
  struct Impl;
  friend class Parser;
  explicit Expr(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Frame {
 public:
  // `clock` serves now(); null: the system clock.
  explicit Frame(const Scope& scope, time::Clock* clock = nullptr);
  ~Frame();
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;

  // Starts a new event: fields unread, variables null, the arena and error cleared.
  void reset(json::Event& event);
  void set(uint32_t slot, const Value& v) { vars_[slot] = v; }
  const Value& variable(uint32_t slot) const { return vars_[slot]; }

  bool failed() const { return failed_; }
  const std::string& error() const { return error_; }
  Arena& arena() { return arena_; }

  // For Expr: the field in `slot`, reading the event's fields on first use. False on
  // an error (malformed JSON, an unreadable time field), with error() set.
  bool field(uint32_t slot, Value& out) {
    if (loaded_ && !load_failed_ && !field_failed_[slot]) {
      out = fields_[slot];
      return true;
    }
    return read_field(slot, out);
  }
  // As field(), a pointer to the value (valid until reset()); null on an error.
  const Value* field_ptr(uint32_t slot) {
    if (loaded_ && !load_failed_ && !field_failed_[slot]) return &fields_[slot];
    Value v;
    return read_field(slot, v) ? &fields_[slot] : nullptr;
  }
  // Records an error (the first one of the event wins) and returns false.
  bool fail(std::string message);
  int64_t now();
  // Whether the event holds the field in `slot` (after field(slot)), even as null.
  bool present(uint32_t slot) const { return present_[slot] != 0; }
  const ScopeOptions& scope_options() const { return scope_.options(); }
  simdjson::ondemand::parser& sub_parser() { return sub_parser_; }

 private:
  struct Node;
  bool read_field(uint32_t slot, Value& out);
  bool load();
  enum class Next { kMore, kDone, kBad };
  Next after_member(const char*& p, char close);
  bool scan_object(const char*& p, const Node& node);
  bool scan_array(const char*& p, const Node& node);
  bool scan_member(const char*& p, const Node& node);
  bool scan_leaf(const char*& p, uint32_t slot);
  bool scan_string(const char*& p, std::string_view& content, bool& escaped);
  bool skip_value(const char*& p);
  bool unescape(std::string_view raw, std::string_view& out);
  bool leaf_time(uint32_t slot, std::string_view text, bool number);
  bool not_a_time(uint32_t slot);

  const Scope& scope_;
  time::Clock* clock_;
  std::unique_ptr<time::Clock> own_clock_;
  json::Event* event_ = nullptr;
  std::vector<Value> vars_;
  std::vector<Value> fields_;
  std::vector<Node> nodes_;                // the trie of field paths; 0 is the root
  std::vector<std::string> field_errors_;  // per slot, set when reading it failed
  std::vector<uint8_t> field_failed_;
  std::vector<uint8_t> present_;
  uint64_t generation_ = 0;
  int32_t time_slot_ = -1;
  bool loaded_ = false;
  bool load_failed_ = false;
  const char* line_end_ = nullptr;  // the end of the event line
  bool failed_ = false;
  std::string error_;
  Arena arena_;
  std::string scratch_;  // unescaping; its capacity is kept
  simdjson::ondemand::parser sub_parser_;
};

}  // namespace ev::expr
