#include "events/src/hashing.hpp"

#include <openssl/evp.h>
#include <xxhash.h>

#include <cstring>
#include <memory>
#include <stdexcept>

namespace planning::detail {

std::uint64_t checksum64(std::string_view bytes) noexcept {
  return XXH3_64bits(bytes.data(), bytes.size());
}

std::uint64_t checksum64(std::initializer_list<std::string_view> parts) {
  // XXH3's streaming state costs ~1,500 instructions to reset, feed and finish
  // however small its input (measured with callgrind on get_versions): a small
  // input is copied into one buffer and hashed in one call instead. Both give
  // the same value (XXH3 of the concatenation).
  constexpr std::size_t kOneShotBytes = 16 * 1024;
  std::size_t total = 0;
  for (std::string_view part : parts) total += part.size();
  if (total <= kOneShotBytes) {
    thread_local char buffer[kOneShotBytes];
    std::size_t at = 0;
    for (std::string_view part : parts) {
      if (!part.empty()) std::memcpy(buffer + at, part.data(), part.size());
      at += part.size();
    }
    return XXH3_64bits(buffer, total);
  }
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

namespace {

// EVP_Digest fetches the algorithm and allocates a context on every call, which
// costs about as much as hashing a small event: fetch once, and keep one
// context per thread.
const EVP_MD* sha256_md() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

struct DigestContext {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  ~DigestContext() { EVP_MD_CTX_free(ctx); }
};

}  // namespace

Hash256 sha256(std::initializer_list<std::string_view> parts) {
  thread_local DigestContext context;
  Hash256 out{};
  unsigned int len = 0;
  const EVP_MD* md = sha256_md();
  bool ok =
      md != nullptr && context.ctx != nullptr && EVP_DigestInit_ex2(context.ctx, md, nullptr) == 1;
  for (std::string_view part : parts) {
    ok = ok && EVP_DigestUpdate(context.ctx, part.data(), part.size()) == 1;
  }
  if (!ok || EVP_DigestFinal_ex(context.ctx, out.data(), &len) != 1 || len != out.size()) {
    throw std::runtime_error("SHA-256 failed");
  }
  return out;
}

Hash256 sha256(std::string_view bytes) { return sha256({bytes}); }

}  // namespace planning::detail
