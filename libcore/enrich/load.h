// Loading lookup tables: which fields of a row are kept (Selection), rows from JSON
// objects (files, Kafka messages, Redis values), and whole table files (JSON Lines,
// CSV, TSV; .zst/.gz by name) into a Table.
//
// CSV follows RFC 4180: a header row names the fields, fields may be quoted ("" is a
// quote inside), a quoted field may hold commas and newlines; CRLF is accepted. TSV
// splits on tabs with no quoting; the escapes \t \n \r \\ in a cell are decoded (as
// Miller and PostgreSQL's text format write them). A cell spelled as a JSON number
// becomes a number, anything else a string (append_cell_json). A JSON Lines table has
// one object per line; its values are kept byte for byte (nested ones too).
// Errors name the file and line. Not thread-safe; a loader runs on one thread.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "libcore/base/status.h"
#include "libcore/enrich/table.h"

namespace ev::enrich {

// The fields a table adds: those named by --select, in that order; without --select,
// every field except the key field, in the row's order.
class Selection {
 public:
  Selection(std::vector<std::string> select, std::string key_field);
  // The field's place in the output order, or -1 when it is not added.
  int rank(std::string_view name) const;
  bool all() const { return select_.empty(); }
  const std::vector<std::string>& names() const { return select_; }

 private:
  std::vector<std::string> select_;
  std::string key_field_;
};

// Builds rows from JSON objects, reusing its buffers.
class RowReader {
 public:
  explicit RowReader(const Selection& selection) : selection_(selection) {}
  // Reads object text `json` (followed by SIMDJSON_PADDING readable bytes): the selected
  // fields into fields(), and, when `key_field` is not empty, that field's key text
  // into key() (a missing key field, null or a container is an error naming it).
  // The views stay valid until the next read.
  Status read(std::string_view json, std::string_view key_field);
  std::string_view key() const { return key_; }
  const std::vector<Field>& fields() const { return fields_; }

 private:
  const Selection& selection_;
  simdjson::ondemand::parser parser_;
  std::vector<std::pair<int, Field>> ranked_;
  std::vector<Field> fields_;
  std::string key_scratch_;
  std::string_view key_;
};

enum class FileFormat { kAuto, kJsonl, kCsv, kTsv };

// "jsonl", "csv", "tsv" (kUsage otherwise).
Result<FileFormat> parse_file_format(std::string_view name);
// The format a path's name implies (.csv, .tsv, anything else JSON Lines), looking
// past .zst/.gz.
FileFormat format_of(std::string_view path);

struct FileTableOptions {
  std::string path;
  FileFormat format = FileFormat::kAuto;
  std::string key_field;  // the table's key column
  std::vector<std::string> select;
  Placement placement;
  uint64_t max_rows = 0;  // 0: no bound
};

struct LoadedTable {
  std::unique_ptr<Table> table;
  uint64_t duplicates = 0;  // rows whose key an earlier row had (the last one wins)
};

// Reads the whole file. Fails with kData (file:line: reason) on a malformed row, a
// row without the key field, or more than max_rows rows; kIo when it cannot be read.
Result<LoadedTable> load_file_table(const FileTableOptions& options);

}  // namespace ev::enrich
