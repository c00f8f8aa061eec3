// Deterministic synthetic user-interaction events, the data of demos, tests and
// benchmarks (ev-gen).
//
// Given the same options (and seed), the same sequence of lines is produced on every
// run and machine: a small fast PRNG (xoshiro256** seeded through splitmix64), integer
// draws and hand-written formatting; no locale, no libm, no std::random distributions,
// no wall clock (unless options.start is unset and pacing is real-time; the caller
// then passes the start time). Each event is one line of JSON, keys in this order:
//
//   {"event_id":"<32 hex>","user_id":"u000123","session_id":"s3f9a01c2",
//    "type":"page_view","ts":"2024-01-01T00:00:00.013Z","page":"/products/1042",
//    "amount":49.99,"country":"DE","device":{"os":"android","app_version":"5.2.1"},
//    "referrer":"https://www.google.com/"}
//
// (one line, no spaces; "amount" only on purchases, always two decimals). "referrer"
// is the previous page of the session as a full URL, or an external site / "" on a
// session's first event; it brings lines to a realistic ~275 bytes on average.
// - event_id is unique within a run for every generated event (64 random bits and a
//   bijective mix of the sequence number); a duplicate repeats it byte for byte.
// - user ids "u" + at least 6 digits, `users` of them, skewed: user i has activity
//   ~ 1/sqrt(i), so the lowest ids are the heavy users. country is fixed per user.
// - A session (id, device) lasts while the user's events are at most 30 minutes of
//   event time apart.
// - type mix: page_view 60 %, click 25 %, add_to_cart 8 %, purchase 3 %, search 3 %,
//   login 1 %; page follows the type (/products/N, /category/x, /, /cart,
//   /checkout, /search?q=..., /login).
// - Event time starts at options.start and advances by exponential gaps of mean
//   options.interval (Poisson arrivals), so normal events have non-decreasing ts.
//
// On request (each probability is clamped to [0, 1], NaN counts as 0; they partition
// the lines, and if they sum above 1 the later ones in this list get what is left)
// a line is:
// - a duplicate: a byte-exact copy of one of the last 1024 normal or late events;
//   it does not advance the clock;
// - malformed: a freshly generated event that is truncated, wrapped in an array,
//   replaced by a scalar, given invalid UTF-8 or a NUL byte inside a string, given
//   an impossible ts ("2024-13-45T99:..."), or missing its closing brace;
// - late: a new event whose ts lies in [now() - max_late, now()) at millisecond
//   resolution; it does not advance the clock. When max_late is below 1 ms no such
//   time exists and the event is emitted as a normal one.
// No line is empty or contains a newline; no key starts with "$".
//
// Memory is bounded: the duplicate pool keeps the last 1024 events; per-user session
// state is 32 bytes per user, in a direct-mapped table of min(users, 2^20) slots
// (at most 32 MiB; a user whose slot was taken over starts a new session). Once warm,
// next() does not allocate unless `out` must grow.
// Not thread-safe; one Generator per thread.
//
// ProfileGenerator writes the user table that belongs to these events (ev-gen
// --profiles): one line per user id, u000000 up to users - 1, in id order, keys in
// this order:
//
//   {"user_id":"u000123","tier":"free","signup":"2022-03-14","age":37,"lang":"de",
//    "ltv":12.50}
//
// - user_id is spelled exactly as in the events of the same `users`.
// - tier: free 70 %, plus 22 %, pro 8 %.
// - signup: a day in the 1826 days (five years) before the day of options.start.
// - age: 18 to 64 (18 plus two uniform draws: three users in four are 30 to 52).
// - lang: de, en, fr, es, pt, pl, nl or it: the language of the user's country in
//   the events (DE de, FR fr, ES/MX es, BR pt, PL pl, NL nl, IT it, CH de, everything
//   else en), except for one user in ten, who has one of the eight at random.
// - ltv: lifetime value with two decimals, by tier: free 0.00-29.99, plus
//   10.00-409.99, pro 50.00-3049.99, skewed to the low end.
// A user's row depends only on the seed, options.start's day and the user's number
// (not on `users`, except for the width of the id), so a smaller table is a prefix of
// a bigger one of the same id width. Rows have no "country": the events carry it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "libcore/time/duration.h"
#include "libcore/time/timestamp.h"

namespace ev::gen {

struct GenOptions {
  uint64_t seed = 1;
  uint64_t users = 1000;    // distinct user ids (0 means 1); activity is skewed
  double duplicates = 0.0;  // probability that a line repeats a recent event byte for byte
  double late = 0.0;        // probability that an event's ts is moved back by up to max_late
  time::Duration max_late = 60 * time::kNsPerSec;
  double malformed = 0.0;                                // probability that a line is a bad event
  time::Timestamp start = 1704067200 * time::kNsPerSec;  // 2024-01-01T00:00:00Z
  time::Duration interval = 10'000'000;  // mean event-time gap between events (10ms)
};

// What the last generated line was, for tests and statistics.
enum class LineKind { kNormal, kDuplicate, kLate, kMalformed };

class Generator {
 public:
  explicit Generator(const GenOptions& options);

  // Appends the next line (without a newline) to `out` and returns its kind.
  // Never fails; the line is at most 512 bytes.
  LineKind next(std::string& out);

  // Event time of the most recent non-late event: time advances monotonically.
  time::Timestamp now() const { return clock_; }

 private:
  // Per-user session state, one direct-mapped slot per user index modulo the table size.
  struct UserSlot {
    time::Timestamp last_ts = 0;  // latest event time of the current session
    uint64_t tag = 0;             // user index + 1; 0 = empty
    uint32_t session = 0;         // session number, printed through a bijective mix
    uint32_t page = 0;            // current page (kind << 24 | id), the next referrer
    uint16_t product = 0;         // last product viewed in the session
    uint8_t os = 0;               // device of the session
    uint8_t version = 0;
  };
  // Where the parts that malformed variants corrupt lie in a written event.
  struct Layout {
    size_t size = 0;
    size_t ts = 0;    // offset of the ts value (24 characters, inside the quotes)
    size_t page = 0;  // offset of the page value (inside the quotes)
    size_t page_size = 0;
    size_t event_id = 0;  // offset of the event_id value (32 characters)
  };

  uint64_t next_u64();
  uint64_t below(uint64_t n);  // uniform in [0, n), n > 0
  time::Duration draw_gap();
  time::Timestamp advance_clock();
  size_t write_line(char* p, LineKind& kind);
  void write_event(char* p, time::Timestamp ts, Layout& layout);
  size_t corrupt(char* p, const Layout& layout);
  char* write_ts(char* p, time::Timestamp ts);

  GenOptions opt_;
  time::Timestamp clock_;
  uint64_t s_[4];
  uint64_t seq_ = 0;       // events generated so far; mixed into event_id
  uint32_t sessions_ = 0;  // sessions started so far
  uint64_t id_key_ = 0;    // seed-derived keys for the bijective id mixes
  uint64_t user_key_ = 0;
  uint32_t session_key_ = 0;
  double cut_duplicate_ = 0, cut_malformed_ = 0, cut_late_ = 0;  // cumulative probabilities
  uint64_t users_ = 1;
  int user_width_ = 6;
  std::vector<UserSlot> slots_;
  std::vector<std::string> ring_;  // the last 1024 normal or late events
  uint64_t ring_count_ = 0;
  int64_t cached_day_;      // day of `day_text_`, days since the epoch
  char day_text_[11] = {};  // "YYYY-MM-DDT"
};

// The user table of the events of the same options (see above): only seed, users and
// start are used. Not thread-safe.
class ProfileGenerator {
 public:
  explicit ProfileGenerator(const GenOptions& options);

  // Appends the next user's row (without a newline) to `out`; false, appending
  // nothing, once all `users` rows were written.
  bool next(std::string& out);

  // Appends the row of user `user` (0-based, below users()) to `out`.
  void write(uint64_t user, std::string& out) const;

  uint64_t users() const { return users_; }

 private:
  uint64_t users_ = 1;
  int user_width_ = 6;
  uint64_t user_key_ = 0;     // as the events': the user's country
  uint64_t profile_key_ = 0;  // the rest of the row
  int64_t start_day_ = 0;     // day of options.start, days since the epoch
  uint64_t next_user_ = 0;
};

}  // namespace ev::gen
