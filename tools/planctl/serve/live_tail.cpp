// planctl serve: the live tail, Server-Sent Events of the events committed
// after a sequence number (by any process: the store is polled like
// `planctl log --follow`, each poll a fresh read transaction).
//   GET /audit/stream?after=SEQ&session=&type=   (Last-Event-ID overrides after)
// Each event is "id: SEQ\nevent: event\ndata: <planctl --json log line>\n\n".
// A poll reads at most kBatch events into memory and closes its read
// transaction before writing to the client, so a slow or stalled client never
// holds a transaction (writers never wait for it); a write that cannot finish
// within httplib's write timeout (5 s) drops that client. At most
// Site::max_streams tails are open at once (503 beyond), so tails cannot take
// every worker thread from other clients.
#include <algorithm>
#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "../input.hpp"
#include "../output.hpp"
#include "queries.hpp"
#include "site.hpp"

namespace planctl::serve {
namespace {

constexpr std::size_t kBatch = 200;
constexpr auto kPoll = std::chrono::milliseconds(200);
constexpr auto kHeartbeat = std::chrono::seconds(10);

// Holds one of Site::max_streams slots for as long as a stream lives.
struct StreamSlot {
  explicit StreamSlot(Site& s) : site(s) {}
  ~StreamSlot() { --site.streams; }
  Site& site;
};

struct Tail {
  planning::EventQuery query;
  std::uint64_t next = 1;
  std::chrono::steady_clock::time_point last_write = std::chrono::steady_clock::now();
};

// One poll: what is new, written out; false when the client is gone or the
// server stops.
bool pump(Site& site, Tail& tail, httplib::DataSink& sink) {
  for (;;) {
    // A client that went away frees its slot and thread within one poll.
    if (site.stopping || (sink.is_writable && !sink.is_writable())) return false;
    const auto head = unwrap(site.store.head_sequence());
    if (tail.next <= head) {
      planning::EventQuery range = tail.query;
      range.from_sequence = tail.next;
      range.to_sequence = head;
      range.limit = kBatch;
      std::vector<planning::Event> events;
      std::uint64_t last = tail.next - 1;
      unwrap(site.store.scan_events(range, [&](const planning::Event& e) {
        events.push_back(e);
        last = e.sequence;
        return true;
      }));
      // Fewer than a batch means the range up to head is done.
      tail.next = events.size() < kBatch ? head + 1 : last + 1;
      for (const auto& e : events) {
        const auto text = "id: " + std::to_string(e.sequence) +
                          "\nevent: event\ndata: " + json_line(planning::to_json(e)) + "\n";
        if (!sink.write(text.data(), text.size())) return false;
      }
      if (!events.empty()) {
        tail.last_write = std::chrono::steady_clock::now();
        return true;
      }
      continue;
    }
    if (std::chrono::steady_clock::now() - tail.last_write >= kHeartbeat) {
      static constexpr char kPing[] = ": ping\n\n";
      tail.last_write = std::chrono::steady_clock::now();
      return sink.write(kPing, sizeof kPing - 1);
    }
    std::this_thread::sleep_for(kPoll);
  }
}

}  // namespace

void add_live_tail(httplib::Server& server, Site& site) {
  server.Get(
      "/audit/stream",
      wrap(Kind::api, [&site](const httplib::Request& request, httplib::Response& response) {
        auto tail = std::make_shared<Tail>();
        tail->query = event_query(request);
        std::uint64_t after = unwrap(site.store.head_sequence());
        if (const auto a = param(request, "after")) after = parse_unsigned("after", *a);
        if (request.has_header("Last-Event-ID"))
          after = parse_unsigned("Last-Event-ID", request.get_header_value("Last-Event-ID"));
        tail->next = std::max(after + 1, tail->query.from_sequence);
        if (++site.streams > site.max_streams) {
          --site.streams;
          response.status = 503;
          send_json(response,
                    json_document({{"error",
                                    {{"code", "unavailable"},
                                     {"message", "too many live tails open; try again later"},
                                     {"exit", static_cast<int>(Exit::storage)}}}}));
          return;
        }
        auto slot = std::make_shared<StreamSlot>(site);
        response.set_header("Cache-Control", "no-store");
        response.set_header("X-Accel-Buffering", "no");
        response.set_chunked_content_provider(
            "text/event-stream",
            [&site, tail, slot](std::size_t, httplib::DataSink& sink) {
              try {
                return pump(site, *tail, sink);
              } catch (const Failure&) {
                return false;  // the store failed to read: end the stream, the client retries
              } catch (const std::exception&) {
                return false;  // e.g. allocation failure: end this stream, keep the server
              }
            },
            [slot](bool) {});
      }));
}

}  // namespace planctl::serve
