// SPDX-License-Identifier: MIT
#pragma once
/// \file
/// A small persistent thread pool for fxp's kernels: `fxp::set_num_threads`,
/// `fxp::num_threads`, and `fxp::detail::parallel_for`, which runs independent tasks on
/// the pool. Kernels split their work so that every output element is computed by exactly
/// one task, in an order that does not depend on which thread runs it; the thread count
/// therefore never changes a bit of any result.

#include <algorithm>           // std::max for the default thread count
#include <atomic>              // the task counter shared by the workers
#include <chrono>              // how long a thread spins before it sleeps
#include <condition_variable>  // workers sleep between jobs
#include <cstddef>             // std::size_t task indices
#include <cstdint>             // the job generation counter
#include <exception>           // a task's exception is carried back to the caller
#include <memory>              // std::addressof of the task body
#include <mutex>               // one job at a time; the job's state
#include <stdexcept>           // std::invalid_argument for a bad thread count
#include <string>              // error messages
#include <thread>              // the workers
#include <utility>             // std::forward
#include <vector>              // the workers

namespace fxp::detail {

/// A non-owning reference to a `void(std::size_t)` callable: the task body of one job.
class task_ref {
 public:
  template <class F>
  explicit task_ref(F& f) noexcept
      : object_(const_cast<void*>(static_cast<const void*>(std::addressof(f)))),
        call_([](void* object, std::size_t task) { (*static_cast<F*>(object))(task); }) {}
  void operator()(std::size_t task) const { call_(object_, task); }

 private:
  void* object_;
  void (*call_)(void*, std::size_t);
};

/// True while the calling thread runs a task of the pool (a worker, or the caller helping
/// with its own job): a nested parallel_for then runs its tasks inline, which keeps nesting
/// free of deadlocks and leaves the outer split in charge.
inline bool& inside_task() noexcept {
  thread_local bool inside = false;
  return inside;
}

/// Workers that sleep on a condition variable and take the tasks of one job at a time from
/// a shared atomic counter; the calling thread takes tasks too. `threads` counts the caller.
class thread_pool {
 public:
  explicit thread_pool(std::size_t threads) { start(threads); }
  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;
  ~thread_pool() { stop(); }

  /// The number of threads that work on a job, the caller included.
  [[nodiscard]] std::size_t size() const noexcept { return size_.load(); }

  /// Replaces the workers by `threads - 1` new ones; waits for a running job to finish.
  void resize(std::size_t threads) {
    const std::lock_guard<std::mutex> job_lock(submit_);
    stop();
    start(threads);
  }

  /// Runs body(t) for every t in [0, tasks) and returns when all have finished. The first
  /// exception thrown by a task is rethrown here; tasks not yet started are then skipped.
  template <class F>
  void run(std::size_t tasks, F&& body) {
    if (tasks == 0) return;
    if (tasks == 1) {  // nothing to share: a parallel_for inside may still use the pool
      body(std::size_t{0});
      return;
    }
    if (inside_task()) {  // nested: the outer split already occupies the threads
      run_inline(tasks, body);
      return;
    }
    std::unique_lock<std::mutex> job_lock(submit_, std::try_to_lock);
    // Another thread's job holds the pool: waiting for it could take longer than the work.
    if (!job_lock.owns_lock() || workers_.empty()) {
      run_inline(tasks, body);
      return;
    }
    task_ref ref(body);
    {
      const std::lock_guard<std::mutex> lock(state_);
      job_ = &ref;
      tasks_ = tasks;
      next_.store(0);
      failed_.store(false);
      error_ = nullptr;
      busy_workers_.store(workers_.size());
      generation_.store(generation_.load() + 1);
    }
    wake_.notify_all();
    work();
    spin_while([this] { return busy_workers_.load() != 0; });
    std::unique_lock<std::mutex> lock(state_);
    done_.wait(lock, [this] { return busy_workers_.load() == 0; });
    job_ = nullptr;
    if (error_) std::rethrow_exception(error_);
  }

 private:
  template <class F>
  static void run_inline(std::size_t tasks, F& body) {
    const bool was_inside = inside_task();
    inside_task() = true;
    try {
      for (std::size_t t = 0; t < tasks; ++t) body(t);
    } catch (...) {
      inside_task() = was_inside;
      throw;
    }
    inside_task() = was_inside;
  }

  void start(std::size_t threads) {
    stopping_ = false;
    stopping_flag_.store(false);
    size_.store(threads);
    workers_.reserve(threads - 1);
    // Called while no job runs, so the generation is stable: workers wait for the next one.
    for (std::size_t w = 1; w < threads; ++w) {
      workers_.emplace_back([this, seen = generation_.load()] { worker_loop(seen); });
    }
  }

  void stop() {
    {
      const std::lock_guard<std::mutex> lock(state_);
      stopping_ = true;
      stopping_flag_.store(true);
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) worker.join();
    workers_.clear();
  }

  // Takes tasks of the current job until none are left (or one has failed).
  void work() {
    inside_task() = true;
    const std::size_t tasks = tasks_;
    for (std::size_t t = next_.fetch_add(1); t < tasks && !failed_.load();
         t = next_.fetch_add(1)) {
      try {
        (*job_)(t);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(state_);
        if (!error_) error_ = std::current_exception();
        failed_.store(true);
      }
    }
    inside_task() = false;
  }

  /// Spins while `busy()` holds, for at most spin_time. Kernels come back to back (a training
  /// step runs dozens), and waking a sleeping thread costs tens of microseconds, more than a
  /// small GEMM takes; spinning a little first keeps the threads at hand.
  template <class Busy>
  static void spin_while(Busy busy) {
    constexpr auto spin_time = std::chrono::microseconds(100);
    const auto start = std::chrono::steady_clock::now();
    while (busy()) {
      for (int i = 0; i < 64 && busy(); ++i) std::this_thread::yield();
      if (std::chrono::steady_clock::now() - start > spin_time) return;
    }
  }

  void worker_loop(std::uint64_t seen) {
    for (;;) {
      spin_while([&] { return generation_.load() == seen && !stopping_flag_.load(); });
      {
        std::unique_lock<std::mutex> lock(state_);
        wake_.wait(lock, [&] { return stopping_ || generation_.load() != seen; });
        if (stopping_) return;
        seen = generation_.load();
      }
      work();
      {
        const std::lock_guard<std::mutex> lock(state_);
        busy_workers_.fetch_sub(1);
      }
      done_.notify_one();
    }
  }

  std::mutex submit_;  // held by the thread whose job is running
  std::mutex state_;   // guards everything below that is not atomic
  std::condition_variable wake_;
  std::condition_variable done_;
  std::vector<std::thread> workers_;
  std::atomic<std::size_t> size_{1};
  bool stopping_ = false;
  std::atomic<bool> stopping_flag_{false};  // stopping_, readable without the lock
  // Written under state_; atomic so that spinning threads may read them without it.
  std::atomic<std::uint64_t> generation_{0};
  std::atomic<std::size_t> busy_workers_{0};
  // The current job. Written under state_ before the generation bump that workers wait
  // for, read by them after it, so the mutex orders every access.
  const task_ref* job_ = nullptr;
  std::size_t tasks_ = 0;
  std::atomic<std::size_t> next_{0};
  std::atomic<bool> failed_{false};
  std::exception_ptr error_;
};

/// std::thread::hardware_concurrency(), or 1 when it is unknown.
[[nodiscard]] inline std::size_t default_thread_count() noexcept {
  return std::max<std::size_t>(1, std::thread::hardware_concurrency());
}

/// The process-wide pool, created on first use with the default thread count.
[[nodiscard]] inline thread_pool& pool() {
  static thread_pool instance(default_thread_count());
  return instance;
}

/// Runs body(t) for every t in [0, tasks) on the pool's threads, in no particular order,
/// and returns when all have finished; rethrows the first exception a task threw. Called
/// from inside a task, it runs the tasks inline on the calling thread.
template <class F>
void parallel_for(std::size_t tasks, F&& body) {
  pool().run(tasks, std::forward<F>(body));
}

}  // namespace fxp::detail

namespace fxp {

/// Sets the number of threads fxp's kernels use (the calling thread included); results are
/// bit-identical for every count. Waits for a kernel running on another thread to finish;
/// must not be called from inside a kernel's task.
/// \param n the thread count, at least 1; std::thread::hardware_concurrency() by default
/// \throws std::invalid_argument when n is 0
inline void set_num_threads(std::size_t n) {
  if (n == 0) throw std::invalid_argument("fxp::set_num_threads: n must be at least 1, got 0");
  detail::pool().resize(n);
}

/// The number of threads fxp's kernels use (the calling thread included).
[[nodiscard]] inline std::size_t num_threads() { return detail::pool().size(); }

}  // namespace fxp
