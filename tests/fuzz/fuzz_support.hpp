// Helpers shared by the libFuzzer targets in tests/fuzz/ (see docs/FUZZING.md).
//
// The targets are plain LLVMFuzzerTestOneInput functions: built with clang and
// -fsanitize=fuzzer they are coverage-guided fuzzers; built with g++ and
// replay_main.cpp they replay the checked-in corpus as a regression test.
//
// A target reports a broken property with fuzz_check(), which prints what was
// wrong and aborts: libFuzzer then saves the input as a crash artifact.
#pragma once

#include <stdlib.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fuzzer/FuzzedDataProvider.h>

#include <planning/planning.hpp>

#include "events/src/bytes.hpp"
#include "events/src/event_codec.hpp"
#include "events/src/hashing.hpp"

namespace planning::fuzz {

// Fails the run (abort: libFuzzer keeps the input) unless `ok`.
inline void fuzz_check(bool ok, std::string_view what, std::string_view detail = {}) {
  if (ok) return;
  std::fprintf(stderr, "\nFUZZ PROPERTY VIOLATED: %.*s\n", static_cast<int>(what.size()),
               what.data());
  if (!detail.empty()) {
    std::fprintf(stderr, "  detail: %.*s\n", static_cast<int>(detail.size()), detail.data());
  }
  std::abort();
}

inline std::string describe(const Error& e) {
  return std::string(to_string(e.code)) + ": " + e.message;
}

// A private directory under the system temp dir, removed on destruction (the
// targets keep one in a function-local static, so it goes at process exit).
// Not tests/support's TempDir: that one lives in the Catch2 support library,
// which a fuzzer (no Catch2 main) cannot link.
class ScratchDir {
 public:
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "planning-fuzz-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
      std::perror("mkdtemp");
      std::abort();
    }
    path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Options for a throw-away fuzzing store: no fsync (the properties checked do
// not depend on durability) and a 1 MiB initial map so map growth is exercised.
inline Options scratch_options(const std::filesystem::path& path) {
  Options o;
  o.path = path;
  o.durability = Durability::no_sync;
  o.initial_map_size = std::size_t{1} << 20;
  return o;
}

// Opens a store or aborts (a fresh store must always open).
inline std::unique_ptr<SessionManager> open_or_die(const std::filesystem::path& path) {
  auto m = SessionManager::open(scratch_options(path));
  fuzz_check(m.has_value(), "opening a fresh scratch store failed",
             m ? std::string_view{} : std::string_view(m.error().message));
  return std::move(*m);
}

// True when nlohmann::json can serialize `s`, i.e. `s` is valid UTF-8 by
// nlohmann's own decoder: an oracle independent of the engine's validator.
inline bool json_serializable(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

// --- Event frames (docs/FORMAT.md §2) ------------------------------------------

inline constexpr std::size_t kOffPayloadLen = 32;
inline constexpr std::size_t kOffPayloadChecksum = 36;
inline constexpr std::size_t kOffHeaderChecksum = 76;
inline constexpr std::size_t kOffSessionLen = 28;
inline constexpr std::size_t kOffActorLen = 30;
inline constexpr std::size_t kOffSequence = 4;

inline void overwrite_be64(std::string& frame, std::size_t offset, std::uint64_t value) {
  for (std::size_t i = 0; i < 8; ++i) frame[offset + i] = static_cast<char>(value >> (56 - 8 * i));
}

// Makes a (possibly mutated) frame pass the checksum checks again, so that the
// decoder's later checks and the Cereal payload parser see the mutation:
// recomputes P from the frame length when S + A fit, then the payload and
// header checksums. Frames shorter than a header are left alone.
inline void reseal(std::string& frame) {
  using detail::get_be;
  if (frame.size() < detail::kFrameHeaderSize) return;
  const std::size_t s = get_be<std::uint16_t>(frame, kOffSessionLen);
  const std::size_t a = get_be<std::uint16_t>(frame, kOffActorLen);
  if (detail::kFrameHeaderSize + s + a <= frame.size()) {
    const auto p = static_cast<std::uint32_t>(frame.size() - detail::kFrameHeaderSize - s - a);
    for (std::size_t i = 0; i < 4; ++i) {
      frame[kOffPayloadLen + i] = static_cast<char>(p >> (24 - 8 * i));
    }
  }
  overwrite_be64(frame, kOffPayloadChecksum,
                 detail::checksum64(std::string_view(frame).substr(detail::kFrameHeaderSize)));
  overwrite_be64(frame, kOffHeaderChecksum,
                 detail::checksum64(std::string_view(frame).substr(0, kOffHeaderChecksum)));
}

// The sequence number a frame records (the key it claims), or `fallback` when
// the frame is too short to hold one.
inline std::uint64_t recorded_sequence(std::string_view frame, std::uint64_t fallback) {
  if (frame.size() < kOffSequence + 8) return fallback;
  return detail::get_be<std::uint64_t>(frame, kOffSequence);
}

// --- Random events from fuzzer bytes ---------------------------------------------

inline std::optional<std::string> maybe_string(FuzzedDataProvider& p, std::size_t max) {
  if (!p.ConsumeBool()) return std::nullopt;
  return p.ConsumeRandomLengthString(max);
}

inline std::vector<std::string> some_strings(FuzzedDataProvider& p) {
  std::vector<std::string> out(p.ConsumeIntegralInRange<std::size_t>(0, 4));
  for (auto& s : out) s = p.ConsumeRandomLengthString(48);
  return out;
}

// Any payload of any type, with arbitrary (not necessarily valid) field values.
inline EventPayload random_payload(FuzzedDataProvider& p) {
  switch (p.ConsumeIntegralInRange<int>(1, 9)) {
    case 1: {
      SessionCreated c;
      c.title = p.ConsumeRandomLengthString(64);
      c.description = p.ConsumeRandomLengthString(64);
      c.repository_path = p.ConsumeRandomLengthString(32);
      c.repository_url = p.ConsumeRandomLengthString(32);
      c.working_directory = p.ConsumeRandomLengthString(32);
      c.initial_content = maybe_string(p, 256);
      c.metadata_json = p.ConsumeRandomLengthString(64);
      return c;
    }
    case 2: {
      SessionUpdated u;
      u.title = maybe_string(p, 64);
      u.description = maybe_string(p, 64);
      u.repository_path = maybe_string(p, 32);
      u.repository_url = maybe_string(p, 32);
      u.working_directory = maybe_string(p, 32);
      u.metadata_json = maybe_string(p, 64);
      u.content = maybe_string(p, 256);
      u.change_summary = p.ConsumeRandomLengthString(64);
      u.changed_fields = some_strings(p);
      u.version_number = p.ConsumeIntegral<std::uint32_t>();
      return u;
    }
    case 3: return SessionPaused{p.ConsumeRandomLengthString(64)};
    case 4: return SessionResumed{};
    case 5: {
      SessionConverted c;
      c.project_id = p.ConsumeRandomLengthString(32);
      c.work_item_ids = some_strings(p);
      return c;
    }
    case 6: return SessionArchived{};
    case 7: {
      VersionRestored r;
      r.restored_from = p.ConsumeIntegral<std::uint32_t>();
      r.version_number = p.ConsumeIntegral<std::uint32_t>();
      r.content = p.ConsumeRandomLengthString(256);
      return r;
    }
    case 8: {
      VersionCreated v;
      v.version_number = p.ConsumeIntegral<std::uint32_t>();
      v.change_summary = p.ConsumeRandomLengthString(64);
      v.content_seq = p.ConsumeIntegral<std::uint64_t>();
      return v;
    }
    default: return SessionRemoved{};
  }
}

// An event with arbitrary envelope fields. Session id and actor stay below the
// u16 length fields of the frame (the engine's limits are far lower).
inline Event random_event(FuzzedDataProvider& p) {
  Event e;
  e.sequence = p.ConsumeIntegral<std::uint64_t>();
  e.session_id = p.ConsumeRandomLengthString(64);
  e.stream_version = p.ConsumeIntegral<std::uint32_t>();
  e.timestamp = Timestamp{std::chrono::nanoseconds{p.ConsumeIntegral<std::int64_t>()}};
  e.actor = p.ConsumeRandomLengthString(64);
  for (auto& b : e.prev_hash) b = p.ConsumeIntegral<std::uint8_t>();
  e.payload = random_payload(p);
  return e;
}

}  // namespace planning::fuzz
