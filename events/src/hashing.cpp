#include "events/src/hashing.hpp"

#include <openssl/evp.h>
#include <xxhash.h>

#include <memory>
#include <stdexcept>

namespace planning::detail {

std::uint64_t checksum64(std::string_view bytes) noexcept {
  return XXH3_64bits(bytes.data(), bytes.size());
}

std::uint64_t checksum64(std::initializer_list<std::string_view> parts) {
  struct StateFree {
    void operator()(XXH3_state_t* s) const { XXH3_freeState(s); }
  };
  thread_local std::unique_ptr<XXH3_state_t, StateFree> state(XXH3_createState());
  if (!state || XXH3_64bits_reset(state.get()) != XXH_OK) {
    throw std::runtime_error("XXH3: cannot allocate a hash state");
  }
  for (std::string_view part : parts) {
    if (XXH3_64bits_update(state.get(), part.data(), part.size()) != XXH_OK) {
      throw std::runtime_error("XXH3 update failed");
    }
  }
  return XXH3_64bits_digest(state.get());
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
