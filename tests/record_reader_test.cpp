// Reading records without Cereal's input archive (events/src/record_reader.hpp):
// whatever Cereal's PortableBinaryOutputArchive writes, in either byte order,
// RecordReader reads back as Cereal's PortableBinaryInputArchive does, and a
// record cut short, padded or lying about a length is refused.
#include <bit>
#include <cstdint>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
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

namespace {

using planning::detail::DecodeBudget;
using planning::detail::DecodeError;
using planning::detail::RecordReader;
using test_records::Sample;

Sample sample() {
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

std::string write_with_cereal(Sample s,
                              cereal::PortableBinaryOutputArchive::Options options =
                                  cereal::PortableBinaryOutputArchive::Options::Default()) {
  std::ostringstream out;
  {
    cereal::PortableBinaryOutputArchive ar(out, options);
    ar(s);
  }
  return out.str();
}

Sample read_with_cereal(const std::string& bytes) {
  DecodeBudget budget(bytes.size());
  std::istringstream in(bytes);
  cereal::PortableBinaryInputArchive ar(in);
  Sample s;
  ar(s);
  return s;
}

Sample read_with_reader(const std::string& bytes) {
  Sample s;
  planning::detail::decode_record(bytes, [&](auto& ar) { ar(s); });
  return s;
}

}  // namespace

TEST_CASE("a record reads back as Cereal reads it, in either byte order", "[record_reader]") {
  using Options = cereal::PortableBinaryOutputArchive::Options;
  for (const auto& options : {Options::LittleEndian(), Options::BigEndian()}) {
    const std::string bytes = write_with_cereal(sample(), options);
    const Sample by_cereal = read_with_cereal(bytes);
    const Sample by_reader = read_with_reader(bytes);
    CHECK(by_cereal == sample());
    CHECK(by_reader == sample());
    CHECK(by_reader.loaded_version == 7);
    CHECK(by_cereal.loaded_version == 7);
  }
  // The two byte orders do differ on disk: the reader swapped one of them.
  CHECK(write_with_cereal(sample(), Options::LittleEndian()) !=
        write_with_cereal(sample(), Options::BigEndian()));
}

TEST_CASE("an endianness byte other than 0 or 1 is read as Cereal reads it", "[record_reader]") {
  std::string bytes = write_with_cereal(sample());
  REQUIRE(bytes.at(0) == (std::endian::native == std::endian::little ? 1 : 0));
  bytes[0] = 2;  // Cereal: host_little ^ byte, so this swaps on a little-endian host
  Sample by_cereal, by_reader;
  bool cereal_failed = false, reader_failed = false;
  try {
    by_cereal = read_with_cereal(bytes);
  } catch (const std::exception&) {
    cereal_failed = true;
  }
  try {
    by_reader = read_with_reader(bytes);
  } catch (const DecodeError&) {
    reader_failed = true;
  }
  CHECK(cereal_failed == reader_failed);
  if (!cereal_failed) CHECK(by_cereal == by_reader);
  // Swapped lengths are huge: both refuse rather than read a different record.
  CHECK(reader_failed);
}

TEST_CASE("a record cut short anywhere is refused by both readers", "[record_reader]") {
  const std::string bytes = write_with_cereal(sample());
  for (std::size_t keep = 0; keep < bytes.size(); ++keep) {
    const std::string cut = bytes.substr(0, keep);
    INFO("kept " << keep << " of " << bytes.size() << " bytes");
    CHECK_THROWS_AS(read_with_reader(cut), DecodeError);
    CHECK_THROWS(read_with_cereal(cut));
  }
}

TEST_CASE("a record with a byte after its fields is refused", "[record_reader]") {
  CHECK_THROWS_WITH(read_with_reader(write_with_cereal(sample()) + '\0'),
                    Catch::Contains("trailing bytes"));
}

TEST_CASE("a length beyond the record is refused before anything is allocated", "[record_reader]") {
  std::string bytes = write_with_cereal(sample());
  // The text's size tag follows the endianness byte and the class version.
  const std::size_t tag = 1 + sizeof(std::uint32_t);
  for (std::size_t i = 0; i < 8; ++i) bytes[tag + i] = static_cast<char>(0x7f);
  CHECK_THROWS_WITH(read_with_reader(bytes), Catch::Contains("exceeds the record"));
}

TEST_CASE("a flag byte other than 0 or 1 is refused", "[record_reader]") {
  Sample s = sample();
  s.text.clear();
  std::string bytes = write_with_cereal(s);
  // endianness, class version, empty text's size tag, then `maybe`'s flag byte.
  const std::size_t flag = 1 + sizeof(std::uint32_t) + sizeof(std::uint64_t);
  REQUIRE(bytes.at(flag) == 1);
  bytes[flag] = 2;
  CHECK_THROWS_WITH(read_with_reader(bytes), Catch::Contains("invalid flag byte"));
}
