#include "libcore/pipeline/envelope.h"

#include "libcore/json/json_writer.h"

namespace ev::pipeline {

void append_base64(std::string& out, std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  auto at = [&](size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    uint32_t v = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back(kAlphabet[v & 63]);
  }
  size_t rest = bytes.size() - i;
  if (rest == 1) {
    uint32_t v = at(i) << 16;
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.append("==");
  } else if (rest == 2) {
    uint32_t v = (at(i) << 16) | (at(i + 1) << 8);
    out.push_back(kAlphabet[(v >> 18) & 63]);
    out.push_back(kAlphabet[(v >> 12) & 63]);
    out.push_back(kAlphabet[(v >> 6) & 63]);
    out.push_back('=');
  }
}

void append_envelope(std::string& out, const RejectInfo& info) {
  json::JsonWriter w(out);
  w.begin_object();
  w.key("error").value(info.reason);
  if (!info.details.empty()) {
    out.push_back(',');
    out.append(info.details);
  }
  w.key("program").value(info.program);
  w.key("source").value(info.source);
  if (info.kafka) {
    w.key("topic").value(info.kafka->topic);
    w.key("partition").value(static_cast<int64_t>(info.kafka->partition));
    w.key("offset").value(info.kafka->offset);
    if (info.kafka->lines > 1) w.key("line").value(static_cast<uint64_t>(info.line));
  } else {
    w.key("line").value(static_cast<uint64_t>(info.line));
  }
  std::string_view raw = info.raw;
  bool utf8 = json::is_valid_utf8(raw);
  if (info.truncated && !utf8) {
    // The kept prefix may end inside a multi-byte character: drop that piece (at most 3
    // bytes) rather than carry an otherwise valid line as base64.
    for (size_t cut = 1; cut <= 3 && cut < info.raw.size() && !utf8; ++cut) {
      utf8 = json::is_valid_utf8(info.raw.substr(0, info.raw.size() - cut));
      if (utf8) raw = info.raw.substr(0, info.raw.size() - cut);
    }
  }
  // Built aside and handed to the writer, which keeps track of the commas.
  std::string text;
  if (utf8) {
    json::append_valid_json_string(text, raw);  // checked above: not twice
    w.key("raw").raw(text);
  } else {
    text.push_back('"');
    append_base64(text, info.raw);
    text.push_back('"');
    w.key("raw_base64").raw(text);
  }
  if (info.truncated) {
    w.key("raw_truncated").value(true);
    w.key("length").value(static_cast<uint64_t>(info.length));
  }
  w.end_object();
}

}  // namespace ev::pipeline
