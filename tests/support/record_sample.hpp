// A record with every field kind the payloads and projection records use, and
// its reading and writing both ways: with Cereal's own archives, and with
// RecordReader (events/src/record_reader.hpp). Shared by record_reader_test
// and the differential fuzzer fuzz_record_reader.
#pragma once

#include <bit>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <cereal/archives/portable_binary.hpp>

#include "events/src/cereal_fields.hpp"
#include "events/src/record_reader.hpp"

namespace test_records {

// A payload-like class with every field kind the records and payloads use.
struct Sample {
  std::string text;
  std::optional<std::string> maybe;
  std::optional<std::string> absent;
  std::vector<std::string> list;
  std::uint8_t u8 = 0;
  std::uint16_t u16 = 0;
  std::uint32_t u32 = 0;
  std::uint64_t u64 = 0;
  std::int64_t i64 = 0;
  bool flag = false;
  planning::Timestamp at{};
  planning::Status status = planning::Status::active;
  std::uint32_t loaded_version = 0;

  bool operator==(const Sample& o) const {
    return text == o.text && maybe == o.maybe && absent == o.absent && list == o.list &&
           u8 == o.u8 && u16 == o.u16 && u32 == o.u32 && u64 == o.u64 && i64 == o.i64 &&
           flag == o.flag && at == o.at && status == o.status;
  }
};

template <class Archive>
void serialize(Archive& ar, Sample& s, std::uint32_t const version) {
  s.loaded_version = version;
  planning::detail::fields(ar, s.text, s.maybe, s.absent, s.list, s.u8, s.u16, s.u32, s.u64, s.i64,
                           s.flag, s.at, s.status);
}

}  // namespace test_records

CEREAL_CLASS_VERSION(test_records::Sample, 7)

namespace test_records {

inline Sample sample() {
  Sample s;
  s.text = std::string("line one\nline two\0with a nul", 28);
  s.maybe = "present";
  s.list = {"a", "", std::string(300, 'x')};
  s.u8 = 0xfe;
  s.u16 = 0xbeef;
  s.u32 = 0x01020304;
  s.u64 = 0x0102030405060708ULL;
  s.i64 = -1234567890123LL;
  s.flag = true;
  s.at = planning::Timestamp{std::chrono::nanoseconds{1'700'000'000'123'456'789LL}};
  s.status = planning::Status::converted;
  return s;
}

inline std::string write_with_cereal(Sample s,
                                     cereal::PortableBinaryOutputArchive::Options options =
                                         cereal::PortableBinaryOutputArchive::Options::Default()) {
  std::ostringstream out;
  {
    cereal::PortableBinaryOutputArchive ar(out, options);
    ar(s);
  }
  return out.str();
}

// Reads as the engine did before RecordReader: Cereal's input archive over a
// stream, every length bounded (DecodeBudget), a trailing byte an error.
inline Sample read_with_cereal(const std::string& bytes) {
  planning::detail::DecodeBudget budget(bytes.size());
  std::istringstream in(bytes);
  cereal::PortableBinaryInputArchive ar(in);
  Sample s;
  ar(s);
  if (in.peek() != std::char_traits<char>::eof()) {
    throw planning::detail::DecodeError("trailing bytes in record");
  }
  return s;
}

inline Sample read_with_reader(const std::string& bytes) {
  Sample s;
  planning::detail::decode_record(bytes, [&](auto& ar) { ar(s); });
  return s;
}

}  // namespace test_records
