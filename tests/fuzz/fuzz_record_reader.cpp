// Fuzz target: RecordReader (events/src/record_reader.hpp), which reads every
// payload and projection record in place, against Cereal's own
// PortableBinaryInputArchive, on any bytes.
//
// Input: the bytes, read as a record of test_records::Sample
// (tests/support/record_sample.hpp): a versioned class with every field kind
// the payloads and records use (strings, optional strings, a list of strings,
// integers of each width, a flag byte, a timestamp, a status byte), both
// readers going through the same checked field helpers.
//
// Properties: RecordReader throws nothing but DecodeError (anything else
// escapes and fails the run; ASan's allocator limit catches an allocation the
// helpers' bounds should have refused); it accepts exactly the inputs Cereal's
// reader accepts, and reads the same values and class version from them.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "fuzz/fuzz_support.hpp"
#include "support/record_sample.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using planning::fuzz::fuzz_check;
  const std::string bytes(reinterpret_cast<const char*>(data), size);
  std::optional<test_records::Sample> by_reader, by_cereal;
  std::string reader_error, cereal_error;
  try {
    by_reader = test_records::read_with_reader(bytes);
  } catch (const planning::detail::DecodeError& e) {
    reader_error = e.what();
  }
  try {
    by_cereal = test_records::read_with_cereal(bytes);
  } catch (const std::exception& e) {
    cereal_error = e.what();
  }
  fuzz_check(by_reader.has_value() == by_cereal.has_value(),
             "RecordReader and Cereal disagree on whether the record reads",
             by_reader ? "Cereal: " + cereal_error : "RecordReader: " + reader_error);
  if (by_reader) {
    fuzz_check(*by_reader == *by_cereal, "RecordReader and Cereal read different values");
    fuzz_check(by_reader->loaded_version == by_cereal->loaded_version,
               "RecordReader and Cereal read different class versions");
  }
  return 0;
}
