#include "libcore/json/event_time.h"

#include <string_view>

#include "libcore/json/canonical.h"

namespace ev::json {
namespace od = simdjson::ondemand;

Result<time::Timestamp> time_of(od::value value, time::EpochUnit unit) {
  od::json_type type;
  if (auto err = value.type().get(type)) return data_error(describe(err));
  if (type == od::json_type::string) {
    auto text = string_bytes(value);
    if (!text) return std::unexpected(text.error());
    return time::parse_time_text(*text, unit);
  }
  if (type == od::json_type::number) {
    auto token = raw_text(value);
    if (!token) return std::unexpected(token.error());
    return time::parse_epoch_text(*token, unit);
  }
  return data_error("expected an RFC 3339 string or an epoch number");
}

Result<time::Timestamp> event_time(Event& event, const FieldPath& path, time::EpochUnit unit) {
  od::value value;
  auto found = event.find(path, value);
  if (!found) return std::unexpected(found.error());
  if (*found == Found::kMissing) return data_error("time field " + path.text() + ": missing");
  auto t = time_of(value, unit);
  if (!t) return data_error("time field " + path.text() + ": not a time: " + t.error().message);
  return t;
}

}  // namespace ev::json
