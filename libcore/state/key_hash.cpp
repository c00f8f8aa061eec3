#include "libcore/state/key_hash.h"

#include <utility>

#define XXH_INLINE_ALL  // header-only: lets the compiler inline XXH3 for short keys
#include <xxhash.h>

#include "libcore/json/canonical.h"

namespace ev::state {
namespace {

namespace od = simdjson::ondemand;

constexpr size_t kLengthBytes = 8;

// Writes `length` little-endian at buf[at], whatever the host byte order, so digests
// are the same on every platform.
void store_length(std::string& buf, size_t at, uint64_t length) {
  for (size_t i = 0; i < kLengthBytes; ++i) {
    buf[at + i] = static_cast<char>((length >> (8 * i)) & 0xFF);
  }
}

char tag_for(od::json_type type) {
  switch (type) {
    case od::json_type::object:
      return key_tag::kObject;
    case od::json_type::array:
      return key_tag::kArray;
    case od::json_type::string:
      return key_tag::kString;
    case od::json_type::number:
      return key_tag::kNumber;
    case od::json_type::boolean:
      return key_tag::kBool;
    case od::json_type::null:
      return key_tag::kNull;
  }
  return key_tag::kMissing;
}

}  // namespace

KeyHasher::KeyHasher() { buf_.reserve(256); }

KeyHasher::~KeyHasher() = default;

void KeyHasher::reset() { buf_.clear(); }

template <class Fill>
Status KeyHasher::add_tagged(char tag, Fill&& fill) {
  // Header first, payload straight after it, then the length is patched in.
  const size_t header = buf_.size();
  buf_.push_back(tag);
  buf_.append(kLengthBytes, '\0');
  const size_t payload = buf_.size();
  if (Status st = fill(buf_); !st) {
    buf_.resize(header);
    return st;
  }
  store_length(buf_, header + 1, buf_.size() - payload);
  return {};
}

Status KeyHasher::add(simdjson::ondemand::value value) {
  od::json_type type;
  if (auto error = value.type().get(type)) {
    return data_error(std::string("malformed JSON: ") + simdjson::error_message(error));
  }
  return add_tagged(tag_for(type), [&](std::string& buf) -> Status {
    if (type != od::json_type::string) return json::append_canonical(value, buf);
    // The unescaped bytes identify a string exactly as its canonical text does.
    auto bytes = json::string_bytes(value);
    if (!bytes) return std::unexpected(std::move(bytes.error()));
    buf.append(*bytes);
    return {};
  });
}

Status KeyHasher::add_document(simdjson::ondemand::document& doc) {
  return add_tagged(key_tag::kObject,
                    [&](std::string& buf) { return json::append_canonical(doc, buf); });
}

void KeyHasher::add_missing() { add_bytes(key_tag::kMissing, {}); }

void KeyHasher::add_bytes(char tag, std::string_view bytes) {
  const size_t header = buf_.size();
  buf_.push_back(tag);
  buf_.append(kLengthBytes, '\0');
  store_length(buf_, header + 1, bytes.size());
  buf_.append(bytes);
}

uint64_t KeyHasher::digest64() const { return XXH3_64bits(buf_.data(), buf_.size()); }

Hash128 KeyHasher::digest128() const {
  XXH128_hash_t h = XXH3_128bits(buf_.data(), buf_.size());
  return Hash128{h.low64, h.high64};
}

}  // namespace ev::state
