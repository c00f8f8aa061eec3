// ev-enrich: joins each event with rows of lookup tables (DESIGN.md) — files that
// reload, Kafka topics read as tables, Redis.
//
// For each table the event's key field (--on EVENT_FIELD[=TABLE_FIELD]) is read and
// compared as text (enrich/table.h: a string's unescaped content, a number's
// spelling); the row's selected fields are spliced into the line (json/splice.h), at
// the top level (with --prefix) or inside one object (--into), replacing members of
// the same name; the rest of the line stays byte for byte. Every table looks its key
// up in the event as read (a table does not see fields another one added). An event
// no table adds anything to passes unchanged.
//
// A key the table lacks, a missing or null key field, follows --missing: keep (pass
// as is), drop, reject, or default (add the given fields). A key field holding an
// object or array is a bad event (--on-error).
//
// File tables load at start (an unreadable or malformed file is a usage error, exit
// 2). With reload they are checked every reload_every; a changed file (mtime, size or
// inode) is loaded by a background thread while events flow, then swapped in between
// two events; a file that fails to load leaves the old table in place, with a warning
// saying why. Kafka tables (enrich/kafka_table.h) apply updates before every event.
// Redis tables (enrich/redis_table.h) hold events in batches of `batch` (or until the
// input pauses, a control line, or the end) so each batch costs one pipelined round
// trip; the stage then holds events (Kafka offsets are committed after each batch is
// written). Counters per table in --stats: NAME_matched, NAME_missing, and
// NAME_rows/NAME_bytes/NAME_duplicates/NAME_reloads/NAME_reload_failures (files),
// NAME_updates/NAME_deletes (Kafka), NAME_cache_hits/NAME_lookups/NAME_round_trips
// (Redis). Not thread-safe (the loaders' threads hand results over under a lock).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "libcore/base/status.h"
#include "libcore/enrich/load.h"
#include "libcore/enrich/table.h"
#include "libcore/kafka/uri.h"
#include "libcore/pipeline/stage.h"
#include "libcore/time/clock.h"
#include "libcore/time/duration.h"

namespace ev::stages {

enum class Missing { kKeep, kDrop, kReject, kDefault };

struct EnrichTableOptions {
  std::string spec;         // a file path, kafka://…/topic or redis://host:port…
  std::string name;         // in --stats and messages; default: from the spec
  std::string event_field;  // --on left side (empty: Redis with key= in its URI)
  std::string table_field;  // --on right side; default event_field (file); message key (Kafka)
  std::vector<std::string> select;
  enrich::Placement placement;
  Missing missing = Missing::kKeep;
  std::string default_json;  // --missing default=JSON: an object
  enrich::FileFormat format = enrich::FileFormat::kAuto;
  bool reload = false;
  time::Duration reload_every = 1'000'000'000;
  bool wait_ready = false;
  uint64_t max_rows = 0;
  // Redis
  uint64_t cache_size = 100000;
  time::Duration cache_ttl = 60'000'000'000;
  time::Duration retry_for = 10'000'000'000;
};

struct EnrichOptions {
  std::vector<EnrichTableOptions> tables;
  size_t batch = 512;          // Redis: events per pipelined round trip
  bool fail_on_error = false;  // --on-error fail: a lost Redis ends the run (exit 3)
  // File and Kafka tables: overlap lookups in a short pipeline of events (which the
  // stage then holds: not with --exactly-once).
  bool pipeline = true;
  kafka::KafkaOptions kafka;
  time::Clock* clock = nullptr;  // default: the system clock
};

// "default=JSON" and the rest of --missing. Fails with kUsage.
Status parse_missing(std::string_view text, EnrichTableOptions& table);
// The table's default name: a file's base name without extensions, a Kafka topic,
// "redis".
std::string default_table_name(std::string_view spec);

// The options that belong to one table: each applies to the --table before it.
struct TableOptionSpec {
  std::string_view name;  // "--on"
  bool takes_value;
};
std::span<const TableOptionSpec> table_option_specs();
// Sets one table option from its command-line text. Fails with kUsage naming it.
Status set_table_option(EnrichTableOptions& table, std::string_view name, std::string_view value);
// Takes the table options out of argv (`--on F`, `--on=F`, flags) into the table of
// the --table (-t) before them, in order; --table itself stays for the parser. Stops
// at "--". Fails with kUsage for a table option before any --table or without its
// value. Returns the remaining arguments (argv[0] first, null-terminated).
Result<std::vector<char*>> take_table_options(int argc, char** argv,
                                              std::vector<EnrichTableOptions>& tables);

// Loads the file tables and connects to Kafka and Redis; --wait-ready waits here.
// Fails with kUsage (bad options, a file that does not load), kKafka or kIo.
Result<std::unique_ptr<pipeline::Stage>> make_enrich(EnrichOptions options);

}  // namespace ev::stages
