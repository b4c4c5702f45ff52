// BatchPrefetcher<T>: makes the items of a range of steps on a background thread,
// ahead of the thread that consumes them, so that preparing batch s+1 (indexing,
// augmentation, pinning) overlaps training on batch s.
//
// Contract: make(step) is called exactly once for every step in [first, end), in
// order, on the prefetcher's own thread, and never more than `depth` items ahead of
// the consumer. next() returns the items in step order and blocks until the next one
// is ready. An exception thrown by make() is stored and rethrown by the next() that
// would have returned that item (exceptions never cross threads otherwise); nothing
// is made after it. next() past the range is a logic_error. Destruction stops the
// thread after the item in progress, whatever was not consumed. One consumer thread.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <utility>

namespace hddnn::nn {

template <typename T>
class BatchPrefetcher {
 public:
  using Make = std::function<T(int64_t step)>;

  BatchPrefetcher(Make make, int64_t first, int64_t end, std::size_t depth = 2)
      : make_(std::move(make)), next_step_(first), first_(first), end_(end), depth_(depth < 1 ? 1 : depth) {
    worker_ = std::thread([this] { produce(); });
  }
  ~BatchPrefetcher() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stopping_ = true;
    }
    changed_.notify_all();
    worker_.join();
  }
  BatchPrefetcher(const BatchPrefetcher&) = delete;
  BatchPrefetcher& operator=(const BatchPrefetcher&) = delete;

  /// The next step's item, in order; rethrows make()'s exception for that step.
  T next() {
    std::unique_lock<std::mutex> lock(mutex_);
    if (consumed_ + first_ >= end_) throw std::logic_error("BatchPrefetcher::next: past the last step");
    changed_.wait(lock, [this] { return !ready_.empty() || failure_; });
    if (ready_.empty()) std::rethrow_exception(failure_);
    T item = std::move(ready_.front());
    ready_.pop_front();
    ++consumed_;
    changed_.notify_all();
    return item;
  }

 private:
  void produce() {
    for (;;) {
      int64_t step = 0;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        changed_.wait(lock, [this] { return stopping_ || ready_.size() < depth_; });
        if (stopping_ || next_step_ >= end_) return;
        step = next_step_++;
      }
      try {
        T item = make_(step);
        std::lock_guard<std::mutex> lock(mutex_);
        ready_.push_back(std::move(item));
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        failure_ = std::current_exception();
        changed_.notify_all();
        return;
      }
      changed_.notify_all();
    }
  }

  Make make_;
  int64_t next_step_;
  const int64_t first_;
  const int64_t end_;
  const std::size_t depth_;
  int64_t consumed_ = 0;
  std::deque<T> ready_;
  std::exception_ptr failure_;
  bool stopping_ = false;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::thread worker_;
};

}  // namespace hddnn::nn
