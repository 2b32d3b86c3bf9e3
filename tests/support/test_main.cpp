// The one Catch2 main, compiled once and shared by every suite. A run whose
// test spec matches no case fails (Catch's NoTests warning, exit 2) instead of
// passing with "No tests ran"; CTest adds -w NoAssertions (tests/CMakeLists.txt).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

int main(int argc, char* argv[]) {
  Catch::Session session;
  session.configData().warnings = Catch::WarnAbout::NoTests;
  if (const int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  return session.run();
}
