// JSON Schema draft 2020-12 validation core.
//
// A Schema is compiled once (compile_file / compile_text) into an immutable vector of
// nodes: keyword data is pre-converted (required names, enum/const values, RE2 patterns,
// numeric bounds) and every $ref is resolved at compile time to a node index, so
// validation never re-reads the schema text. Recursive references are fine: a $ref is
// an index followed lazily during validation, with a guard (kMaxRefDepth references
// in a row without a step into the instance) that turns an infinite loop into a
// violation instead of a stack overflow; recursion that follows the instance is
// bounded by how deeply simdjson lets a document nest. A repeated key in a schema
// object is a schema error. uniqueItems compares long arrays by hash (n log n).
//
// Supported: type, enum, const, required, properties, patternProperties,
// additionalProperties, propertyNames, min/maxProperties, dependentRequired,
// dependentSchemas, minimum, maximum, exclusiveMinimum, exclusiveMaximum, multipleOf,
// minLength/maxLength (code points), pattern, format (via check_format when
// SchemaOptions::formats), items, prefixItems, contains/minContains/maxContains,
// min/maxItems, uniqueItems (JSON Schema equality: 1 == 1.0, objects unordered),
// allOf/anyOf/oneOf/not, if/then/else, boolean schemas, $ref/$defs/$anchor/$id with
// RFC 3986 base-URI resolution (JSON Pointer fragments with ~0 ~1 and percent-decoding),
// references to other local files (SchemaOptions::schema_dir, uri_map, file: URIs),
// $dynamicRef/$dynamicAnchor (dynamic scope = the schema resources entered during
// validation), and unevaluatedProperties/unevaluatedItems (annotations collected through
// allOf, anyOf, oneOf, if/then/else, $ref, $dynamicRef and dependentSchemas).
//
// Out of scope: $vocabulary and $schema are ignored (all vocabularies are on, and no
// metaschema is fetched: a $ref to https://json-schema.org/... resolves only if it is
// mapped to a local file); content* keywords are annotations only; "default" is not
// applied here. Unknown keywords are ignored. "format" asserts when
// SchemaOptions::formats is set (the 2020-12 default is annotation-only, so the official
// test suite runs with formats off).
//
// Patterns use RE2 with an unanchored search over UTF-8. Where ECMA-262 differs: RE2 has
// no lookaround and no backreferences (such a pattern is a schema error); \uXXXX is
// translated to \x{XXXX} and long Unicode property names to RE2's short ones
// (\p{Letter} -> \p{L}); \d, \w and \b are ASCII in both; \s in RE2 is ASCII whitespace
// only (ECMA-262 also matches Unicode spaces); '.' does not match '\n' in either.
//
// A malformed schema (a keyword of the wrong type, a bad regex, an unresolvable $ref, a
// file that is not JSON) is an ErrorKind::kUsage error naming the file and schema path.
//
// Thread-safety: a compiled Schema is immutable; validate() may be called from several
// threads at once (scratch buffers are thread_local). Validation first computes only the
// verdict (stopping at the first failure, tracking no paths); an invalid instance is then
// evaluated again to collect its violations, so only failures pay for messages. A valid
// instance is validated without allocating once the thread's scratch buffers are warm,
// except under unevaluatedProperties/unevaluatedItems (small per-call annotation
// vectors) and on the first propertyNames check of a thread (a key parser). Time is
// linear in instance size times schema size (uniqueItems: n log n in the array
// length), except anyOf/oneOf (every branch may be tried).
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "libcore/base/status.h"
#include "libcore/json/edit.h"

namespace ev::validate {

// One failed assertion.
struct Violation {
  std::string instance_path;  // JSON Pointer into the instance, e.g. "/device/os"
  std::string keyword;        // "type", "required", ...
  std::string schema_path;    // JSON Pointer into the schema, e.g. "/properties/os/enum"
  std::string message;        // one line, e.g. "expected one of [\"ios\",\"android\"], got \"x\""
};

struct SchemaOptions {
  bool formats = true;     // assert "format"
  std::string schema_dir;  // other local schema files (*.json), found by $id or file name
  // URI prefix -> local directory; e.g. {"http://localhost:1234/", "suite/remotes"} loads
  // "http://localhost:1234/a/b.json" from "suite/remotes/a/b.json".
  std::vector<std::pair<std::string, std::string>> uri_map;
};

inline constexpr int kMaxRefDepth = 512;

struct NormalizeOptions {
  bool defaults = false;  // add missing properties that have a "default"
  bool coerce = false;    // numeric and "true"/"false" strings where the type asks for them
};

class Schema {
 public:
  // Reads and compiles a schema file; its base URI is "file://" + its absolute path.
  // Fails with kUsage (naming the file and the schema path) on any schema error, and
  // with kUsage if the file cannot be read.
  static Result<Schema> compile_file(const std::string& path, const SchemaOptions& options);
  // Compiles schema text. `base_uri` is the retrieval URI (may be empty); an $id in the
  // schema overrides it. Errors name `base_uri` (or "schema" when empty).
  static Result<Schema> compile_text(std::string_view json, const std::string& base_uri,
                                     const SchemaOptions& options);

  // Validates `instance`. Appends at most `max_errors` violations to `out` (all of them,
  // up to the bound: per schema object in keyword order, object members in instance
  // order). anyOf/oneOf/not/if report one violation of their own, not their branches'.
  // Returns true if the instance is valid; the result is exact whatever `max_errors` is
  // (0 means: only the verdict). `out` is only appended to.
  bool validate(simdjson::dom::element instance, std::vector<Violation>& out,
                size_t max_errors = 100) const;

  // Plans the normalization of `instance` as edits of its text (json/edit.h), which
  // the caller applies before validating. It follows properties, prefixItems, items,
  // $ref and allOf, not the branches of anyOf/oneOf/not/if/dependentSchemas (which
  // depend on the data, as in other validators' "useDefaults"):
  //  - defaults: a property missing from an object whose subschema (or its $ref) has
  //    a "default" is added with that value (canonical JSON), at the object's end; the
  //    added value is not normalized further.
  //  - coerce: a string where the subschema's "type" (or its $ref's / allOf's) does not
  //    allow strings becomes a number if the type allows "number" (or "integer" and
  //    the string is an integer) and the string is a JSON number, written as it was
  //    spelled ("12.50" -> 12.50), or a boolean if the type allows "boolean" and the
  //    string is "true" or "false".
  // Appends to `out`.
  void plan_normalization(simdjson::dom::element instance, const NormalizeOptions& options,
                          std::vector<json::Edit>& out) const;

  // Number of compiled schema nodes (for tests and diagnostics).
  size_t node_count() const;

  Schema(Schema&&) noexcept;
  Schema& operator=(Schema&&) noexcept;
  ~Schema();

  struct Impl;

 private:
  explicit Schema(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ev::validate
