#include "libcore/json/event.h"

#include <cstring>

namespace ev::json {

std::string kafka_where(const KafkaOrigin& origin, uint64_t line) {
  std::string w(origin.topic);
  w += '[' + std::to_string(origin.partition) + "]@" + std::to_string(origin.offset);
  if (origin.lines > 1) w += '#' + std::to_string(line);
  return w;
}

std::string Event::where() const {
  if (kafka_) return kafka_where(*kafka_, line_);
  std::string w(source_);
  w += ':';
  w += std::to_string(line_);
  return w;
}

std::string describe(simdjson::error_code code) {
  switch (code) {
    case simdjson::UTF8_ERROR:
      return "invalid UTF-8";
    case simdjson::UNCLOSED_STRING:
      return "invalid JSON: unclosed string";
    case simdjson::NUMBER_ERROR:
      return "invalid JSON: bad number";
    case simdjson::INCORRECT_TYPE:
      return "invalid JSON: unexpected type";
    case simdjson::DEPTH_ERROR:
      return "invalid JSON: nested too deeply";
    case simdjson::EMPTY:
      return "empty line";
    default:
      break;
  }
  return std::string("invalid JSON: ") + simdjson::error_message(code);
}

Result<simdjson::ondemand::document*> Event::doc() {
  auto d = iterate();
  if (!d) return d;
  if (touched_) doc_.rewind();
  touched_ = true;
  return d;
}

Result<simdjson::ondemand::document*> Event::iterate() {
  if (!parsed_) {
    // Cheap shape check first: every event is an object.
    size_t i = 0;
    while (i < raw_.size() && (raw_[i] == ' ' || raw_[i] == '\t')) ++i;
    if (i == raw_.size() || raw_[i] != '{') {
      return data_error("not a JSON object", where());
    }
    auto err = parser_.iterate(raw_.data(), raw_.size(), raw_.size() + simdjson::SIMDJSON_PADDING)
                   .get(doc_);
    if (err) return data_error(describe(err), where());
    may_escape_ = std::memchr(raw_.data(), '\\', raw_.size()) != nullptr;
    parsed_ = true;
    touched_ = false;
  }
  return &doc_;
}

simdjson::error_code find_member(simdjson::ondemand::object& obj, std::string_view key,
                                 bool may_escape, simdjson::ondemand::value& out) {
  auto err = obj.find_field_unordered(key).get(out);
  if (err != simdjson::NO_SUCH_FIELD || !may_escape) return err;
  // simdjson compares keys as written; a key spelled with escapes ("caf\u00e9") is
  // found by a second pass over the unescaped keys.
  if (auto e = obj.reset().error(); e) return e;
  for (auto field : obj) {
    std::string_view k;
    if (auto e = field.unescaped_key().get(k); e) return e;
    if (k == key) return field.value().get(out);
  }
  return simdjson::NO_SUCH_FIELD;
}

Result<Found> descend(simdjson::ondemand::value value, const FieldPath& path, size_t from,
                      simdjson::ondemand::value& out, bool may_escape) {
  const auto& segs = path.segments();
  simdjson::ondemand::value cur = value;
  for (size_t i = from; i < segs.size(); ++i) {
    const auto& seg = segs[i];
    simdjson::error_code err;
    if (seg.kind == PathSegment::Kind::kKey) {
      simdjson::ondemand::object obj;
      err = cur.get_object().get(obj);
      if (!err) err = find_member(obj, seg.key, may_escape, cur);
    } else {
      simdjson::ondemand::array arr;
      err = cur.get_array().get(arr);
      if (!err) err = arr.at(seg.index).get(cur);
    }
    if (err == simdjson::NO_SUCH_FIELD || err == simdjson::INDEX_OUT_OF_BOUNDS ||
        err == simdjson::INCORRECT_TYPE) {
      return Found::kMissing;
    }
    if (err) return data_error(describe(err));
  }
  out = cur;
  return Found::kYes;
}

Result<Found> Event::find(const FieldPath& path, simdjson::ondemand::value& out) {
  // Every lookup starts from a rewound document: resuming after a nested lookup is
  // not safe in simdjson 3.0.1, and measured no slower than a single pass here.
  auto d = doc();
  if (!d) return std::unexpected(d.error());
  const auto& first = path.segments().front();
  if (first.kind != PathSegment::Kind::kKey) return Found::kMissing;  // events are objects
  simdjson::ondemand::value cur;
  simdjson::ondemand::object root;
  auto err = (*d)->get_object().get(root);
  if (!err) err = find_member(root, first.key, may_escape_, cur);
  if (err == simdjson::NO_SUCH_FIELD || err == simdjson::INCORRECT_TYPE) return Found::kMissing;
  if (err) return data_error(describe(err), where());
  auto f = descend(cur, path, 1, out, may_escape_);
  if (!f) return std::unexpected(Error{f.error().kind, f.error().message, where()});
  return f;
}

Result<std::string_view> raw_text(simdjson::ondemand::value value) {
  simdjson::ondemand::json_type type;
  if (auto err = value.type().get(type); err) return data_error(describe(err));
  std::string_view text;
  simdjson::error_code err = simdjson::SUCCESS;
  switch (type) {
    case simdjson::ondemand::json_type::object: {
      simdjson::ondemand::object obj;
      err = value.get_object().get(obj);
      if (!err) err = obj.raw_json().get(text);
      break;
    }
    case simdjson::ondemand::json_type::array: {
      simdjson::ondemand::array arr;
      err = value.get_array().get(arr);
      if (!err) err = arr.raw_json().get(text);
      break;
    }
    default:
      text = value.raw_json_token();
      break;
  }
  if (err) return data_error(describe(err));
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                           text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

}  // namespace ev::json
