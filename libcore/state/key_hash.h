// Key hashing: the identity of an event for dedupe, grouping and partitioning.
//
// A key is one or more field values. Each value is fed to XXH3 as a one-byte type
// tag followed by its canonical bytes (json/canonical.h), so:
//   - {"id":1} and {"id":"1"} are different keys (number vs string tag);
//   - a missing field and null are different keys (tags kMissing vs kNull);
//   - "\u0041" and "A" are the same key (strings compared unescaped);
//   - {"a":1,"b":2} and {"b":2,"a":1} are the same key (object members sorted);
//   - 1 and 1.0 are different keys (numbers compared by their spelling).
// Field boundaries are length-prefixed, so ("ab","c") and ("a","bc") differ.
// Byte layout of one field: tag, the payload length as 8 bytes little-endian, payload.
// The payload of a string is its unescaped UTF-8 bytes (the same identity as its
// canonical text, without re-escaping it); of anything else, its canonical JSON text;
// of a missing field, nothing. The layout is part of the digest: changing it changes
// every stored key (key_hash_test pins a digest).
// 64-bit (XXH3_64) and 128-bit (XXH3_128) digests; the seed is fixed (0) so digests
// are stable across runs and versions. Not thread-safe; reuse one hasher per thread.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "libcore/base/status.h"

namespace ev::state {

// One-byte type tags. Tags 0x00-0x0F are reserved for these; add_bytes() callers pick
// another value so their keys never equal a JSON key.
namespace key_tag {
inline constexpr char kMissing = 0x01;
inline constexpr char kNull = 0x02;
inline constexpr char kBool = 0x03;
inline constexpr char kNumber = 0x04;
inline constexpr char kString = 0x05;
inline constexpr char kArray = 0x06;
inline constexpr char kObject = 0x07;
}  // namespace key_tag

struct Hash128 {
  uint64_t low = 0;
  uint64_t high = 0;
  bool operator==(const Hash128&) const = default;
};

class KeyHasher {
 public:
  KeyHasher();
  ~KeyHasher();
  KeyHasher(const KeyHasher&) = delete;
  KeyHasher& operator=(const KeyHasher&) = delete;

  // Starts a new key.
  void reset();
  // Adds one field value (consumed). Fails with kData on malformed JSON or nesting deeper
  // than json::kMaxCanonicalDepth; the key is then unchanged.
  Status add(simdjson::ondemand::value value);
  // Adds a whole document (an object) as one value: the key of the whole event.
  Status add_document(simdjson::ondemand::document& doc);
  // Adds a field that the event does not have.
  void add_missing();
  // Adds raw bytes with a caller-chosen tag (for keys that are not JSON values).
  void add_bytes(char tag, std::string_view bytes);

  uint64_t digest64() const;
  Hash128 digest128() const;

 private:
  template <class Fill>
  Status add_tagged(char tag, Fill&& fill);
  // Tagged, length-prefixed canonical bytes of the key so far. Values are canonicalized
  // straight into it, so a warm hasher does not allocate.
  std::string buf_;
};

}  // namespace ev::state
