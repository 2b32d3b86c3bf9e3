// salvage(): rebuilding a store from the event frames found in a damaged
// data.mdb, without LMDB reading the damaged file (see <planning/salvage.hpp>,
// docs/FORMAT.md §8).
#include <planning/salvage.hpp>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <map>
#include <set>

#include <fmt/format.h>

#include <planning/session_manager.hpp>
#include <planning/version.hpp>

#include "events/src/content_resolver.hpp"
#include "events/src/event_log.hpp"
#include "events/src/lmdb_env.hpp"
#include "events/src/bytes.hpp"
#include "events/src/event_codec.hpp"
#include "events/src/hashing.hpp"
#include "projections/src/databases.hpp"

namespace planning {
namespace {

constexpr std::size_t kHeader = 84;
constexpr std::uint32_t kMaxPayload = 64u << 20;

// data.mdb mapped read-only (or empty).
struct Mapped {
  int fd = -1;
  void* data = nullptr;
  std::size_t size = 0;
  ~Mapped() {
    if (data != nullptr) ::munmap(data, size);
    if (fd >= 0) ::close(fd);
  }
  std::string_view bytes() const { return {static_cast<const char*>(data), size}; }
};

// Every frame whose header checksum holds and whose length fits in the file,
// grouped by sequence; identical copies (old pages LMDB kept) once.
std::map<std::uint64_t, std::vector<std::string>> find_frames(std::string_view file,
                                                               std::uint64_t& found) {
  std::map<std::uint64_t, std::vector<std::string>> frames;
  std::size_t at = 0;
  for (;;) {
    const auto* hit = static_cast<const char*>(
        ::memmem(file.data() + at, file.size() - at, "PSE1", 4));
    if (hit == nullptr) break;
    const std::size_t offset = static_cast<std::size_t>(hit - file.data());
    at = offset + 1;
    if (file.size() - offset < kHeader) continue;
    const std::string_view header = file.substr(offset, kHeader);
    if (detail::checksum64(header.substr(0, 76)) != detail::get_be<std::uint64_t>(header, 76)) {
      continue;
    }
    const auto sequence = detail::get_be<std::uint64_t>(header, 4);
    const std::size_t s = detail::get_be<std::uint16_t>(header, 28);
    const std::size_t a = detail::get_be<std::uint16_t>(header, 30);
    const std::uint32_t p = detail::get_be<std::uint32_t>(header, 32);
    if (sequence == 0 || p > kMaxPayload) continue;
    const std::size_t length = kHeader + s + a + p;
    if (file.size() - offset < length) continue;
    ++found;
    std::string frame(file.substr(offset, length));
    auto& copies = frames[sequence];
    if (std::find(copies.begin(), copies.end(), frame) == copies.end()) {
      copies.push_back(std::move(frame));
    }
  }
  return frames;
}

// The largest sequence a surviving "head" record of the meta database names: a
// leaf node with a 40-byte value and the 4-byte key "head" (LMDB's node layout)
// that its page's pointer array still lists. Stale copies in free pages whose
// space was partly reused are not listed and are skipped (their value bytes
// may be overwritten).
std::uint64_t find_head(std::string_view file) {
  static const char pattern[] = {'\x28', 0, 0, 0, 0, 0, 4, 0, 'h', 'e', 'a', 'd'};
  std::size_t page_size = 4096;  // LMDB's mm_psize in meta page 0, when sane
  if (file.size() >= 48) {
    std::uint32_t psize = 0;
    std::memcpy(&psize, file.data() + 40, sizeof psize);
    if (psize >= 512 && psize <= 65536 && (psize & (psize - 1)) == 0) page_size = psize;
  }
  std::uint64_t head = 0;
  std::size_t at = 0;
  for (;;) {
    const auto* hit = static_cast<const char*>(
        ::memmem(file.data() + at, file.size() - at, pattern, sizeof pattern));
    if (hit == nullptr) break;
    const std::size_t offset = static_cast<std::size_t>(hit - file.data());
    at = offset + 1;
    if (file.size() - offset < sizeof pattern + 40) continue;
    const std::size_t page = offset / page_size * page_size;
    std::uint16_t flags = 0, lower = 0, upper = 0;
    std::memcpy(&flags, file.data() + page + 10, 2);
    std::memcpy(&lower, file.data() + page + 12, 2);
    std::memcpy(&upper, file.data() + page + 14, 2);
    if ((flags & 0x02) == 0 || lower < 16 || lower > upper || upper > page_size) continue;
    bool listed = false;
    for (std::size_t i = 16; i + 2 <= lower; i += 2) {
      std::uint16_t ptr = 0;
      std::memcpy(&ptr, file.data() + page + i, 2);
      listed = listed || ptr == offset - page;
    }
    if (!listed) continue;
    head = std::max(head, detail::get_be<std::uint64_t>(file, offset + sizeof pattern));
  }
  return head;
}

}  // namespace

namespace {
Result<SalvageReport> salvage_into(const std::filesystem::path& damaged_store,
                                   const std::filesystem::path& new_store);
}  // namespace

Result<SalvageReport> salvage(const std::filesystem::path& damaged_store,
                              const std::filesystem::path& new_store) {
  try {
    return salvage_into(damaged_store, new_store);
  } catch (...) {
    return std::unexpected(detail::translate_exception(std::current_exception()));
  }
}

namespace {
Result<SalvageReport> salvage_into(const std::filesystem::path& damaged_store,
                                   const std::filesystem::path& new_store) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (fs::exists(new_store, ec)) {
    if (fs::equivalent(new_store, damaged_store, ec)) {
      return fail(ErrorCode::invalid_argument, "salvage: the new store must be another directory");
    }
    if (!fs::is_directory(new_store, ec) || !fs::is_empty(new_store, ec)) {
      return fail(ErrorCode::invalid_argument,
                  "salvage: " + new_store.string() + " is not a new or empty directory");
    }
  }
  const fs::path data_file = damaged_store / "data.mdb";
  Mapped mapped;
  mapped.fd = ::open(data_file.c_str(), O_RDONLY | O_CLOEXEC);
  if (mapped.fd < 0) {
    return fail(ErrorCode::storage,
                fmt::format("salvage: cannot read {}: {}", data_file.string(), std::strerror(errno)));
  }
  struct stat st {};
  if (::fstat(mapped.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    return fail(ErrorCode::storage, "salvage: " + data_file.string() + " is not a regular file");
  }
  mapped.size = static_cast<std::size_t>(st.st_size);
  if (mapped.size > 0) {
    mapped.data = ::mmap(nullptr, mapped.size, PROT_READ, MAP_PRIVATE, mapped.fd, 0);
    if (mapped.data == MAP_FAILED) {
      mapped.data = nullptr;
      return fail(ErrorCode::storage, fmt::format("salvage: cannot map {}: {}", data_file.string(),
                                                  std::strerror(errno)));
    }
  }

  SalvageReport report;
  const auto candidates = find_frames(mapped.bytes(), report.frames_found);
  report.damaged_head = find_head(mapped.bytes());

  detail::StorageOptions options;
  options.path = new_store;
  options.durability = Durability::full;
  std::vector<Event> beyond;
  {
    auto env = detail::Environment::open(options, detail::store_databases());
    if (!env) return std::unexpected(env.error());
    if ((*env)->created_databases().empty()) {
      return fail(ErrorCode::invalid_argument, "salvage: " + new_store.string() + " already holds a store");
    }
    detail::EventLog log(**env);
    try {
      (*env)->write([&](detail::Txn& txn) {
        beyond.clear();
        report.recovered_head = 0;
        report.beyond_prefix.clear();
        detail::ContentResolver resolver(log);
        bool prefix = true;
        std::uint64_t last_decoded = 0;
        Hash256 last_hash{}, prefix_hash{};
        for (const auto& [sequence, copies] : candidates) {
          const std::string key = detail::be64(sequence);
          std::optional<std::pair<Event, Hash256>> chosen;
          bool chained = false;
          for (const auto& frame : copies) {
            log.put_frame(txn, sequence, frame);
            auto decoded = resolver.decode_stored(txn, sequence, frame);
            if (!decoded) continue;
            const bool links = last_decoded + 1 == sequence && decoded->event.prev_hash == last_hash;
            if (!chosen || (links && !chained)) {
              chosen.emplace(decoded->event, detail::chain_hash(frame, *decoded));
              chained = links;
              if (links) break;
            }
          }
          if (!chosen) {
            log.erase_frame(txn, sequence);
            prefix = false;
            continue;
          }
          // Put back the copy chosen (the last one tried may be another).
          for (const auto& frame : copies) {
            auto decoded = resolver.decode_stored(txn, sequence, frame);
            if (decoded && detail::chain_hash(frame, *decoded) == chosen->second) {
              log.put_frame(txn, sequence, frame);
              break;
            }
          }
          const bool starts = sequence == 1 && chosen->first.prev_hash == Hash256{};
          if (prefix && (starts || (chained && sequence == report.recovered_head + 1))) {
            report.recovered_head = sequence;
            prefix_hash = chosen->second;
          } else {
            prefix = false;
            report.beyond_prefix.push_back(sequence);
            beyond.push_back(chosen->first);
          }
          last_decoded = sequence;
          last_hash = chosen->second;
        }
        // The log keeps the prefix only; the head record names its end.
        for (const auto sequence : report.beyond_prefix) {
          log.erase_frame(txn, sequence);
        }
        for (const auto& [sequence, copies] : candidates) {
          if (sequence > report.recovered_head) log.erase_frame(txn, sequence);
        }
        if (report.recovered_head > 0) {
          log.set_head(txn, detail::LogHead{report.recovered_head, prefix_hash});
        }
        log.set_format_version(txn, kFormatVersion);
      });
    } catch (...) {
      return std::unexpected(detail::translate_exception(std::current_exception()));
    }
  }
  const std::uint64_t last_found = candidates.empty() ? 0 : candidates.rbegin()->first;
  const std::set<std::uint64_t> kept(report.beyond_prefix.begin(), report.beyond_prefix.end());
  for (std::uint64_t s = report.recovered_head + 1; s <= std::max(last_found, report.damaged_head); ++s) {
    if (!kept.contains(s)) report.lost.push_back(s);
  }

  // Projections come from a replay of the recovered log; the result must verify.
  {
    Options manager_options;
    manager_options.path = new_store;
    auto manager = SessionManager::open(manager_options);
    if (!manager) return std::unexpected(manager.error());
    auto verified = (*manager)->verify();
    if (!verified) return std::unexpected(verified.error());
    if (!verified->ok()) {
      return fail(ErrorCode::corruption,
                  fmt::format("salvage: the recovered store does not verify: {}",
                              verified->issues.front().what));
    }
  }
  if (!beyond.empty()) {
    report.beyond_prefix_file = new_store / "salvaged-beyond-prefix.jsonl";
    std::ofstream out(report.beyond_prefix_file, std::ios::binary | std::ios::trunc);
    for (const auto& event : beyond) out << to_json(event).dump() << '\n';
    out.flush();
    if (!out) {
      return fail(ErrorCode::storage,
                  "salvage: cannot write " + report.beyond_prefix_file.string());
    }
    ::chmod(report.beyond_prefix_file.c_str(), 0600);
  }
  return report;
}
}  // namespace

}  // namespace planning
