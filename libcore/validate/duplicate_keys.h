// Duplicate keys: RFC 8259 says names "SHOULD be unique" and leaves duplicates to the
// implementation; parsers disagree on which one wins (simdjson and many validators see
// the first, jq and JavaScript the last). A schema check on such an object would
// check a value other tools may not read, so ev-validate treats an object with a
// repeated key as a bad event.
//
// Keys are compared after unescaping ("a" and "\u0061" are the same key). Cost: for
// objects of up to 32 members a pairwise comparison decided mostly by length;
// larger objects sort their keys. Allocation-free for small objects. Thread-safe.
#pragma once

#include <simdjson.h>

#include <string>

namespace ev::validate {

// True when some object in `e` (at any depth) holds a key twice; `pointer` is then
// the JSON Pointer of the first such key ("/device/os").
bool find_duplicate_key(simdjson::dom::element e, std::string& pointer);

}  // namespace ev::validate
