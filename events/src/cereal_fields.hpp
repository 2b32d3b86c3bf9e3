// Field-level Cereal helpers shared by the event payloads and projection records.
//
// Cereal trusts its input: a corrupt length makes std::string::resize allocate
// whatever it says, and a bool byte other than 0/1 is undefined behaviour
// (a Cereal 1.3 trap). These helpers produce the same bytes as Cereal's own string and
// optional serialization, but on load they check every length against the bytes
// left in the record and validate every flag byte, throwing DecodeError instead.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <streambuf>
#include <string>
#include <string_view>
#include <vector>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/cereal.hpp>

#include <planning/model.hpp>

namespace planning::detail {

struct DecodeError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Bytes still unread in the record being decoded on this thread. Set by the
// decoder (DecodeBudget) around each Cereal load.
inline thread_local std::size_t tls_decode_budget = 0;

class DecodeBudget {
 public:
  explicit DecodeBudget(std::size_t bytes) : saved_(tls_decode_budget) { tls_decode_budget = bytes; }
  ~DecodeBudget() { tls_decode_budget = saved_; }
  DecodeBudget(const DecodeBudget&) = delete;
  DecodeBudget& operator=(const DecodeBudget&) = delete;

 private:
  std::size_t saved_;
};

// Class version Cereal read for the last payload loaded on this thread.
inline thread_local std::uint32_t tls_loaded_class_version = 0;

template <class Archive>
void note_class_version(std::uint32_t version) {
  if constexpr (Archive::is_loading::value) tls_loaded_class_version = version;
}

inline void consume_budget(std::size_t n) {
  if (n > tls_decode_budget) throw DecodeError("length field exceeds the record");
  tls_decode_budget -= n;
}

template <class Archive>
void field(Archive& ar, std::string& s) {
  if constexpr (Archive::is_loading::value) {
    cereal::size_type n = 0;
    ar(cereal::make_size_tag(n));
    // Two steps: `8 + n` wraps for a length near 2^64 and would pass the bound
    // (fuzz_record_reader, docs/FUZZING.md F6).
    consume_budget(sizeof(std::uint64_t));
    consume_budget(static_cast<std::size_t>(n));
    s.resize(static_cast<std::size_t>(n));
    ar(cereal::binary_data(s.data(), s.size()));
  } else {
    ar(cereal::make_size_tag(static_cast<cereal::size_type>(s.size())));
    ar(cereal::binary_data(s.data(), s.size()));
  }
}

template <class Archive>
void field(Archive& ar, bool& b) {
  std::uint8_t byte = b ? 1 : 0;
  ar(byte);
  if constexpr (Archive::is_loading::value) {
    consume_budget(1);
    if (byte > 1) throw DecodeError("invalid flag byte");
    b = byte == 1;
  }
}

template <class Archive, typename Int>
  requires std::is_integral_v<Int>
void field(Archive& ar, Int& v) {
  ar(v);
  if constexpr (Archive::is_loading::value) consume_budget(sizeof(Int));
}

template <class Archive>
void field(Archive& ar, std::vector<std::string>& v) {
  cereal::size_type n = v.size();
  ar(cereal::make_size_tag(n));
  if constexpr (Archive::is_loading::value) {
    consume_budget(sizeof(std::uint64_t));
    // Every element costs at least its 8-byte length: bound the count first.
    if (n > tls_decode_budget / sizeof(std::uint64_t)) throw DecodeError("count exceeds record");
    v.assign(static_cast<std::size_t>(n), std::string());
  }
  for (auto& s : v) field(ar, s);
}

template <class Archive>
void field(Archive& ar, Timestamp& t) {
  std::int64_t ns = t.time_since_epoch().count();
  field(ar, ns);
  if constexpr (Archive::is_loading::value) t = Timestamp{std::chrono::nanoseconds{ns}};
}

template <class Archive>
void field(Archive& ar, Status& s) {
  std::uint8_t byte = static_cast<std::uint8_t>(s);
  field(ar, byte);
  if constexpr (Archive::is_loading::value) {
    if (byte < 1 || byte > 4) throw DecodeError("invalid status byte");
    s = static_cast<Status>(byte);
  }
}

// An optional value: a flag byte, then the value when present (Cereal's layout).
template <class Archive, typename T>
void field(Archive& ar, std::optional<T>& o) {
  bool present = o.has_value();
  field(ar, present);
  if (present) {
    if constexpr (Archive::is_loading::value) o.emplace();
    field(ar, *o);
  } else if constexpr (Archive::is_loading::value) {
    o.reset();
  }
}

template <class Archive, typename... Fields>
void fields(Archive& ar, Fields&... fs) {
  (field(ar, fs), ...);
}

// A streambuf that appends what is written to a caller's string.
class StringSink final : public std::streambuf {
 public:
  void target(std::string* out) noexcept { out_ = out; }

 protected:
  std::streamsize xsputn(const char* s, std::streamsize n) override {
    out_->append(s, static_cast<std::size_t>(n));
    return n;
  }
  int_type overflow(int_type c) override {
    if (!traits_type::eq_int_type(c, traits_type::eof()))
      out_->push_back(traits_type::to_char_type(c));
    return traits_type::not_eof(c);
  }

 private:
  std::string* out_ = nullptr;
};

// The stream records are encoded through. Building a std::ios costs more than
// encoding a small record (basic_ios::init and its locale lookups), so each
// thread keeps one and reuses it; a nested encode on the same thread (while the
// thread's stream is busy) builds its own. (Records are decoded without a
// stream: record_reader.hpp.)
struct RecordStreams {
  StringSink sink;
  std::ostream out{&sink};
  bool out_busy = false;
  std::string buffer;  // encode_record's output while out_busy
};
inline thread_local RecordStreams tls_record_streams;
// Largest encode buffer a thread keeps between records.
inline constexpr std::size_t kKeptEncodeBuffer = std::size_t{1} << 20;

// Marks one of a thread's streams busy for a scope.
class StreamLease {
 public:
  explicit StreamLease(bool& busy) : busy_(busy) { busy_ = true; }
  ~StreamLease() { busy_ = false; }
  StreamLease(const StreamLease&) = delete;
  StreamLease& operator=(const StreamLease&) = delete;

 private:
  bool& busy_;
};

template <typename Write>
void encode_with(RecordStreams& streams, std::string& bytes, Write& write) {
  streams.sink.target(&bytes);
  streams.out.clear();
  cereal::PortableBinaryOutputArchive ar(streams.out);
  write(ar);
}

// Encodes one record: `write(archive)` serializes its fields.
template <typename Write>
std::string encode_record(Write&& write) {
  RecordStreams& tls = tls_record_streams;
  if (tls.out_busy) {
    std::string bytes;
    RecordStreams own;
    encode_with(own, bytes, write);
    return bytes;
  }
  StreamLease lease(tls.out_busy);
  // Encoded into a buffer that keeps its capacity, then copied once: appending
  // field by field to a fresh string reallocates it several times.
  tls.buffer.clear();
  encode_with(tls, tls.buffer, write);
  std::string bytes = tls.buffer;
  if (tls.buffer.capacity() > kKeptEncodeBuffer) std::string().swap(tls.buffer);
  return bytes;
}

}  // namespace planning::detail
