// An external sort of keyed records, for building a database in key order
// (a rebuild writes the streams and versions projections with MDB_APPEND).
//
// Records are added in any order, each with an ordinal (the sequence of the
// event that wrote it). Read back, they come in key order, each key once: the
// record with the highest ordinal (for equal ordinals, the one added last), as
// if every add() had been a put in ordinal order. Memory stays near
// `memory_bytes`: a full buffer is sorted and written as a run to an unnamed
// temporary file in `directory` (O_TMPFILE), which the kernel frees when it is
// closed or the process dies; reading merges the runs with one buffer each.
// I/O errors throw std::system_error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace planning::detail {

class SortedRuns {
 public:
  struct Record {
    std::string_view key;
    std::uint64_t ordinal = 0;
    std::string_view value;
  };

  SortedRuns(std::filesystem::path directory, std::size_t memory_bytes);
  ~SortedRuns();
  SortedRuns(const SortedRuns&) = delete;
  SortedRuns& operator=(const SortedRuns&) = delete;

  // REQUIRES: finish() not called yet; key and value shorter than 4 GiB.
  void add(std::string_view key, std::uint64_t ordinal, std::string_view value);
  // Ends adding; next() reads from the start.
  void finish();
  // The next record in key order (views valid until the next call), or
  // nullopt after the last. REQUIRES: finish() was called.
  std::optional<Record> next();

  // Memory held by the buffer of records not yet written to a run.
  std::size_t buffered_bytes() const noexcept;
  // Runs written to the temporary file so far.
  std::size_t spilled_runs() const noexcept { return file_runs_.size(); }

 private:
  struct Entry {
    std::size_t offset;  // of the key in arena_; the value follows it
    std::uint32_t key_size;
    std::uint32_t value_size;
    std::uint64_t ordinal;
  };
  struct Source;  // a run being read back

  std::string_view key_of(const Entry& e) const { return {arena_.data() + e.offset, e.key_size}; }
  void sort_buffer();
  void spill();
  void write_out(std::string_view bytes);
  bool source_less(const Source& a, const Source& b) const;
  // Moves `s` to its next record; false at its end.
  bool advance(Source& s);

  std::filesystem::path directory_;
  std::size_t memory_bytes_;
  bool finished_ = false;

  // The buffer: records back to back in arena_, indexed by entries_.
  std::string arena_;
  std::vector<Entry> entries_;

  // The temporary file and the runs in it: [offset, offset + size).
  int fd_ = -1;
  std::uint64_t file_size_ = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> file_runs_;

  // Reading back: one source per file run, plus the last buffer in memory.
  std::vector<Source> sources_;
  std::vector<std::size_t> heap_;  // indexes into sources_, a min-heap
  std::string key_, value_;        // the record next() returned
};

}  // namespace planning::detail
