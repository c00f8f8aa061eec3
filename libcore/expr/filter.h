// Filter: --where EXPR, the filter every program applies before its own work
// (ev-expr(7)). An event passes when the expression is true; false and null drop it.
// An expression that fails on an event (a type error, malformed JSON, an unreadable
// time field) makes the event a bad event, for the caller's --on-error.
// Not thread-safe: one Filter per runner.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "libcore/base/status.h"
#include "libcore/expr/expr.h"

namespace ev::expr {

// A condition (--where, a rule, --alert) that reads nothing from the event must
// still be a condition: a constant number, string or array is a usage error.
inline Status check_condition(const Expr& e, const Scope& scope) {
  if (!e.is_constant()) return {};
  Frame frame(scope);
  Value v;
  if (!e.eval(frame, v)) return usage_error(frame.error());
  if (v.type == Type::kBool || v.is_null()) return {};
  return usage_error(e.label() + ": a condition must be true or false; this one is always a " +
                     std::string(type_name(v.type)));
}

class Filter {
 public:
  enum class Verdict { kPass, kDrop, kError };

  // Compiles `text` (labelled "--where" in messages). Fails with kUsage.
  static Result<std::unique_ptr<Filter>> compile(std::string_view text, ScopeOptions opt,
                                                 time::Clock* clock = nullptr);

  Verdict test(json::Event& event) {
    frame_->reset(event);
    if (expr_.holds(*frame_)) return Verdict::kPass;
    if (frame_->failed()) return Verdict::kError;
    ++dropped_;
    return Verdict::kDrop;
  }
  // Why the last test() was kError: "--where, column 8: ...".
  const std::string& error() const { return frame_->error(); }
  uint64_t dropped() const { return dropped_; }

 private:
  Filter(std::unique_ptr<Scope> scope, Expr expr, time::Clock* clock)
      : scope_(std::move(scope)),
        expr_(std::move(expr)),
        frame_(std::make_unique<Frame>(*scope_, clock)) {}
  std::unique_ptr<Scope> scope_;
  Expr expr_;
  std::unique_ptr<Frame> frame_;
  uint64_t dropped_ = 0;
};

inline Result<std::unique_ptr<Filter>> Filter::compile(std::string_view text, ScopeOptions opt,
                                                       time::Clock* clock) {
  auto scope = std::make_unique<Scope>(std::move(opt));
  auto e = Expr::compile(text, *scope, "--where");
  if (!e) return std::unexpected(e.error());
  if (auto st = check_condition(*e, *scope); !st) return std::unexpected(st.error());
  return std::unique_ptr<Filter>(new Filter(std::move(scope), std::move(*e), clock));
}

}  // namespace ev::expr
