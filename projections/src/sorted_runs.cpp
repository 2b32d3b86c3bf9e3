#include "projections/src/sorted_runs.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

namespace planning::detail {

namespace {

// A run record in the file: u32 key size, u32 value size, u64 ordinal (host
// byte order: the file never outlives the process), key, value.
constexpr std::size_t kHeader = 16;
// Bytes read from the file per refill of a run's buffer.
constexpr std::size_t kReadChunk = std::size_t{64} << 10;
// Bookkeeping counted per buffered record besides its bytes.
constexpr std::size_t kEntryOverhead = sizeof(std::uint64_t) * 3;

[[noreturn]] void fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

int open_unnamed_temp(const std::filesystem::path& directory) {
  const std::string dir = directory.string();
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  // A file system without O_TMPFILE: a named file, unlinked at once.
  std::string name = (directory / ".rebuild-runs-XXXXXX").string();
  fd = ::mkostemp(name.data(), O_CLOEXEC);
  if (fd < 0) fail("cannot create a temporary file in " + dir);
  ::unlink(name.c_str());
  return fd;
}

}  // namespace

struct SortedRuns::Source {
  std::size_t order = 0;  // run order: a later run wins a tie
  bool in_memory = false;
  std::size_t index = 0;              // in memory: next entry
  std::uint64_t offset = 0, end = 0;  // in the file: next byte to read, end of the run
  std::string buffer;
  std::size_t pos = 0;
  // The current record.
  std::string_view key, value;
  std::uint64_t ordinal = 0;
};

SortedRuns::SortedRuns(std::filesystem::path directory, std::size_t memory_bytes)
    : directory_(std::move(directory)), memory_bytes_(std::max<std::size_t>(memory_bytes, 1)) {}

SortedRuns::~SortedRuns() {
  if (fd_ >= 0) ::close(fd_);
}

std::size_t SortedRuns::buffered_bytes() const noexcept {
  return arena_.size() + entries_.size() * kEntryOverhead;
}

void SortedRuns::add(std::string_view key, std::uint64_t ordinal, std::string_view value) {
  if (!entries_.empty() &&
      buffered_bytes() + key.size() + value.size() + kEntryOverhead > memory_bytes_) {
    spill();
  }
  entries_.push_back(Entry{arena_.size(), static_cast<std::uint32_t>(key.size()),
                           static_cast<std::uint32_t>(value.size()), ordinal});
  arena_.append(key);
  arena_.append(value);
}

void SortedRuns::sort_buffer() {
  // Stable: of two records with one key and one ordinal, the one added last
  // stays last, and the last of a key wins.
  std::stable_sort(entries_.begin(), entries_.end(), [&](const Entry& a, const Entry& b) {
    const int c = key_of(a).compare(key_of(b));
    return c < 0 || (c == 0 && a.ordinal < b.ordinal);
  });
}

void SortedRuns::write_out(std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::pwrite(fd_, bytes.data(), bytes.size(), static_cast<off_t>(file_size_));
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("cannot write a sorted run to a temporary file in " + directory_.string());
    }
    file_size_ += static_cast<std::uint64_t>(n);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
}

void SortedRuns::spill() {
  if (fd_ < 0) fd_ = open_unnamed_temp(directory_);
  sort_buffer();
  const std::uint64_t start = file_size_;
  std::string out;
  out.reserve(kReadChunk * 4);
  for (const Entry& e : entries_) {
    char header[kHeader];
    std::memcpy(header, &e.key_size, 4);
    std::memcpy(header + 4, &e.value_size, 4);
    std::memcpy(header + 8, &e.ordinal, 8);
    out.append(header, kHeader);
    out.append(arena_, e.offset, std::size_t{e.key_size} + e.value_size);
    if (out.size() >= kReadChunk * 4) {
      write_out(out);
      out.clear();
    }
  }
  write_out(out);
  file_runs_.emplace_back(start, file_size_ - start);
  entries_.clear();
  arena_.clear();  // keeps its capacity for the next run
}

namespace {

// Makes [pos, pos + need) of a file source's buffer available; false at the
// run's end.
bool fill(int fd, std::string& buffer, std::size_t& pos, std::uint64_t& offset, std::uint64_t end,
          std::size_t need) {
  if (buffer.size() - pos >= need) return true;
  buffer.erase(0, pos);
  pos = 0;
  while (buffer.size() < need) {
    if (offset >= end) return false;
    const std::size_t want = static_cast<std::size_t>(
        std::min<std::uint64_t>(std::max(kReadChunk, need - buffer.size()), end - offset));
    const std::size_t had = buffer.size();
    buffer.resize(had + want);
    const ssize_t n = ::pread(fd, buffer.data() + had, want, static_cast<off_t>(offset));
    if (n <= 0) {
      if (n < 0 && errno == EINTR) {
        buffer.resize(had);
        continue;
      }
      if (n == 0) errno = EIO;  // the file is shorter than what was written
      throw std::system_error(errno, std::generic_category(), "cannot read a sorted run back");
    }
    buffer.resize(had + static_cast<std::size_t>(n));
    offset += static_cast<std::uint64_t>(n);
  }
  return true;
}

}  // namespace

void SortedRuns::finish() {
  finished_ = true;
  sort_buffer();
  sources_.clear();
  heap_.clear();
  for (const auto& [offset, size] : file_runs_) {
    Source s;
    s.order = sources_.size();
    s.offset = offset;
    s.end = offset + size;
    sources_.push_back(std::move(s));
  }
  Source last;
  last.order = sources_.size();
  last.in_memory = true;
  sources_.push_back(std::move(last));

  for (std::size_t i = 0; i < sources_.size(); ++i) {
    if (advance(sources_[i])) heap_.push_back(i);
  }
  auto greater = [&](std::size_t a, std::size_t b) {
    return source_less(sources_[b], sources_[a]);
  };
  std::make_heap(heap_.begin(), heap_.end(), greater);
}

bool SortedRuns::advance(Source& s) {
  if (s.in_memory) {
    if (s.index >= entries_.size()) return false;
    const Entry& e = entries_[s.index++];
    s.key = key_of(e);
    s.value = std::string_view(arena_.data() + e.offset + e.key_size, e.value_size);
    s.ordinal = e.ordinal;
    return true;
  }
  if (!fill(fd_, s.buffer, s.pos, s.offset, s.end, kHeader)) return false;
  std::uint32_t key_size = 0, value_size = 0;
  std::memcpy(&key_size, s.buffer.data() + s.pos, 4);
  std::memcpy(&value_size, s.buffer.data() + s.pos + 4, 4);
  std::memcpy(&s.ordinal, s.buffer.data() + s.pos + 8, 8);
  const std::size_t size = kHeader + key_size + value_size;
  if (!fill(fd_, s.buffer, s.pos, s.offset, s.end, size)) {
    errno = EIO;
    fail("a sorted run ends inside a record");
  }
  s.key = std::string_view(s.buffer.data() + s.pos + kHeader, key_size);
  s.value = std::string_view(s.buffer.data() + s.pos + kHeader + key_size, value_size);
  s.pos += size;
  return true;
}

bool SortedRuns::source_less(const Source& a, const Source& b) const {
  const int c = a.key.compare(b.key);
  if (c != 0) return c < 0;
  if (a.ordinal != b.ordinal) return a.ordinal < b.ordinal;
  return a.order < b.order;
}

std::optional<SortedRuns::Record> SortedRuns::next() {
  auto greater = [&](std::size_t a, std::size_t b) {
    return source_less(sources_[b], sources_[a]);
  };
  if (heap_.empty()) return std::nullopt;
  std::uint64_t ordinal = 0;
  bool first = true;
  // The records of the smallest key, in (ordinal, run) order: the last wins.
  while (!heap_.empty() && (first || sources_[heap_.front()].key == key_)) {
    std::pop_heap(heap_.begin(), heap_.end(), greater);
    Source& s = sources_[heap_.back()];
    key_.assign(s.key);
    value_.assign(s.value);
    ordinal = s.ordinal;
    first = false;
    if (advance(s)) {
      std::push_heap(heap_.begin(), heap_.end(), greater);
    } else {
      heap_.pop_back();
    }
  }
  return Record{key_, ordinal, value_};
}

}  // namespace planning::detail
