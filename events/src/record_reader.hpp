// RecordReader: reads a record Cereal's PortableBinaryOutputArchive wrote,
// in place from its bytes (docs/FORMAT.md §2: "Cereal portable binary").
//
// Records are written with Cereal; this reads them back without Cereal's
// PortableBinaryInputArchive, which reads through a std::istream one virtual
// call per field and whose archive base builds hash maps of class versions and
// pointers for every record (together a quarter of get_versions and of a
// replay's decoding, measured with perf; docs/PERFORMANCE.md). It offers the
// part of Cereal's archive interface the field helpers (cereal_fields.hpp) and
// the payload schemas use, and reads exactly what Cereal would:
//   * the record starts with Cereal's endianness byte; integers and size tags
//     are byte-swapped when it differs from the host's, as Cereal does
//     (`host_is_little ^ byte`, any value other than 0 and 1 included);
//   * a class (an event payload) is its u32 class version, then its fields
//     through its `serialize(archive, value, version)`;
//   * a size tag is a u64; binary data is its bytes as they are.
// Reading past the end throws DecodeError (Cereal throws cereal::Exception); a
// test checks both readers agree on every record type, byte order and cut.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>

#include <cereal/cereal.hpp>

#include "events/src/cereal_fields.hpp"

namespace planning::detail {

class RecordReader {
 public:
  using is_loading = std::true_type;
  using is_saving = std::false_type;

  explicit RecordReader(std::string_view bytes) : bytes_(bytes) {
    std::uint8_t stream_little = 0;
    (*this)(stream_little);
    const std::uint8_t host_little = std::endian::native == std::endian::little ? 1 : 0;
    swap_ = (host_little ^ stream_little) != 0;
  }

  template <typename First, typename Second, typename... Rest>
  void operator()(First&& first, Second&& second, Rest&&... rest) {
    (*this)(std::forward<First>(first));
    (*this)(std::forward<Second>(second), std::forward<Rest>(rest)...);
  }

  template <typename Int>
  requires std::is_integral_v<Int>
  void operator()(Int& value) {
    char raw[sizeof(Int)];
    take(raw, sizeof(Int));
    if (swap_ && sizeof(Int) > 1) {
      for (std::size_t i = 0; i < sizeof(Int) / 2; ++i) std::swap(raw[i], raw[sizeof(Int) - 1 - i]);
    }
    std::memcpy(&value, raw, sizeof(Int));
  }

  void operator()(cereal::SizeTag<cereal::size_type&> tag) { (*this)(tag.size); }

  template <typename Pointer>
  void operator()(cereal::BinaryData<Pointer> data) {
    static_assert(sizeof(std::remove_pointer_t<Pointer>) == 1,
                  "records carry only byte strings as binary data");
    take(data.data, static_cast<std::size_t>(data.size));
  }

  // A class with a versioned serialize function (an event payload).
  template <typename Class>
  requires std::is_class_v<Class>
  void operator()(Class& object) {
    std::uint32_t version = 0;
    (*this)(version);
    serialize(*this, object, version);
  }

  std::size_t left() const noexcept { return bytes_.size() - at_; }

 private:
  void take(void* out, std::size_t n) {
    if (n > left()) {
      throw DecodeError("record cut short: " + std::to_string(n) + " bytes wanted, " +
                        std::to_string(left()) + " left");
    }
    if (n != 0) std::memcpy(out, bytes_.data() + at_, n);
    at_ += n;
  }

  std::string_view bytes_;
  std::size_t at_ = 0;
  bool swap_ = false;
};

// Decodes one record in place from `bytes` (no copy): `read(reader)` loads its
// fields, every length bounded by the bytes left (DecodeBudget); trailing bytes
// are an error. Throws DecodeError.
template <typename Read>
void decode_record(std::string_view bytes, Read&& read) {
  DecodeBudget budget(bytes.size());
  RecordReader reader(bytes);
  read(reader);
  if (reader.left() != 0) throw DecodeError("trailing bytes in record");
}

}  // namespace planning::detail
