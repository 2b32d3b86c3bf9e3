// Producing items ahead of their consumer, on a thread of its own: `produce`
// is called until it returns nullopt, and up to `depth` items wait to be taken.
// A replay reads its log this way ahead of decoding it (DecodeAhead), and a
// bulk build merges its sorted runs (CPU and reads of temporary files) while
// it appends the previous chunk to LMDB.
//
// `produce` must not need anything the consumer holds while it waits in
// take() (for LMDB: no transaction of this process). An exception thrown by
// `produce` reaches take() after the items produced before it. The destructor
// stops the producer (after the item in progress) and waits for it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

namespace planning::detail {

template <typename T>
class ReadAhead {
 public:
  using Producer = std::function<std::optional<T>()>;

  ReadAhead(Producer produce, std::size_t depth)
      : produce_(std::move(produce)), depth_(depth < 1 ? 1 : depth), thread_([this] { run(); }) {}
  ~ReadAhead() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
    }
    room_.notify_all();
    thread_.join();
  }
  ReadAhead(const ReadAhead&) = delete;
  ReadAhead& operator=(const ReadAhead&) = delete;

  // The next item, waiting for it; nullopt once every item is taken. Rethrows
  // the producer's exception in its place.
  std::optional<T> take() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !queue_.empty() || ended_; });
    if (queue_.empty()) {
      if (error_) std::rethrow_exception(error_);
      return std::nullopt;
    }
    T item = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    room_.notify_one();
    return item;
  }

 private:
  void run() {
    std::exception_ptr error;
    try {
      for (;;) {
        {
          std::unique_lock lock(mutex_);
          room_.wait(lock, [&] { return stop_ || queue_.size() < depth_; });
          if (stop_) break;
        }
        std::optional<T> item = produce_();
        if (!item) break;
        std::lock_guard lock(mutex_);
        queue_.push_back(std::move(*item));
        ready_.notify_one();
      }
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard lock(mutex_);
    error_ = error;
    ended_ = true;
    ready_.notify_one();
  }

  const Producer produce_;
  const std::size_t depth_;
  std::mutex mutex_;
  std::condition_variable ready_;  // an item was queued, or the producer ended
  std::condition_variable room_;   // an item was taken, or stop_ was set
  std::deque<T> queue_;
  std::exception_ptr error_;
  bool ended_ = false;
  bool stop_ = false;
  std::thread thread_;  // last: started once every member above is ready
};

}  // namespace planning::detail
