// Editing a JSON text without re-serializing it: find a value's bytes by location,
// replace values, add members to objects. Everything not edited stays byte for byte
// (number spelling, key order, whitespace).
//
// Used by normalizations that change a few values of an event (ev-validate's
// --coerce, --apply-defaults, --normalize-time). The text must be valid JSON (parse
// it first); the scanner trusts it and only skips strings and brackets, so a lookup
// costs one pass over the bytes before the value. Keys with escapes are unescaped
// before comparing. Where an object holds a key twice, the first one is found.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ev::json {

// One step from a JSON value into a member (by key) or an array element (by index).
struct Step {
  std::string key;
  size_t index = 0;
  bool is_index = false;
};
using Location = std::vector<Step>;

// The JSON Pointer of a location: "" for the root, "/device/os", "/items/0".
std::string to_pointer(const Location& at);
// Appends one reference token: '/', then `token` with '~' as "~0" and '/' as "~1".
void append_pointer_token(std::string& out, std::string_view token);
// Appends '/' and the decimal index.
void append_pointer_index(std::string& out, size_t index);

// The byte span [first, second) of the value at `at` in `doc`, or nullopt when the
// location does not exist.
std::optional<std::pair<size_t, size_t>> locate(std::string_view doc, const Location& at);

struct Edit {
  enum Kind { kReplace, kAddMember };
  Kind kind = kReplace;
  Location at;       // kReplace: the value replaced; kAddMember: the object added to
  std::string key;   // kAddMember: the new member's key (unescaped)
  std::string json;  // the new value, JSON text
};

// Appends `doc` with `edits` applied. An edit whose location does not exist, an
// kAddMember whose target is not an object or already has the key, and an edit inside
// a value another edit replaces are skipped. Returns the number of edits applied.
size_t apply_edits(std::string& out, std::string_view doc, const std::vector<Edit>& edits);

}  // namespace ev::json
