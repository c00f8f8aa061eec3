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
  w.key("line").value(static_cast<uint64_t>(info.line));
  if (json::is_valid_utf8(info.raw)) {
    w.key("raw").value(info.raw);
  } else {
    w.key("raw_base64");
    out.push_back('"');
    append_base64(out, info.raw);
    out.push_back('"');
  }
  if (info.truncated) {
    w.key("raw_truncated").value(true);
    w.key("length").value(static_cast<uint64_t>(info.length));
  }
  w.end_object();
}

}  // namespace ev::pipeline
