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

#include "support/record_sample.hpp"

namespace {

using planning::detail::DecodeError;
using test_records::read_with_cereal;
using test_records::read_with_reader;
using test_records::sample;
using test_records::Sample;
using test_records::write_with_cereal;

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
