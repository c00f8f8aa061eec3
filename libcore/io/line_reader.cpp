#include "libcore/io/line_reader.h"

#include <algorithm>
#include <cstring>

#include "libcore/base/stop.h"

namespace ev::io {
namespace {
constexpr size_t kChunk = 1u << 20;

bool is_blank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\r') return false;
  }
  return true;
}
}  // namespace

LineReader::LineReader(std::unique_ptr<ByteSource> source, size_t max_line)
    : source_(std::move(source)), max_line_(std::max<size_t>(max_line, 16)) {
  buf_.resize(2 * kChunk + kLinePadding);
}

void LineReader::reset(std::unique_ptr<ByteSource> source) {
  source_ = std::move(source);
  begin_ = end_ = scan_ = 0;
  eof_ = false;
  bom_checked_ = false;
  line_no_ = bytes_read_ = consumed_ = 0;
  stopped_ = false;
}

Result<bool> LineReader::fill() {
  if (eof_) return false;
  // Make room: move the unconsumed tail to the front, or grow for a long line.
  if (buf_.size() - kLinePadding - end_ < kChunk) {
    if (begin_ > 0) {
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      scan_ -= begin_;
      end_ -= begin_;
      begin_ = 0;
    }
    if (buf_.size() - kLinePadding - end_ < kChunk) buf_.resize(end_ + kChunk + kLinePadding);
  }
  if (before_block_ && !source_->ready()) {
    before_block_();
    while (!stop_requested() && !source_->wait_ready(idle_ms_)) before_block_();
  }
  size_t room = buf_.size() - kLinePadding - end_;
  auto got = source_->read(buf_.data() + end_, room);
  if (!got) return std::unexpected(got.error());
  if (*got == 0) {
    eof_ = true;
    // A source ends early when a stop is requested: what it holds of a line is not a
    // last line without a newline but a line cut short, which the next run reads whole.
    stopped_ = stop_requested();
    return false;
  }
  end_ += *got;
  bytes_read_ += *got;
  return true;
}

Result<bool> LineReader::next(Line& line) {
  for (;;) {
    if (!bom_checked_) {
      // Decided once three bytes are in, or a newline or the end comes first.
      if (end_ - begin_ >= 3) {
        if (std::memcmp(buf_.data() + begin_, "\xEF\xBB\xBF", 3) == 0) {
          begin_ += 3;
          scan_ = std::max(scan_, begin_);
          consumed_ += 3;
        }
        bom_checked_ = true;
      } else if (eof_ || std::memchr(buf_.data() + begin_, '\n', end_ - begin_) != nullptr) {
        bom_checked_ = true;
      }
    }
    char* nl = static_cast<char*>(std::memchr(buf_.data() + scan_, '\n', end_ - scan_));
    size_t line_end;
    size_t next_begin;
    if (nl != nullptr) {
      line_end = static_cast<size_t>(nl - buf_.data());
      next_begin = line_end + 1;
    } else if (end_ - begin_ > max_line_) {
      // Oversize: report a prefix, then discard up to and including the newline.
      ++line_no_;
      uint64_t length = end_ - begin_;
      line.number = line_no_;
      line.offset = consumed_;
      line.oversize = true;
      // Keep the prefix at the front of the buffer while the rest is skipped. (With a
      // --max-line below 1 KiB fewer bytes than that may be buffered.)
      const size_t prefix = std::min<size_t>(kOversizePrefix, end_ - begin_);
      std::memmove(buf_.data(), buf_.data() + begin_, prefix);
      begin_ = 0;
      end_ = prefix;
      scan_ = end_;
      size_t skip_from = prefix;
      for (;;) {
        // Drop everything after the prefix and read on until a newline.
        end_ = skip_from;
        auto more = fill();
        if (!more) return std::unexpected(more.error());
        if (!*more) break;
        char* p = static_cast<char*>(std::memchr(buf_.data() + skip_from, '\n', end_ - skip_from));
        if (p != nullptr) {
          size_t tail = static_cast<size_t>(buf_.data() + end_ - (p + 1));
          length += static_cast<size_t>(p - (buf_.data() + skip_from));
          std::memmove(buf_.data() + skip_from, p + 1, tail);
          end_ = skip_from + tail;
          break;
        }
        length += end_ - skip_from;
      }
      line.length = length;
      line.terminated = !eof_;
      line.text = std::string_view(buf_.data(), prefix);
      consumed_ += length + (eof_ ? 0 : 1);
      begin_ = prefix;
      scan_ = begin_;
      // The prefix stays readable until the next call; the next call starts after it.
      return true;
    } else if (eof_) {
      if (begin_ == end_ || stopped_) return false;
      line_end = end_;  // last line without a newline
      next_begin = end_;
    } else {
      scan_ = end_;
      auto more = fill();
      if (!more) return std::unexpected(more.error());
      continue;
    }

    ++line_no_;
    size_t start = begin_;
    uint64_t offset = consumed_;
    consumed_ += next_begin - begin_;
    begin_ = next_begin;
    scan_ = next_begin;
    size_t len = line_end - start;
    if (len > 0 && buf_[start + len - 1] == '\r') --len;
    std::string_view text(buf_.data() + start, len);
    if (text.empty() || ((text[0] == ' ' || text[0] == '\t') && is_blank(text))) continue;
    if (len > max_line_) {
      line.text = text.substr(0, kOversizePrefix);
      line.oversize = true;
      line.length = len;
    } else {
      line.text = text;
      line.oversize = false;
      line.length = len;
    }
    line.number = line_no_;
    line.offset = offset;
    line.terminated = nl != nullptr;
    return true;
  }
}

}  // namespace ev::io
