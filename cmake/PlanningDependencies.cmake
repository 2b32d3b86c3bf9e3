# Finds every dependency of the planning library. Shared by the build tree and
# the installed package config (a static libplanning needs its private deps too).
include(CMakeFindDependencyMacro)
find_dependency(Threads)
find_dependency(PkgConfig)
pkg_check_modules(LMDB REQUIRED IMPORTED_TARGET lmdb)
pkg_check_modules(XXHASH REQUIRED IMPORTED_TARGET libxxhash)
pkg_check_modules(ZSTD REQUIRED IMPORTED_TARGET libzstd)
pkg_check_modules(LIBPQ REQUIRED IMPORTED_TARGET libpq)
find_dependency(cereal)
find_dependency(nlohmann_json)
find_dependency(Boost)
find_dependency(OpenSSL)
find_dependency(fmt)
