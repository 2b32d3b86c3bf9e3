#include "events/src/hashing.hpp"

#include <openssl/evp.h>
#include <xxhash.h>

#include <stdexcept>

namespace planning::detail {

std::uint64_t checksum64(std::string_view bytes) noexcept {
  return XXH3_64bits(bytes.data(), bytes.size());
}

Hash256 sha256(std::string_view bytes) {
  Hash256 out{};
  unsigned int len = 0;
  if (EVP_Digest(bytes.data(), bytes.size(), out.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != out.size()) {
    throw std::runtime_error("SHA-256 failed");
  }
  return out;
}

}  // namespace planning::detail
