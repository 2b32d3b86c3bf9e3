// The Node-API addon: planning::SessionManager for Node.js.
//
// Threads:
//  * The JavaScript thread converts arguments and results (JS values are never
//    touched anywhere else).
//  * Reads, audits and maintenance calls run as Napi::AsyncWorker tasks on
//    libuv's thread pool, in parallel (the engine reads on snapshots).
//  * Every mutating call (create, update, pause, ..., applyBatch) is queued to
//    the store's one writer thread, which takes everything queued and commits it
//    as one SessionManager::apply_batch — one transaction, one durable commit —
//    so concurrent promises share group commits, and writes apply in the order
//    they were called.
//  * Results, engine signals and engine log lines come back to the JavaScript
//    thread through one Napi::ThreadSafeFunction per manager, in the order they
//    were produced (signals before the result of the call that committed them).
//
// One engine per store per process: managers opened on the same directory in
// one process (main thread and worker_threads alike) share one
// SessionManager (LMDB forbids opening an environment twice in a process).
#include <napi.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/signals2/connection.hpp>

#include "convert.hpp"

namespace pnode {
namespace {

using planning::ErrorCode;

planning::Error closed_error() {
  return planning::Error{ErrorCode::invalid_state, "the manager is closed"};
}

// ---------------------------------------------------------------------------
// Items delivered to the JavaScript thread.

struct Sink;
struct Store;

struct WriteOp {
  enum class Shape : std::uint8_t { single, batch, version };
  Shape shape = Shape::single;
  std::vector<planning::WriteBatch::Operation> ops;
  planning::Result<std::vector<planning::Result<planning::Session>>> results{};
  planning::Result<planning::Version> version{};
  std::shared_ptr<Sink> sink;
  std::shared_ptr<Store> store;  // keeps the engine open until the result is delivered
  napi_deferred deferred = nullptr;
};

struct Item {
  enum class Kind : std::uint8_t { done, event, log };
  Kind kind = Kind::done;
  std::unique_ptr<WriteOp> op;
  std::optional<planning::Event> event;
  planning::LogLevel level = planning::LogLevel::info;
  std::string message;
};

void call_js(Napi::Env env, Napi::Function fn, Sink* sink, Item* item);
using Tsfn = Napi::TypedThreadSafeFunction<Sink, Item, call_js>;

// The per-manager channel to the JavaScript thread.
struct Sink {
  std::mutex mutex;
  bool alive = false;  // tsfn usable (set false on release and on finalize)
  Tsfn tsfn;
  std::atomic<bool> want_events{false};
  std::atomic<bool> want_logs{false};
  // JavaScript thread only.
  std::size_t pending = 0;
  bool closing = false;
  std::vector<napi_deferred> close_waiters;

  bool post(Item* item) {
    std::lock_guard lock(mutex);
    if (!alive) return false;
    return tsfn.NonBlockingCall(item) == napi_ok;
  }
  void release() {
    std::lock_guard lock(mutex);
    if (!alive) return;
    alive = false;
    tsfn.Release();
  }
  // JavaScript thread: a queued write finished (or was refused).
  void finished(Napi::Env env) {
    if (--pending > 0) return;
    tsfn.Unref(env);
    if (!closing) return;
    release();
    for (napi_deferred d : close_waiters) napi_resolve_deferred(env, d, env.Undefined());
    close_waiters.clear();
  }
};

Napi::Value write_result_to_js(Napi::Env env, const WriteOp& op) {
  switch (op.shape) {
    case WriteOp::Shape::version:
      return result_to_js(env, op.version);
    case WriteOp::Shape::batch:
      return result_to_js(env, op.results);
    case WriteOp::Shape::single:
      break;
  }
  if (!op.results) return error_result(env, op.results.error());
  if (op.results->size() != 1)
    return error_result(env, {ErrorCode::storage, "internal: a single operation got no result"});
  return result_to_js(env, op.results->front());
}

void call_js(Napi::Env env, Napi::Function fn, Sink* sink, Item* raw) {
  std::unique_ptr<Item> item(raw);
  if (env == nullptr) {
    // The environment is going away: its promises cannot be settled any more.
    // Leak the operation (it holds JavaScript handles of a dead environment and
    // a reference to the store, which another environment of this process may
    // still share).
    (void)item->op.release();
    return;
  }
  // While a worker thread is being terminated, any call into JavaScript may
  // fail (and throw here): nothing may escape this function.
  if (item->kind == Item::Kind::done) {
    std::unique_ptr<WriteOp> op = std::move(item->op);
    try {
      Napi::HandleScope scope(env);
      napi_resolve_deferred(env, op->deferred, write_result_to_js(env, *op));
    } catch (...) {
    }
    op.reset();
    try {
      sink->finished(env);
    } catch (...) {
    }
    return;
  }
  try {
    Napi::HandleScope scope(env);
    switch (item->kind) {
      case Item::Kind::done:
        break;
      case Item::Kind::event:
        fn.Call({Napi::String::New(env, "event"), to_js(env, *item->event)});
        break;
      case Item::Kind::log:
        fn.Call({Napi::String::New(env, "log"),
                 Napi::String::New(env, std::string(planning::to_string(item->level))),
                 Napi::String::New(env, item->message)});
        break;
    }
  } catch (const Napi::Error& e) {
    // A listener or logger threw: report it as Node reports an exception thrown
    // by an EventEmitter listener (uncaughtException), never crash.
    if (!e.IsEmpty()) napi_fatal_exception(env, e.Value());
  } catch (...) {
  }
}

void finalize_tsfn(Napi::Env, std::shared_ptr<Sink>* keep, Sink* sink) {
  {
    std::lock_guard lock(sink->mutex);
    sink->alive = false;
  }
  delete keep;
}

// ---------------------------------------------------------------------------
// One open store, shared by every manager of this process opened on it.

struct OpenConfig {
  std::filesystem::path path;
  bool auto_version = true;
  planning::Durability durability = planning::Durability::full;
  bool read_only = false;
  bool create_if_missing = true;
  std::size_t initial_map_size = planning::Options{}.initial_map_size;
  std::size_t max_map_size = planning::Options{}.max_map_size;
  unsigned max_readers = planning::Options{}.max_readers;
  planning::StructureCheck structure_check = planning::StructureCheck::roots;
};

std::mutex g_registry_mutex;
std::condition_variable g_registry_cv;
std::map<std::string, std::weak_ptr<Store>> g_registry;

constexpr std::size_t kMaxGroupOperations = 10000;

struct Store {
  std::string key;
  OpenConfig config;
  std::unique_ptr<planning::SessionManager> engine;
  bool registered = false;

  std::mutex sinks_mutex;
  std::vector<std::weak_ptr<Sink>> sinks;

  std::mutex queue_mutex;
  std::condition_variable queue_cv;
  std::deque<std::unique_ptr<WriteOp>> queue;
  bool stop = false;
  std::thread writer;

  ~Store() {
    {
      std::lock_guard lock(queue_mutex);
      stop = true;
    }
    queue_cv.notify_all();
    if (writer.joinable()) {
      if (writer.get_id() == std::this_thread::get_id())
        writer.detach();
      else
        writer.join();
    }
    engine.reset();  // closes LMDB
    if (registered) {
      std::lock_guard lock(g_registry_mutex);
      auto it = g_registry.find(key);
      if (it != g_registry.end() && it->second.expired()) g_registry.erase(it);
      g_registry_cv.notify_all();
    }
  }

  void add_sink(const std::shared_ptr<Sink>& sink) {
    std::lock_guard lock(sinks_mutex);
    std::erase_if(sinks, [](const std::weak_ptr<Sink>& s) { return s.expired(); });
    sinks.push_back(sink);
  }

  void log(planning::LogLevel level, std::string_view message) {
    std::lock_guard lock(sinks_mutex);
    for (const auto& weak : sinks) {
      auto sink = weak.lock();
      if (!sink || !sink->want_logs.load(std::memory_order_relaxed)) continue;
      auto* item = new Item{Item::Kind::log, nullptr, std::nullopt, level, std::string(message)};
      if (!sink->post(item)) delete item;
    }
  }

  void enqueue(std::unique_ptr<WriteOp> op) {
    {
      std::lock_guard lock(queue_mutex);
      queue.push_back(std::move(op));
    }
    queue_cv.notify_one();
  }

  void start_writer() {
    writer = std::thread([this] { writer_loop(); });
  }

  void writer_loop() {
    std::unique_lock lock(queue_mutex);
    for (;;) {
      queue_cv.wait(lock, [&] { return stop || !queue.empty(); });
      if (queue.empty()) return;
      std::vector<std::unique_ptr<WriteOp>> group;
      std::size_t operations = 0;
      while (!queue.empty() && (group.empty() || operations + queue.front()->ops.size() <= kMaxGroupOperations)) {
        operations += queue.front()->ops.size();
        group.push_back(std::move(queue.front()));
        queue.pop_front();
      }
      lock.unlock();
      commit_group(group);
      lock.lock();
    }
  }

  static void add(planning::WriteBatch& batch, planning::WriteBatch::Operation& o) {
    using Kind = planning::WriteBatch::Kind;
    switch (o.kind) {
      case Kind::create: batch.create(std::move(o.create)); break;
      case Kind::update: batch.update(std::move(o.session_id), std::move(o.update)); break;
      case Kind::pause: batch.pause(std::move(o.session_id), std::move(o.text), std::move(o.by)); break;
      case Kind::resume: batch.resume(std::move(o.session_id), std::move(o.by)); break;
      case Kind::archive: batch.archive(std::move(o.session_id), std::move(o.by)); break;
      case Kind::mark_converted: batch.mark_converted(std::move(o.session_id), std::move(o.convert)); break;
      case Kind::remove: batch.remove(std::move(o.session_id), std::move(o.by)); break;
      case Kind::create_version:
        batch.create_version(std::move(o.session_id), std::move(o.text), std::move(o.by));
        break;
      case Kind::restore_version:
        batch.restore_version(std::move(o.session_id), o.version_number, std::move(o.by));
        break;
    }
  }

  // Commits a group of queued calls: consecutive ones as one apply_batch (one
  // transaction, one durable commit); createVersion, whose result is a Version,
  // on its own. Then hands every result to its manager's JavaScript thread.
  void commit_group(std::vector<std::unique_ptr<WriteOp>>& group) {
    planning::WriteBatch batch;
    std::vector<WriteOp*> members;
    auto flush = [&] {
      if (members.empty()) return;
      planning::Result<std::vector<planning::Result<planning::Session>>> results;
      try {
        results = engine->apply_batch(batch);
      } catch (const std::exception& e) {
        results = planning::fail(ErrorCode::storage, e.what());
      }
      std::size_t k = 0;
      for (WriteOp* op : members) {
        const std::size_t n = op->ops.size();
        if (!results) {
          op->results = std::unexpected(results.error());
        } else {
          std::vector<planning::Result<planning::Session>> mine;
          mine.reserve(n);
          for (std::size_t i = 0; i < n && k + i < results->size(); ++i)
            mine.push_back(std::move((*results)[k + i]));
          op->results = std::move(mine);
        }
        k += n;
      }
      batch.clear();
      members.clear();
    };
    for (auto& op : group) {
      if (op->shape == WriteOp::Shape::version) {
        flush();
        const auto& o = op->ops.front();
        try {
          op->version = engine->create_version(o.session_id, o.text, o.by);
        } catch (const std::exception& e) {
          op->version = planning::fail(ErrorCode::storage, e.what());
        }
        continue;
      }
      if (op->ops.empty()) {
        op->results = std::vector<planning::Result<planning::Session>>{};
        continue;
      }
      for (auto& o : op->ops) add(batch, o);
      members.push_back(op.get());
    }
    flush();
    for (auto& op : group) {
      std::shared_ptr<Sink> sink = op->sink;
      auto* item = new Item{Item::Kind::done, std::move(op), std::nullopt, {}, {}};
      if (!sink->post(item)) {
        // That manager's environment is gone; see call_js.
        (void)item->op.release();
        delete item;
      }
    }
  }
};

bool same_config(const OpenConfig& a, const OpenConfig& b) {
  return a.auto_version == b.auto_version && a.durability == b.durability &&
         a.read_only == b.read_only;
}

planning::Result<std::shared_ptr<Store>> acquire_store(const OpenConfig& config) {
  std::error_code ec;
  std::filesystem::path absolute = std::filesystem::absolute(config.path, ec);
  if (ec) absolute = config.path;
  std::filesystem::path canonical = std::filesystem::weakly_canonical(absolute, ec);
  const std::string key = (ec ? absolute : canonical).lexically_normal().string();

  std::unique_lock lock(g_registry_mutex);
  for (;;) {
    auto it = g_registry.find(key);
    if (it == g_registry.end()) break;
    if (auto shared = it->second.lock()) {
      if (!same_config(shared->config, config))
        return planning::fail(ErrorCode::storage,
                              "store " + key +
                                  " is already open in this process with different options "
                                  "(auto_version, durability, read_only must match to share it)");
      return shared;
    }
    g_registry_cv.wait(lock);  // being closed by its last manager
  }
  auto store = std::make_shared<Store>();
  store->key = key;
  store->config = config;
  planning::Options options;
  options.path = config.path;
  options.auto_version = config.auto_version;
  options.durability = config.durability;
  options.read_only = config.read_only;
  options.create_if_missing = config.create_if_missing;
  options.initial_map_size = config.initial_map_size;
  options.max_map_size = config.max_map_size;
  options.max_readers = config.max_readers;
  options.structure_check = config.structure_check;
  Store* raw = store.get();  // the engine lives inside the store
  options.logger = [raw](planning::LogLevel level, std::string_view message) { raw->log(level, message); };
  auto opened = planning::SessionManager::open(std::move(options));
  if (!opened) return std::unexpected(opened.error());
  store->engine = std::move(*opened);
  store->start_writer();
  store->registered = true;
  g_registry[key] = store;
  return store;
}

// ---------------------------------------------------------------------------
// Off-thread tasks (libuv's pool) for everything that is not a queued write.

class Task : public Napi::AsyncWorker {
 public:
  using Make = std::function<Napi::Value(Napi::Env)>;
  using Run = std::function<Make()>;
  Task(Napi::Env env, Run run)
      : Napi::AsyncWorker(env, "planning"), deferred_(Napi::Promise::Deferred::New(env)), run_(std::move(run)) {}
  Napi::Promise promise() const { return deferred_.Promise(); }

 protected:
  void Execute() override {
    try {
      make_ = run_();
    } catch (const std::exception& e) {
      failure_ = e.what();
    }
  }
  void OnOK() override {
    Napi::Env env = Env();
    try {
      if (!make_) {
        deferred_.Resolve(error_result(env, {ErrorCode::storage, failure_}));
        return;
      }
      try {
        deferred_.Resolve(make_(env));
      } catch (const Napi::Error& e) {
        if (!e.IsEmpty()) deferred_.Reject(e.Value());
      }
    } catch (...) {
      // The environment is shutting down (a terminated worker): the promise
      // can no longer be settled.
    }
  }
  void OnError(const Napi::Error& e) override {
    try {
      deferred_.Reject(e.Value());
    } catch (...) {
    }
  }

 private:
  Napi::Promise::Deferred deferred_;
  Run run_;
  Make make_;
  std::string failure_;
};

template <typename T>
planning::Result<std::monostate> as_unit(const planning::Result<T>& r) {
  if (!r) return std::unexpected(r.error());
  return std::monostate{};
}

// Runs `f` (returning a planning::Result<T>) off the JavaScript thread and
// resolves with { success, data } / { success: false, error }.
template <typename F>
Napi::Value run_task(Napi::Env env, F f) {
  auto* task = new Task(env, [f = std::move(f)]() mutable -> Task::Make {
    auto result = std::make_shared<decltype(f())>(f());
    return [result](Napi::Env e) -> Napi::Value { return result_to_js(e, *result); };
  });
  Napi::Promise promise = task->promise();
  task->Queue();
  return promise;
}

Napi::Value resolved(Napi::Env env, Napi::Value value) {
  auto deferred = Napi::Promise::Deferred::New(env);
  deferred.Resolve(value);
  return deferred.Promise();
}

// A JavaScript progress callback called from a worker thread.
class Progress {
 public:
  Progress(Napi::Env env, const Napi::Value& fn) {
    if (!fn.IsFunction()) return;
    tsfn_ = Napi::ThreadSafeFunction::New(env, fn.As<Napi::Function>(), "planning-progress", 0, 1);
    active_ = true;
  }
  planning::ProgressCallback callback() {
    if (!active_) return {};
    Napi::ThreadSafeFunction tsfn = tsfn_;
    return [tsfn](std::uint64_t done, std::uint64_t total) mutable {
      tsfn.BlockingCall([done, total](Napi::Env env, Napi::Function fn) {
        if (env == nullptr) return;
        try {
          fn.Call({Napi::Number::New(env, static_cast<double>(done)),
                   Napi::Number::New(env, static_cast<double>(total))});
        } catch (const Napi::Error& e) {
          if (!e.IsEmpty()) napi_fatal_exception(env, e.Value());
        } catch (...) {
        }
      });
    };
  }
  // Waits until the JavaScript thread has run every progress call queued so
  // far (the queue is FIFO), so all of them precede the call's result.
  void done() {
    if (!active_) return;
    active_ = false;
    auto flushed = std::make_shared<std::promise<void>>();
    std::future<void> wait = flushed->get_future();
    if (tsfn_.BlockingCall([flushed](Napi::Env, Napi::Function) { flushed->set_value(); }) == napi_ok) wait.wait();
    tsfn_.Release();
  }

 private:
  Napi::ThreadSafeFunction tsfn_;
  bool active_ = false;
};

// ---------------------------------------------------------------------------
// NativeManager: the object index.js wraps.

struct AddonData {
  Napi::FunctionReference manager_constructor;
};

class NativeManager : public Napi::ObjectWrap<NativeManager> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeManager",
                       {
                           InstanceMethod<&NativeManager::Create>("create"),
                           InstanceMethod<&NativeManager::Update>("update"),
                           InstanceMethod<&NativeManager::Pause>("pause"),
                           InstanceMethod<&NativeManager::Resume>("resume"),
                           InstanceMethod<&NativeManager::Archive>("archive"),
                           InstanceMethod<&NativeManager::Remove>("remove"),
                           InstanceMethod<&NativeManager::MarkConverted>("markConverted"),
                           InstanceMethod<&NativeManager::RestoreVersion>("restoreVersion"),
                           InstanceMethod<&NativeManager::CreateVersion>("createVersion"),
                           InstanceMethod<&NativeManager::ApplyBatch>("applyBatch"),
                           InstanceMethod<&NativeManager::Get>("get"),
                           InstanceMethod<&NativeManager::GetVersions>("getVersions"),
                           InstanceMethod<&NativeManager::GetVersion>("getVersion"),
                           InstanceMethod<&NativeManager::CompareVersions>("compareVersions"),
                           InstanceMethod<&NativeManager::FindActive>("findActive"),
                           InstanceMethod<&NativeManager::FindByRepository>("findByRepository"),
                           InstanceMethod<&NativeManager::List>("list"),
                           InstanceMethod<&NativeManager::GetStatistics>("getStatistics"),
                           InstanceMethod<&NativeManager::SessionAt>("sessionAt"),
                           InstanceMethod<&NativeManager::SessionAtTime>("sessionAtTime"),
                           InstanceMethod<&NativeManager::Events>("events"),
                           InstanceMethod<&NativeManager::HeadSequence>("headSequence"),
                           InstanceMethod<&NativeManager::Verify>("verify"),
                           InstanceMethod<&NativeManager::Rebuild>("rebuildProjections"),
                           InstanceMethod<&NativeManager::Info>("info"),
                           InstanceMethod<&NativeManager::Projections>("projections"),
                           InstanceMethod<&NativeManager::Backup>("backup"),
                           InstanceMethod<&NativeManager::ExportEvents>("exportEvents"),
                           InstanceMethod<&NativeManager::ImportEvents>("importEvents"),
                           InstanceMethod<&NativeManager::FindStale>("findStale"),
                           InstanceMethod<&NativeManager::ApplyStale>("applyStale"),
                           InstanceMethod<&NativeManager::RestoreFromHistory>("restoreFromHistory"),
                           InstanceMethod<&NativeManager::SetEventsEnabled>("setEventsEnabled"),
                           InstanceMethod<&NativeManager::SetLogsEnabled>("setLogsEnabled"),
                           InstanceMethod<&NativeManager::Close>("close"),
                       });
  }

  explicit NativeManager(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeManager>(info) {}

  ~NativeManager() override {
    // Garbage-collected (or the environment ends) without close().
    if (store_) shutdown();
  }

  // Called once, right after construction, by the open task.
  void attach(Napi::Env env, std::shared_ptr<Store> store, Napi::Function dispatcher) {
    store_ = std::move(store);
    sink_ = std::make_shared<Sink>();
    sink_->tsfn = Tsfn::New(env, dispatcher, "planning", 0, 1, sink_.get(), finalize_tsfn,
                            new std::shared_ptr<Sink>(sink_));
    sink_->alive = true;
    sink_->tsfn.Unref(env);  // an idle manager does not keep the process alive
    store_->add_sink(sink_);
    std::weak_ptr<Sink> weak = sink_;
    connection_ = store_->engine->signals().any.connect([weak](const planning::Event& event) {
      auto sink = weak.lock();
      if (!sink || !sink->want_events.load(std::memory_order_relaxed)) return;
      auto* item = new Item{Item::Kind::event, nullptr, event, {}, {}};
      if (!sink->post(item)) delete item;
    });
  }

 private:
  std::shared_ptr<Store> store_;
  std::shared_ptr<Sink> sink_;
  boost::signals2::scoped_connection connection_;

  void shutdown() {
    connection_.disconnect();
    store_.reset();
    sink_->closing = true;
    if (sink_->pending == 0) sink_->release();
  }

  // --- writes --------------------------------------------------------------

  Napi::Value enqueue(Napi::Env env, std::unique_ptr<WriteOp> op) {
    napi_deferred deferred = nullptr;
    napi_value promise = nullptr;
    NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &deferred, &promise), Napi::Value());
    if (!store_) {
      napi_resolve_deferred(env, deferred, error_result(env, closed_error()));
      return Napi::Value(env, promise);
    }
    op->deferred = deferred;
    op->sink = sink_;
    op->store = store_;
    if (sink_->pending++ == 0) sink_->tsfn.Ref(env);
    store_->enqueue(std::move(op));
    return Napi::Value(env, promise);
  }

  Napi::Value single(Napi::Env env, planning::WriteBatch::Operation operation) {
    auto op = std::make_unique<WriteOp>();
    op->ops.push_back(std::move(operation));
    return enqueue(env, std::move(op));
  }

  static std::string by_arg(const Napi::CallbackInfo& info, std::size_t i) {
    if (info.Length() <= i || info[i].IsUndefined() || info[i].IsNull()) return {};
    return string_arg(info[i], "by");
  }

  Napi::Value Create(const Napi::CallbackInfo& info) {
    auto request = create_request(info[0]);
    if (!request) return resolved(info.Env(), error_result(info.Env(), request.error()));
    planning::WriteBatch::Operation o;
    o.kind = planning::WriteBatch::Kind::create;
    o.create = std::move(*request);
    return single(info.Env(), std::move(o));
  }

  Napi::Value Update(const Napi::CallbackInfo& info) {
    std::string id = string_arg(info[0], "sessionId");
    auto request = update_request(info[1]);
    if (!request) return resolved(info.Env(), error_result(info.Env(), request.error()));
    planning::WriteBatch::Operation o;
    o.kind = planning::WriteBatch::Kind::update;
    o.session_id = std::move(id);
    o.update = std::move(*request);
    return single(info.Env(), std::move(o));
  }

  Napi::Value simple(const Napi::CallbackInfo& info, planning::WriteBatch::Kind kind, bool has_text) {
    planning::WriteBatch::Operation o;
    o.kind = kind;
    o.session_id = string_arg(info[0], "sessionId");
    std::size_t next = 1;
    if (has_text) {
      if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull()) o.text = string_arg(info[1], "reason");
      next = 2;
    }
    o.by = by_arg(info, next);
    return single(info.Env(), std::move(o));
  }

  Napi::Value Pause(const Napi::CallbackInfo& info) { return simple(info, planning::WriteBatch::Kind::pause, true); }
  Napi::Value Resume(const Napi::CallbackInfo& info) { return simple(info, planning::WriteBatch::Kind::resume, false); }
  Napi::Value Archive(const Napi::CallbackInfo& info) { return simple(info, planning::WriteBatch::Kind::archive, false); }
  Napi::Value Remove(const Napi::CallbackInfo& info) { return simple(info, planning::WriteBatch::Kind::remove, false); }

  Napi::Value MarkConverted(const Napi::CallbackInfo& info) {
    planning::WriteBatch::Operation o;
    o.kind = planning::WriteBatch::Kind::mark_converted;
    o.session_id = string_arg(info[0], "sessionId");
    o.convert = convert_request(info[1]);
    return single(info.Env(), std::move(o));
  }

  Napi::Value RestoreVersion(const Napi::CallbackInfo& info) {
    planning::WriteBatch::Operation o;
    o.kind = planning::WriteBatch::Kind::restore_version;
    o.session_id = string_arg(info[0], "sessionId");
    o.version_number = u32_arg(info[1], "versionNumber");
    o.by = by_arg(info, 2);
    return single(info.Env(), std::move(o));
  }

  Napi::Value CreateVersion(const Napi::CallbackInfo& info) {
    planning::WriteBatch::Operation o;
    o.kind = planning::WriteBatch::Kind::create_version;
    o.session_id = string_arg(info[0], "sessionId");
    if (info.Length() > 1 && !info[1].IsUndefined() && !info[1].IsNull())
      o.text = string_arg(info[1], "changeSummary");
    o.by = by_arg(info, 2);
    auto op = std::make_unique<WriteOp>();
    op->shape = WriteOp::Shape::version;
    op->ops.push_back(std::move(o));
    return enqueue(info.Env(), std::move(op));
  }

  Napi::Value ApplyBatch(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsArray()) throw Napi::TypeError::New(env, "operations must be an array");
    Napi::Array array = info[0].As<Napi::Array>();
    auto op = std::make_unique<WriteOp>();
    op->shape = WriteOp::Shape::batch;
    for (std::uint32_t i = 0; i < array.Length(); ++i) {
      auto o = batch_operation(array.Get(i));
      if (!o) {
        planning::Error e = o.error();
        e.message = "operation " + std::to_string(i) + ": " + e.message;
        return resolved(env, error_result(env, e));
      }
      op->ops.push_back(std::move(*o));
    }
    return enqueue(env, std::move(op));
  }

  // --- reads ---------------------------------------------------------------

  Napi::Value closed(Napi::Env env) { return resolved(env, error_result(env, closed_error())); }

  Napi::Value Get(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    return run_task(info.Env(), [s = store_, id = string_arg(info[0], "sessionId")] { return s->engine->get(id); });
  }
  Napi::Value GetVersions(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    return run_task(info.Env(),
                    [s = store_, id = string_arg(info[0], "sessionId")] { return s->engine->get_versions(id); });
  }
  Napi::Value GetVersion(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    return run_task(info.Env(), [s = store_, id = string_arg(info[0], "sessionId"),
                                 n = u32_arg(info[1], "versionNumber")] { return s->engine->get_version(id, n); });
  }
  Napi::Value CompareVersions(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    return run_task(info.Env(), [s = store_, id = string_arg(info[0], "sessionId"), a = u32_arg(info[1], "fromVersion"),
                                 b = u32_arg(info[2], "toVersion")] { return s->engine->compare_versions(id, a, b); });
  }
  Napi::Value FindActive(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    return run_task(info.Env(), [s = store_] { return s->engine->find_active(); });
  }
  Napi::Value FindByRepository(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    return run_task(info.Env(), [s = store_, path = string_arg(info[0], "repositoryPath")] {
      return s->engine->find_by_repository(path);
    });
  }
  Napi::Value List(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    return run_task(info.Env(), [s = store_, f = session_filters(info[0])] { return s->engine->list(f); });
  }
  Napi::Value GetStatistics(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    return run_task(info.Env(), [s = store_] { return s->engine->get_statistics(); });
  }
  Napi::Value SessionAt(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    auto q = event_query([&] {
      Napi::Object o = Napi::Object::New(info.Env());
      o.Set("from_sequence", info[1]);
      return o;
    }());
    return run_task(info.Env(), [s = store_, id = string_arg(info[0], "sessionId"), seq = q.from_sequence] {
      return s->engine->session_at(id, seq);
    });
  }
  Napi::Value SessionAtTime(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    return run_task(info.Env(), [s = store_, id = string_arg(info[0], "sessionId"),
                                 t = timestamp_from_ms(info[1], "time")] { return s->engine->session_at_time(id, t); });
  }
  Napi::Value Events(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    return run_task(info.Env(), [s = store_, q = event_query(info[0])] { return s->engine->events(q); });
  }
  Napi::Value HeadSequence(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    return run_task(info.Env(), [s = store_] { return s->engine->head_sequence(); });
  }
  Napi::Value Verify(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    auto progress = std::make_shared<Progress>(info.Env(), info[0]);
    return run_task(info.Env(), [s = store_, progress] {
      auto r = s->engine->verify(progress->callback());
      progress->done();
      return r;
    });
  }
  Napi::Value Rebuild(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    auto progress = std::make_shared<Progress>(info.Env(), info[0]);
    return run_task(info.Env(), [s = store_, progress] {
      auto r = as_unit(s->engine->rebuild_projections(progress->callback()));
      progress->done();
      return r;
    });
  }
  Napi::Value Info(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    return run_task(info.Env(), [s = store_] { return s->engine->info(); });
  }
  Napi::Value Projections(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    return run_task(info.Env(), [s = store_] { return s->engine->projections(); });
  }
  Napi::Value Backup(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    bool compact = info.Length() > 1 && info[1].IsBoolean() && info[1].As<Napi::Boolean>().Value();
    return run_task(info.Env(), [s = store_, dest = string_arg(info[0], "destination"), compact] {
      return as_unit(s->engine->backup(dest, compact));
    });
  }
  Napi::Value ExportEvents(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    return run_task(info.Env(), [s = store_, file = string_arg(info[0], "file"),
                                 q = event_query(info[1])]() -> planning::Result<std::uint64_t> {
      std::ofstream out(file, std::ios::binary | std::ios::trunc);
      if (!out) return planning::fail(ErrorCode::storage, "cannot open " + file + " for writing");
      auto n = s->engine->export_events(out, q);
      out.flush();
      if (n && !out) return planning::fail(ErrorCode::storage, "cannot write " + file);
      return n;
    });
  }
  Napi::Value ImportEvents(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    return run_task(info.Env(),
                    [s = store_, file = string_arg(info[0], "file")]() -> planning::Result<std::uint64_t> {
                      std::ifstream in(file, std::ios::binary);
                      if (!in) return planning::fail(ErrorCode::storage, "cannot open " + file + " for reading");
                      return s->engine->import_events(in);
                    });
  }

  // Resolves with { success, data: report, handle } where handle carries the
  // C++ report for applyStale.
  Napi::Value FindStale(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    auto* task = new Task(info.Env(), [s = store_, o = stale_options(info[0])]() -> Task::Make {
      auto result = std::make_shared<planning::Result<planning::StaleReport>>(
          planning::SessionRecovery::find_stale(*s->engine, o));
      return [result](Napi::Env env) -> Napi::Value {
        Napi::Object out = result_to_js(env, *result);
        if (*result)
          out.Set("handle", Napi::External<planning::StaleReport>::New(
                                env, new planning::StaleReport(**result),
                                [](Napi::Env, planning::StaleReport* r) { delete r; }));
        return out;
      };
    });
    Napi::Promise promise = task->promise();
    task->Queue();
    return promise;
  }
  Napi::Value ApplyStale(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    if (!info[0].IsExternal())
      throw Napi::TypeError::New(info.Env(), "report must be a report returned by SessionRecovery.findStale");
    planning::StaleReport report = *info[0].As<Napi::External<planning::StaleReport>>().Data();
    std::string by = info.Length() > 1 && info[1].IsString() ? info[1].As<Napi::String>().Utf8Value()
                                                             : std::string("planning:recovery");
    auto progress = std::make_shared<Progress>(info.Env(), info[2]);
    return run_task(info.Env(),
                    [s = store_, report = std::move(report), by, progress]() -> planning::Result<std::uint64_t> {
                      auto n = planning::SessionRecovery::apply(*s->engine, report, by, progress->callback());
                      progress->done();
                      if (!n) return std::unexpected(n.error());
                      return static_cast<std::uint64_t>(*n);
                    });
  }
  Napi::Value RestoreFromHistory(const Napi::CallbackInfo& info) {
    if (!store_) return closed(info.Env());
    return run_task(info.Env(), [s = store_, id = string_arg(info[0], "sessionId")] {
      return planning::SessionRecovery::restore_from_history(id, *s->engine);
    });
  }

  // --- control -------------------------------------------------------------

  Napi::Value SetEventsEnabled(const Napi::CallbackInfo& info) {
    if (sink_) sink_->want_events = info[0].ToBoolean().Value();
    return info.Env().Undefined();
  }
  Napi::Value SetLogsEnabled(const Napi::CallbackInfo& info) {
    if (sink_) sink_->want_logs = info[0].ToBoolean().Value();
    return info.Env().Undefined();
  }

  // Resolves once every write this manager queued has settled. The engine is
  // closed when the last manager of the store in this process has closed and
  // its last running read has finished.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    napi_deferred deferred = nullptr;
    napi_value promise = nullptr;
    NAPI_THROW_IF_FAILED(env, napi_create_promise(env, &deferred, &promise), Napi::Value());
    if (store_) shutdown();
    if (sink_ && sink_->pending > 0)
      sink_->close_waiters.push_back(deferred);
    else
      napi_resolve_deferred(env, deferred, env.Undefined());
    return Napi::Value(env, promise);
  }
};

// open(path, { auto_version, durability, read_only, create_if_missing }, dispatcher)
Napi::Value Open(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  OpenConfig config;
  config.path = string_arg(info[0], "path");
  if (info[1].IsObject()) {
    Napi::Object o = info[1].As<Napi::Object>();
    if (o.Get("auto_version").IsBoolean()) config.auto_version = o.Get("auto_version").As<Napi::Boolean>().Value();
    if (o.Get("read_only").IsBoolean()) config.read_only = o.Get("read_only").As<Napi::Boolean>().Value();
    if (o.Get("create_if_missing").IsBoolean())
      config.create_if_missing = o.Get("create_if_missing").As<Napi::Boolean>().Value();
    auto size = [&](const char* key, std::size_t& out) {
      Napi::Value v = o.Get(key);
      if (v.IsUndefined()) return;
      if (!v.IsNumber() || v.As<Napi::Number>().DoubleValue() < 1)
        throw Napi::TypeError::New(env, std::string("options.") + key + " must be a positive number");
      out = static_cast<std::size_t>(v.As<Napi::Number>().DoubleValue());
    };
    size("initial_map_size", config.initial_map_size);
    size("max_map_size", config.max_map_size);
    std::size_t readers = config.max_readers;
    size("max_readers", readers);
    config.max_readers = static_cast<unsigned>(readers);
    if (o.Get("structure_check").IsString()) {
      std::string c = o.Get("structure_check").As<Napi::String>().Utf8Value();
      if (c == "roots") config.structure_check = planning::StructureCheck::roots;
      else if (c == "full") config.structure_check = planning::StructureCheck::full;
      else throw Napi::TypeError::New(env, "structure_check must be 'roots' or 'full'");
    }
    if (o.Get("durability").IsString()) {
      std::string d = o.Get("durability").As<Napi::String>().Utf8Value();
      if (d == "full") config.durability = planning::Durability::full;
      else if (d == "no_meta_sync") config.durability = planning::Durability::no_meta_sync;
      else if (d == "no_sync") config.durability = planning::Durability::no_sync;
      else throw Napi::TypeError::New(env, "durability must be 'full', 'no_meta_sync' or 'no_sync'");
    }
  }
  if (!info[2].IsFunction()) throw Napi::TypeError::New(env, "dispatcher must be a function");
  auto dispatcher = std::make_shared<Napi::FunctionReference>(Napi::Persistent(info[2].As<Napi::Function>()));
  auto* task = new Task(env, [config, dispatcher]() -> Task::Make {
    auto store = std::make_shared<planning::Result<std::shared_ptr<Store>>>(acquire_store(config));
    return [store, dispatcher](Napi::Env e) -> Napi::Value {
      if (!*store) return error_result(e, store->error());
      Napi::Object object = e.GetInstanceData<AddonData>()->manager_constructor.New({});
      NativeManager::Unwrap(object)->attach(e, **store, dispatcher->Value());
      return ok_result(e, object);
    };
  });
  Napi::Promise promise = task->promise();
  task->Queue();
  return promise;
}

Napi::Value Salvage(const Napi::CallbackInfo& info) {
  return run_task(info.Env(), [damaged = string_arg(info[0], "damagedStore"), fresh = string_arg(info[1], "newStore")] {
    return planning::salvage(damaged, fresh);
  });
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  auto* data = new AddonData();
  data->manager_constructor = Napi::Persistent(NativeManager::Define(env));
  env.SetInstanceData(data);
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("salvage", Napi::Function::New(env, Salvage, "salvage"));
  Napi::Object versions = Napi::Object::New(env);
  versions.Set("engine", std::to_string(planning::kVersionMajor) + "." + std::to_string(planning::kVersionMinor) +
                             "." + std::to_string(planning::kVersionPatch));
  versions.Set("format", Napi::Number::New(env, planning::kFormatVersion));
  exports.Set("versions", versions);
  return exports;
}

}  // namespace
}  // namespace pnode

static Napi::Object InitPlanning(Napi::Env env, Napi::Object exports) { return pnode::Init(env, exports); }
NODE_API_MODULE(planning_node, InitPlanning)
