// Event time read from an event's time field (DESIGN.md, "Event time"): an RFC 3339
// string with any offset, or an epoch number (s/ms/us/ns by unit, or by magnitude
// under kAuto), also written as a string ("1714557600123"). The same rules in every
// program that reads event time. Pure; thread-safe.
#pragma once

#include <simdjson.h>

#include <string>

#include "libcore/base/status.h"
#include "libcore/json/event.h"
#include "libcore/json/field_path.h"
#include "libcore/time/timestamp.h"

namespace ev::json {

// The time in `value` (consumed). Fails with kData naming what is wrong ("not a time:
// ..."), without the field's name.
Result<time::Timestamp> time_of(simdjson::ondemand::value value, time::EpochUnit unit);

// The time in `event`'s field `path`. Fails with kData: "time field ts: missing" or
// "time field ts: not a time: <why>".
Result<time::Timestamp> event_time(Event& event, const FieldPath& path, time::EpochUnit unit);

}  // namespace ev::json
