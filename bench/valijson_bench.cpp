// valijson_bench: the baseline that scripts/bench measures ev-validate against. It does what
// ev-validate does with valijson, a widely used C++ JSON Schema validator, over RapidJSON (the
// fastest of valijson's adapters that Debian packages): valid lines go to stdout byte for
// byte, invalid ones are counted.
//
//   valijson_bench SCHEMA.json < events.jsonl > valid.jsonl
//
// valijson 1.0 knows drafts 3, 4 and 7, not 2020-12, so the schema is read as draft 7;
// bench/event.schema.json uses only keywords that mean the same in both. valijson always
// asserts "format" (date, time, date-time), compiling a std::regex for every value checked:
// on ev-gen events that is ~99% of its time (~0.4 MB/s with "format", ~40 MB/s without).
//
// Built without VALIJSON_USE_EXCEPTIONS: with it, valijson turns every RAPIDJSON_ASSERT into a
// throwing check on the hot path. A bad schema is then reported and abort()ed on.
#ifdef __SSE4_2__
#define RAPIDJSON_SSE42  // RapidJSON's SIMD whitespace skipping, as our -march allows
#endif

#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <valijson/adapters/rapidjson_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/utils/rapidjson_utils.hpp>
#include <valijson/validator.hpp>
#include <vector>

namespace {

constexpr size_t kBufferSize = 1 << 20;  // one read(2) / write(2) per MiB

// Both the DOM and RapidJSON's parse stack live in these pools, cleared per line, so parsing
// does not call malloc (valijson's validation itself still allocates).
using Pool = rapidjson::MemoryPoolAllocator<>;
using Document = rapidjson::GenericDocument<rapidjson::UTF8<>, Pool, Pool>;

void write_all(const std::string& out) {
  for (size_t done = 0; done < out.size();) {
    const ssize_t n = write(STDOUT_FILENO, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::perror("valijson_bench: write");
      std::exit(1);
    }
    done += static_cast<size_t>(n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: valijson_bench SCHEMA.json < events.jsonl > valid.jsonl\n");
    return 2;
  }
  rapidjson::Document schema_doc;
  if (!valijson::utils::loadDocument(argv[1], schema_doc)) return 2;
  valijson::Schema schema;
  valijson::SchemaParser parser(valijson::SchemaParser::kDraft7);
  parser.populateSchema(valijson::adapters::RapidJsonAdapter(schema_doc), schema);
  valijson::Validator validator;  // one for all lines: it caches the compiled patterns

  static char value_buffer[1 << 16], stack_buffer[1 << 16];
  Pool values(value_buffer, sizeof value_buffer), stack(stack_buffer, sizeof stack_buffer);
  uint64_t valid = 0, invalid = 0;
  auto check = [&](const char* line, size_t size) {
    values.Clear();
    stack.Clear();
    Document doc(&values, 1024, &stack);
    // Invalid UTF-8 is rejected, as simdjson does for ev-validate.
    doc.Parse<rapidjson::kParseValidateEncodingFlag>(line, size);
    // No ValidationResults: valijson stops at the first failure and collects nothing.
    return !doc.HasParseError() &&
           validator.validate(schema, valijson::adapters::RapidJsonAdapter(doc), nullptr);
  };

  std::vector<char> in(kBufferSize);
  std::string out;
  out.reserve(2 * kBufferSize);
  size_t have = 0;
  for (bool eof = false; !eof;) {
    if (have == in.size()) in.resize(2 * in.size());  // a line longer than the buffer
    const ssize_t n = read(STDIN_FILENO, in.data() + have, in.size() - have);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      std::perror("valijson_bench: read");
      return 1;
    }
    have += static_cast<size_t>(n);
    eof = n == 0;
    size_t start = 0;
    while (start < have) {
      const char* nl = static_cast<const char*>(std::memchr(in.data() + start, '\n', have - start));
      if (!nl && !eof) break;  // an incomplete line: read more
      const size_t end = nl ? static_cast<size_t>(nl - in.data()) : have;
      if (check(in.data() + start, end - start)) {
        ++valid;
        out.append(in.data() + start, end - start).push_back('\n');
        if (out.size() >= kBufferSize) {
          write_all(out);
          out.clear();
        }
      } else {
        ++invalid;
      }
      start = nl ? end + 1 : have;
    }
    std::memmove(in.data(), in.data() + start, have - start);
    have -= start;
  }
  write_all(out);
  std::fprintf(stderr, "valid %llu invalid %llu\n", static_cast<unsigned long long>(valid),
               static_cast<unsigned long long>(invalid));
  return 0;
}
