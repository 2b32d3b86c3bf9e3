// Workloads 4 and 7: replaying an N-event log — rebuild_projections throughput,
// open() of a store whose checkpoints are current, and the peak memory of a
// process that rebuilds.
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "bench/baselines.hpp"
#include "bench/sqlite_peer.hpp"
#include "bench/workloads.hpp"

extern char** environ;

namespace bench {

namespace {

constexpr std::size_t kContentBytes = 1024;
constexpr std::size_t kBuildBatch = 1000;
constexpr int kOpenSamples = 5;

// Appends `events` events with apply_batch: one create (1 KiB initial content)
// per 50 events, the rest 1 KiB content updates spread over those sessions.
void build_log(planning::SessionManager& manager, std::uint64_t events) {
  const ContentPool pool(kContentBytes);
  const std::uint64_t sessions = std::max<std::uint64_t>(1, events / 50);
  std::vector<std::string> ids;
  ids.reserve(sessions);
  std::uint64_t made = 0;
  while (made < events) {
    planning::WriteBatch batch;
    const bool creating = made < sessions;  // a batch holds only creates or only updates
    const std::uint64_t end = std::min(creating ? sessions : events, made + kBuildBatch);
    for (; made < end; ++made) {
      if (creating) {
        batch.create({.title = fmt::format("log session {}", made),
                      .repository_path = fmt::format("/repos/r{}", made / 50),
                      .initial_content = pool.at(made),
                      .created_by = "bench"});
      } else {
        batch.update(ids[made % sessions], autosave(pool.at(made)));
      }
    }
    for (auto& r : must(manager.apply_batch(batch), "apply_batch")) {
      auto session = must(std::move(r), "build the log");
      if (creating) ids.push_back(std::move(session.id));
    }
    if (made % 100000 == 0) progress(fmt::format("   built {} events", with_commas(made)));
  }
}

// The N-event store of workloads 4 and 7, built once per run.
TempStore& log_store(RunState& state) {
  if (!state.log_store) {
    state.log_store = std::make_unique<TempStore>(state.config, "log");
    progress(fmt::format("   building a {}-event log", with_commas(state.config.log_events)));
    auto manager = open_store(state.log_store->path());
    const double seconds = time_seconds([&] { build_log(*manager, state.config.log_events); });
    const auto head = must(manager->head_sequence(), "head_sequence");
    if (head != state.config.log_events)
      die(fmt::format("log has {} events, not the {} asked", head, state.config.log_events));
    progress(fmt::format("   built in {:.1f} s ({:.0f} events/s)", seconds,
                         static_cast<double>(head) / seconds));
  }
  return *state.log_store;
}

std::string megabytes(double bytes) { return fmt::format("{:.1f} MB", bytes / 1e6); }

// The same log in the same-work SQLite peer: N/50 creates (1 KiB initial
// content), the rest 1 KiB content updates, 1,000 operations per transaction.
void build_peer_log(SqlitePeer& peer, std::uint64_t events) {
  const ContentPool pool(kContentBytes);
  const std::uint64_t sessions = std::max<std::uint64_t>(1, events / 50);
  std::vector<std::string> ids;
  ids.reserve(sessions);
  for (std::uint64_t made = 0; made < events;) {
    peer.begin();
    const bool creating = made < sessions;
    const std::uint64_t end = std::min(creating ? sessions : events, made + kBuildBatch);
    for (; made < end; ++made) {
      if (creating) {
        ids.push_back(peer.create_in_txn(fmt::format("log session {}", made),
                                         fmt::format("/repos/r{}", made / 50), pool.at(made)));
      } else {
        peer.update_in_txn(ids[made % sessions], pool.at(made));
      }
    }
    peer.commit();
  }
}

std::string kib_per_event(std::uint64_t bytes, std::uint64_t events) {
  return kib_per_op(
      static_cast<double>(bytes) / static_cast<double>(std::max<std::uint64_t>(events, 1)),
      "event");
}

}  // namespace

void rebuild_and_open(RunState& state) {
  const Config& c = state.config;
  const auto& path = log_store(state).path();
  const std::string n = with_commas(c.log_events);
  double rebuild_rate = 0, peer_rate = 0;
  std::uint64_t ours_written = 0, peer_written = 0;
  TempStore peer_dir(c, "log-peer");
  {
    SqlitePeer peer(peer_dir.path() / "peer.sqlite");
    progress(fmt::format("   building the same {}-event log in the same-work SQLite peer", n));
    build_peer_log(peer, c.log_events);
  }
  {
    auto manager = open_store(path);
    SqlitePeer peer(peer_dir.path() / "peer.sqlite");
    for (int round = 0; round < c.rounds; ++round) {
      const std::uint64_t before = io_write_bytes();
      const double seconds =
          time_seconds([&] { must(manager->rebuild_projections(), "rebuild_projections"); });
      const std::uint64_t ours_bytes = io_write_bytes() - before;
      rebuild_rate = std::max(rebuild_rate, static_cast<double>(c.log_events) / seconds);
      const std::uint64_t peer_before = io_write_bytes();
      std::uint64_t replayed = 0;
      const double peer_seconds = time_seconds([&] { replayed = peer.rebuild(); });
      const std::uint64_t peer_bytes = io_write_bytes() - peer_before;
      if (replayed != c.log_events) die("the SQLite peer replayed the wrong number of events");
      peer_rate = std::max(peer_rate, static_cast<double>(c.log_events) / peer_seconds);
      if (round == 0 || ours_bytes < ours_written) ours_written = ours_bytes;
      if (round == 0 || peer_bytes < peer_written) peer_written = peer_bytes;
      progress(fmt::format("4. rebuild: round {}: {:.0f} events/s ({} written), same-work SQLite "
                           "{:.0f} events/s ({} written)",
                           round + 1, rebuild_rate, kib_per_event(ours_bytes, c.log_events),
                           peer_rate, kib_per_event(peer_bytes, c.log_events)));
    }
  }
  std::vector<double> ours, raw;
  for (int i = 0; i < kOpenSamples; ++i) {
    ours.push_back(time_seconds([&] { open_store(path); }) * 1e3);  // open, then close
    raw.push_back(raw_lmdb_open_ms(path));
  }
  const double open_ms = median(ours), raw_ms = median(raw);
  progress(fmt::format("4. open: {:.2f} ms, raw {:.2f} ms", open_ms, raw_ms));
  // A lost projection (both copies of `statistics` deleted): open() replays
  // the whole log into it, decoding ahead on a second thread.
  raw_lmdb_drop_databases(path, {"statistics", "statistics@1"});
  const double catch_up_rate =
      static_cast<double>(c.log_events) / time_seconds([&] { open_store(path); });
  progress(fmt::format("4. open catching up statistics: {:.0f} events/s", catch_up_rate));
  const double file = static_cast<double>(file_size_or_zero(path / "data.mdb"));
  state.report.add({.workload = fmt::format("4. rebuild_projections, {}-event log", n),
                    .ours = rate(rebuild_rate, "events/s"),
                    .baseline = "same-work SQLite replay: " + rate(peer_rate, "events/s"),
                    .ratio = times(rebuild_rate / peer_rate),
                    .goal = "≥ 2× same-work SQLite; ≥ 300,000 events/s",
                    .met = rebuild_rate >= 2.0 * peer_rate && rebuild_rate >= 300000});
  state.report.add({.workload = fmt::format("4. bytes written per rebuilt event, {}-event log", n),
                    .ours = kib_per_event(ours_written, c.log_events),
                    .baseline = "same-work SQLite: " + kib_per_event(peer_written, c.log_events),
                    .ratio = times(static_cast<double>(ours_written) /
                                   static_cast<double>(std::max<std::uint64_t>(peer_written, 1))),
                    .goal = "below the SQLite peer",
                    .met = ours_written < peer_written});
  state.report.add({.workload = fmt::format("4. open(), checkpoints current, {}-event store ({})",
                                            n, megabytes(file)),
                    .ours = millis(open_ms),
                    .baseline = "raw mdb_env_open + read txn, same file: " + millis(raw_ms),
                    .ratio = times(open_ms / raw_ms),
                    .goal = "< 50 ms",
                    .met = open_ms < 50.0});
  state.report.add({.workload = fmt::format(
                        "4. open() catching up a lost projection (statistics), {}-event log", n),
                    .ours = rate(catch_up_rate, "events/s"),
                    .baseline = "rebuild_projections of every projection, same log: " +
                                rate(rebuild_rate, "events/s"),
                    .ratio = times(catch_up_rate / rebuild_rate),
                    .goal = "— (informational)",
                    .met = std::nullopt});
}

int rebuild_child(const std::filesystem::path& store) {
  auto manager = open_store(store);
  const std::uint64_t after_open = peak_rss_bytes();
  std::atomic<bool> done{false};
  std::atomic<std::uint64_t> anon_peak{anon_rss_bytes()};
  std::jthread sampler([&] {
    while (!done.load()) {
      anon_peak = std::max(anon_peak.load(), anon_rss_bytes());
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
  must(manager->rebuild_projections(), "rebuild_projections");
  done = true;
  sampler.join();
  std::cout << "vmhwm=" << peak_rss_bytes() << " anon_peak=" << anon_peak.load()
            << " open_vmhwm=" << after_open << std::endl;
  return 0;
}

void peak_memory(RunState& state) {
  const auto& path = log_store(state).path();
  // A fresh process, so the figure is the rebuild's alone and not this
  // benchmark's own (which holds content pools and earlier workloads' state).
  int out[2];
  if (::pipe(out) != 0) die("pipe failed");
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
  ::posix_spawn_file_actions_addclose(&actions, out[0]);
  std::string self = "/proc/self/exe", flag = "--child-rebuild", store = path.string();
  char* argv[] = {self.data(), flag.data(), store.data(), nullptr};
  pid_t pid = 0;
  if (::posix_spawn(&pid, self.c_str(), &actions, nullptr, argv, environ) != 0) {
    die("cannot start the rebuild child");
  }
  ::posix_spawn_file_actions_destroy(&actions);
  ::close(out[1]);
  std::string text;
  char buffer[256];
  for (ssize_t n; (n = ::read(out[0], buffer, sizeof buffer)) > 0;) text.append(buffer, n);
  ::close(out[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  std::uint64_t vmhwm = 0, anon = 0, at_open = 0;
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 ||
      std::sscanf(text.c_str(), "vmhwm=%lu anon_peak=%lu open_vmhwm=%lu", &vmhwm, &anon,
                  &at_open) != 3) {
    die("the rebuild child failed: " + text);
  }
  progress(
      fmt::format("7. memory: VmHWM {} B, anon peak {} B, after open {} B", vmhwm, anon, at_open));
  const std::string n = with_commas(state.config.log_events);
  state.report.add(
      {.workload = fmt::format("7. peak RSS (VmHWM) of a process rebuilding {} events", n),
       .ours = megabytes(static_cast<double>(vmhwm)),
       .baseline = "same process after open(): " + megabytes(static_cast<double>(at_open)),
       .goal = "< 100 MB",
       .met = vmhwm < 100'000'000});
  state.report.add({.workload = "7. of which anonymous (heap) memory, peak sampled every 5 ms",
                    .ours = megabytes(static_cast<double>(anon)),
                    .goal = "< 100 MB",
                    .met = anon < 100'000'000});
}

}  // namespace bench
