#include "bench/report.hpp"

#include <sched.h>
#include <sys/utsname.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>

#include <fmt/chrono.h>
#include <fmt/format.h>

namespace bench {

void Report::add(Row row) { rows_.push_back(std::move(row)); }

std::string Report::markdown() const {
  std::string out = "| workload | ours | baseline | ratio | goal | met? |\n";
  out += "|---|---|---|---|---|---|\n";
  for (const Row& r : rows_) {
    const char* met = !r.met ? "—" : *r.met ? "yes" : "**no**";
    out += fmt::format("| {} | {} | {} | {} | {} | {} |\n", r.workload, r.ours, r.baseline, r.ratio,
                       r.goal, met);
  }
  return out;
}

std::string with_commas(std::uint64_t n) {
  const std::string digits = std::to_string(n);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string rate(double per_second, std::string_view unit) {
  return with_commas(static_cast<std::uint64_t>(per_second + 0.5)) + " " + std::string(unit);
}

std::string micros(double us) {
  if (us >= 1000.0) return millis(us / 1000.0);
  return fmt::format("{:.{}f} µs", us, us < 10.0 ? 2 : 1);
}

std::string millis(double ms) { return fmt::format("{:.{}f} ms", ms, ms < 10.0 ? 2 : 1); }

std::string mebibytes(double bytes) { return fmt::format("{:.1f} MiB", bytes / 1048576.0); }

std::string times(double ratio) { return fmt::format("{:.{}f}×", ratio, ratio < 10.0 ? 2 : 1); }

std::string percent(double fraction) { return fmt::format("{:.1f} %", fraction * 100.0); }

namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("model name")) {
      const auto colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown CPU";
}

// Filesystem type and device of the longest mount point that holds `dir`.
std::string filesystem_of(const std::filesystem::path& dir) {
  std::error_code ec;
  auto target = std::filesystem::weakly_canonical(dir, ec).string();
  std::ifstream in("/proc/self/mounts");
  std::string device, mount, type, best = "unknown filesystem";
  std::size_t best_length = 0;
  std::string rest;
  while (in >> device >> mount >> type && std::getline(in, rest)) {
    const bool holds = target == mount || mount == "/" ||
                       (target.starts_with(mount) && target[mount.size()] == '/');
    if (holds && mount.size() >= best_length) {
      best_length = mount.size();
      best = type + " (" + device + " on " + mount + ")";
    }
  }
  return best;
}

}  // namespace

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  double a = 0, b = 0, c = 0;
  in >> a >> b >> c;
  return fmt::format("{:.2f}/{:.2f}/{:.2f}", a, b, c);
}

std::string describe_machine(const std::filesystem::path& dir, const std::string& load_at_start) {
  cpu_set_t set;
  CPU_ZERO(&set);
  const int cpus = ::sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
  utsname uts{};
  ::uname(&uts);
  const auto now = std::chrono::floor<std::chrono::seconds>(std::chrono::system_clock::now());
  return fmt::format(
      "Machine: nproc {}, {}, {} {}, temp dir {} on {}, {:%Y-%m-%d %H:%M:%S} UTC, load average "
      "(1/5/15 min) {} at the start and {} at the end of the run.",
      cpus, cpu_model(), uts.sysname, uts.release, dir.string(), filesystem_of(dir), now,
      load_at_start, load_average());
}

}  // namespace bench
