// The report: one Markdown table (workload | ours | baseline | ratio | goal |
// met?) and one line describing the machine the figures were taken on.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace bench {

struct Row {
  std::string workload;
  std::string ours;
  std::string baseline = "—";
  std::string ratio = "—";
  std::string goal;
  std::optional<bool> met;  // none: informational row ("—")
};

class Report {
 public:
  void add(Row row);
  // The table, rows in the order added.
  std::string markdown() const;

 private:
  std::vector<Row> rows_;
};

// Number formatting shared by the workloads.
std::string rate(double per_second, std::string_view unit = "ops/s");  // "12,345 ops/s"
std::string micros(double us);                                         // "4.2 µs"
std::string millis(double ms);                                         // "12.3 ms"
std::string mebibytes(double bytes);                                   // "98.1 MiB"
std::string times(double ratio);                                       // "0.85×"
std::string percent(double fraction);                                  // "3.1 %"
std::string with_commas(std::uint64_t n);                              // "1,000,000"

// "/proc/loadavg"'s 1/5/15-minute figures, "6.74/7.85/6.75".
std::string load_average();
// "Machine: nproc 2, <CPU model>, Linux <release>, temp dir <dir> on <fs>
// (<device>), <UTC date>, load average ..." — the load averages (at the start
// and at the end of the run) tell a reader whether the box was busy.
std::string describe_machine(const std::filesystem::path& dir, const std::string& load_at_start);

}  // namespace bench
