// Dedupe: exact deduplication by key over an event-time horizon, in bounded memory,
// with state that survives restarts.
//
// Key: the values of --key fields (state/key_hash.h: type-tagged, strings compared
// unescaped, objects with sorted members), or the whole event canonicalized. A
// missing key field is a bad event (--on-error); null is a value like any other.
// Digests are XXH3-128 (or 64-bit): two different keys collide with probability
// about n^2 / 2^129 for n live keys (n^2 / 2^65 with 64 bits).
//
// Horizon (--within W): a key is forgotten once the watermark passes its last
// sighting + W. The watermark is the largest event time seen minus --max-delay
// (or a larger one from a {"$ev":"watermark"} control line); with processing time
// it is the wall clock. Sightings are kept at a resolution of W/65536 and rounded
// down, so a key may be remembered up to W/65536 longer, never shorter. An event
// whose time is more than W before the watermark is late ("expired"): its key may
// have been forgotten, so --late decides (pass by default). Without --within keys
// are remembered until evicted, least recently seen first.
//
// --keep first passes the first event of a key at once and drops the repeats.
// --keep last holds each key's newest event (by event time; the later one on a tie)
// and emits it when the key's horizon closes, or at the end of the input.
//
// Memory: keep first stores 20 bytes per slot (12 with --hash 64) in a KeyTable
// (25-31 bytes per live key); keep last stores each held line plus about 100 bytes.
// --max-keys and --max-memory bound it; when full, the keys nearest expiry go first
// (keep last emits them early) and --stats counts them as "evicted".
//
// State (--state PATH): the keys, the watermark, and how far each input file was
// read, written atomically (state/snapshot.h) every --checkpoint-every, on a
// barrier control line, and when the run ends or is stopped (not after a failure:
// the last checkpoint stands). A restart restores it: files read to their end are
// skipped, the file being read resumes after the checkpointed line, and duplicates
// across the restart are dropped. Standard input cannot be resumed; the state still
// applies to it. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "libcore/base/status.h"
#include "libcore/pipeline/stage.h"
#include "libcore/time/clock.h"
#include "libcore/time/duration.h"
#include "libcore/time/timestamp.h"

namespace ev::stages {

enum class Keep { kFirst, kLast };
enum class Late { kPass, kDrop, kReject };

struct DedupeOptions {
  std::string program = "ev-dedupe";
  std::string key;                       // comma-separated field paths; empty: whole event
  int hash_bits = 128;                   // 128 or 64
  std::optional<time::Duration> within;  // the horizon; none: until evicted
  bool processing_time = false;          // the horizon in wall-clock time
  std::string time_field = "ts";
  time::EpochUnit time_unit = time::EpochUnit::kAuto;
  time::Duration max_delay = 0;
  Late late = Late::kPass;
  Keep keep = Keep::kFirst;
  uint64_t max_keys = 0;                // 0: no limit but memory
  uint64_t max_memory = 1ull << 30;     // bytes of key state
  std::string duplicates;               // sink for dropped repeats, or empty
  std::string state;                    // snapshot path, or empty
  time::Duration checkpoint_every = 10 * time::kNsPerSec;
  bool events_on_stdout = true;         // --duplicates - would mix with the events
  time::Clock* clock = nullptr;         // null: the system clock
};

// Checks the options, restores --state (kState when it is corrupt, foreign, or was
// written with another --key/--hash/--keep/--within) and opens --duplicates (kIo).
Result<std::unique_ptr<pipeline::Stage>> make_dedupe(const DedupeOptions& opt);

}  // namespace ev::stages
