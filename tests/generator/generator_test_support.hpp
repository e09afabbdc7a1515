// Shared by the generator tests: a log of what generators did, and a local whose destructor
// records that it ran (the cleanup Python's close() triggers).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace trident::generator_test {

using Log = std::vector<std::string>;

// Appends `name` to a log when destroyed: proves the generator's locals were cleaned up.
class Cleanup {
 public:
  Cleanup(Log& log, std::string name) : log_(&log), name_(std::move(name)) {}
  Cleanup(const Cleanup&) = delete;
  Cleanup& operator=(const Cleanup&) = delete;
  ~Cleanup() { log_->push_back("~" + name_); }

 private:
  Log* log_;
  std::string name_;
};

// A distinct exception type for throw_() tests (Python's tests use custom exception classes).
struct Boom {
  int code;
};

}  // namespace trident::generator_test
