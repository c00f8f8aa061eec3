#include "libcore/enrich/load.h"

#include <algorithm>

#include "libcore/io/byte_source.h"
#include "libcore/io/line_reader.h"
#include "libcore/json/event.h"

namespace ev::enrich {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// Cells of one record as views: into the record itself, or, for cells that needed
// decoding (quotes, TSV escapes), into `decoded`, which is reserved up front so the
// views stay valid. Reused across records: no allocation once warm.
struct Cells {
  std::vector<std::string_view> views;
  std::string decoded;

  void reset(size_t record_size) {
    views.clear();
    decoded.clear();
    if (decoded.capacity() < record_size) decoded.reserve(record_size * 2);
  }
};

// Splits one CSV record (RFC 4180) into cells; `record` may hold newlines inside
// quotes. False when a quote is left open (the caller joins the next line).
bool split_csv(std::string_view record, Cells& cells, std::string& why) {
  cells.reset(record.size());
  size_t i = 0;
  for (;;) {
    if (i < record.size() && record[i] == '"') {
      ++i;
      const size_t start = cells.decoded.size();
      for (;;) {
        if (i >= record.size()) return false;
        const size_t q = record.find('"', i);
        if (q == std::string_view::npos) return false;
        cells.decoded.append(record.substr(i, q - i));
        if (q + 1 < record.size() && record[q + 1] == '"') {
          cells.decoded.push_back('"');
          i = q + 2;
          continue;
        }
        i = q + 1;
        break;
      }
      cells.views.push_back(std::string_view(cells.decoded).substr(start));
      if (i < record.size() && record[i] != ',') {
        why = "text after a closing quote";
        return true;
      }
    } else {
      size_t end = record.find(',', i);
      if (end == std::string_view::npos) end = record.size();
      const std::string_view cell = record.substr(i, end - i);
      if (cell.find('"') != std::string_view::npos) {
        why = "quote inside an unquoted field";
        return true;
      }
      cells.views.push_back(cell);
      i = end;
    }
    if (i >= record.size()) return true;
    ++i;  // the comma
  }
}

void split_tsv(std::string_view line, Cells& cells) {
  cells.reset(line.size());
  size_t i = 0;
  for (;;) {
    size_t end = line.find('\t', i);
    if (end == std::string_view::npos) end = line.size();
    const std::string_view raw = line.substr(i, end - i);
    if (raw.find('\\') == std::string_view::npos) {
      cells.views.push_back(raw);
    } else {
      const size_t start = cells.decoded.size();
      for (size_t k = 0; k < raw.size(); ++k) {
        char c = raw[k];
        if (c == '\\' && k + 1 < raw.size()) {
          char n = raw[k + 1];
          char d = n == 't' ? '\t' : n == 'n' ? '\n' : n == 'r' ? '\r' : n == '\\' ? '\\' : 0;
          if (d != 0) {
            cells.decoded.push_back(d);
            ++k;
            continue;
          }
        }
        cells.decoded.push_back(c);
      }
      cells.views.push_back(std::string_view(cells.decoded).substr(start));
    }
    if (end >= line.size()) return;
    i = end + 1;
  }
}

std::unexpected<Error> too_many(const FileTableOptions& o) {
  return data_error("more than --max-rows " + std::to_string(o.max_rows) + " rows", o.path);
}

Result<LoadedTable> load_delimited(io::LineReader& reader, const FileTableOptions& o, bool tsv,
                                   const Selection& selection) {
  LoadedTable loaded{std::make_unique<Table>(o.placement), 0};
  std::vector<std::string> header;
  Cells cells;
  std::string record, why, values;
  std::vector<size_t> ends;
  std::vector<Field> fields;
  std::vector<std::pair<int, size_t>> order;  // rank, column
  size_t key_col = SIZE_MAX;
  uint64_t start_line = 0, last_line = 0;
  bool have_header = false;
  bool joined = false;
  io::Line line;
  for (;;) {
    if (joined) {
      record.clear();
      joined = false;
    }
    auto got = reader.next(line);
    if (!got) return std::unexpected(got.error());
    if (!*got) {
      if (!record.empty()) {
        return data_error("unterminated quoted field", o.path + ":" + std::to_string(start_line));
      }
      break;
    }
    if (line.oversize) {
      return data_error("line longer than the line bound",
                        o.path + ":" + std::to_string(line.number));
    }
    bool complete = true;
    why.clear();
    if (tsv) {
      start_line = line.number;
      split_tsv(line.text, cells);
    } else if (record.empty()) {
      // The common case: a record on one line, split in place.
      start_line = line.number;
      complete = split_csv(line.text, cells, why);
      if (!complete) {
        record.assign(line.text);
        last_line = line.number;
        continue;
      }
    } else {
      // Skipped blank lines inside quotes were newlines of the field.
      record.append(line.number - last_line, '\n');
      record.append(line.text);
      last_line = line.number;
      complete = split_csv(record, cells, why);
      if (!complete) continue;
      joined = true;  // the cells point into `record`: cleared after this row
    }
    auto where = [&] { return o.path + ":" + std::to_string(start_line); };
    if (!why.empty()) return data_error(why, where());
    if (!have_header) {
      header.assign(cells.views.begin(), cells.views.end());
      have_header = true;
      for (size_t c = 0; c < header.size(); ++c) {
        if (header[c] == o.key_field) key_col = c;
        int r = selection.rank(header[c]);
        if (r >= 0) order.emplace_back(r, c);
      }
      if (key_col == SIZE_MAX) {
        return data_error("no column named " + o.key_field + " in the header", where());
      }
      std::sort(order.begin(), order.end());
      continue;
    }
    if (cells.views.size() != header.size()) {
      return data_error(std::to_string(cells.views.size()) + " fields where the header has " +
                            std::to_string(header.size()),
                        where());
    }
    values.clear();
    ends.clear();
    for (auto [rank, c] : order) {
      append_cell_json(values, cells.views[c]);
      ends.push_back(values.size());
    }
    fields.clear();
    size_t begin = 0;
    for (size_t k = 0; k < order.size(); ++k) {
      fields.push_back(
          Field{header[order[k].second], std::string_view(values).substr(begin, ends[k] - begin)});
      begin = ends[k];
    }
    if (loaded.table->put(cells.views[key_col], fields)) ++loaded.duplicates;
    if (o.max_rows != 0 && loaded.table->rows() > o.max_rows) return too_many(o);
  }
  if (!have_header) return data_error("no header row", o.path);
  return loaded;
}

Result<LoadedTable> load_jsonl(io::LineReader& reader, const FileTableOptions& o,
                               const Selection& selection) {
  LoadedTable loaded{std::make_unique<Table>(o.placement), 0};
  RowReader rows(selection);
  io::Line line;
  for (;;) {
    auto got = reader.next(line);
    if (!got) return std::unexpected(got.error());
    if (!*got) break;
    const std::string where = o.path + ":" + std::to_string(line.number);
    if (line.oversize) return data_error("line longer than the line bound", where);
    if (auto st = rows.read(line.text, o.key_field); !st) {
      return data_error(st.error().message, where);
    }
    if (loaded.table->put(rows.key(), rows.fields())) ++loaded.duplicates;
    if (o.max_rows != 0 && loaded.table->rows() > o.max_rows) return too_many(o);
  }
  return loaded;
}

}  // namespace

Selection::Selection(std::vector<std::string> select, std::string key_field)
    : select_(std::move(select)), key_field_(std::move(key_field)) {}

int Selection::rank(std::string_view name) const {
  if (select_.empty()) return name == key_field_ ? -1 : 0;
  for (size_t i = 0; i < select_.size(); ++i) {
    if (select_[i] == name) return static_cast<int>(i);
  }
  return -1;
}

Status RowReader::read(std::string_view json, std::string_view key_field) {
  ranked_.clear();
  fields_.clear();
  key_ = {};
  bool have_key = key_field.empty();
  simdjson::ondemand::document doc;
  auto err =
      parser_.iterate(json.data(), json.size(), json.size() + simdjson::SIMDJSON_PADDING).get(doc);
  simdjson::ondemand::object obj;
  if (!err) err = doc.get_object().get(obj);
  if (err) return data_error(json::describe(err));
  for (auto member : obj) {
    std::string_view name;
    if (auto e = member.unescaped_key().get(name); e) return data_error(json::describe(e));
    simdjson::ondemand::value value;
    if (auto e = member.value().get(value); e) return data_error(json::describe(e));
    const bool is_key = !have_key && name == key_field;
    const int rank = selection_.rank(name);
    auto text = json::raw_text(value);
    if (!text) return std::unexpected(text.error());
    if (is_key) {
      auto key = key_from_json(*text, key_scratch_);
      if (!key) {
        return data_error("key field " + std::string(key_field) + ": " + key.error().message);
      }
      key_ = *key;
      have_key = true;
    }
    if (rank < 0) continue;
    ranked_.emplace_back(rank, Field{name, *text});
  }
  // simdjson 3.0.1 has no document::at_end(): OUT_OF_BOUNDS says every token was read.
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS) {
    return data_error("trailing content after the object");
  }
  if (!have_key) return data_error("key field " + std::string(key_field) + ": missing");
  if (!selection_.all()) {
    std::stable_sort(ranked_.begin(), ranked_.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
  }
  for (auto& [rank, f] : ranked_) fields_.push_back(f);
  return {};
}

Result<FileFormat> parse_file_format(std::string_view name) {
  if (name == "jsonl" || name == "json") return FileFormat::kJsonl;
  if (name == "csv") return FileFormat::kCsv;
  if (name == "tsv") return FileFormat::kTsv;
  return usage_error("unknown table format '" + std::string(name) + "' (jsonl, csv or tsv)");
}

FileFormat format_of(std::string_view path) {
  for (std::string_view z : {".zst", ".zstd", ".gz"}) {
    if (ends_with(path, z)) path.remove_suffix(z.size());
  }
  if (ends_with(path, ".csv")) return FileFormat::kCsv;
  if (ends_with(path, ".tsv") || ends_with(path, ".tab")) return FileFormat::kTsv;
  return FileFormat::kJsonl;
}

Result<LoadedTable> load_file_table(const FileTableOptions& options) {
  auto source = io::open_source(options.path);
  if (!source) return std::unexpected(source.error());
  io::LineReader reader(std::move(*source));
  Selection selection(options.select, options.key_field);
  FileFormat format =
      options.format == FileFormat::kAuto ? format_of(options.path) : options.format;
  if (format == FileFormat::kJsonl) return load_jsonl(reader, options, selection);
  return load_delimited(reader, options, format == FileFormat::kTsv, selection);
}

}  // namespace ev::enrich
