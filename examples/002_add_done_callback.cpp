// Note 002 (seeds/002_b196a1fed76dacea.txt), section "线程池模块", the add_done_callback example:
// each submitted fetch gets its own callback (f1, f2, f3) that prints the response's status code
// when the future is done.
//
// The original fetches three public websites; this translation fetches three pages from the tour's
// local server: pass its base URL as the first argument or in TRIDENT_EXAMPLE_URL (the smoke test
// starts `trident serve --port 0 --print-port` and sets it), default http://127.0.0.1:8000.
// Callbacks run in the worker thread that finished the future. The note's `tp` is a global; here
// it lives in main and run() takes it, so leaving main waits for the tasks and their callbacks
// (the executor's destructor is Python's shutdown(wait=True)) before the program's globals go.
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "tour/http.hpp"
#include "trident/futures.hpp"

namespace futures = trident::futures;
using trident::tour::Response;

Response func(const std::string& url) { return trident::tour::http_get(url); }

void f1(const futures::Future<Response>& future) {
  const Response& response = future.result();
  std::printf("%d\n", response.status_code);
}
void f2(const futures::Future<Response>& future) {
  const Response& response = future.result();
  std::printf("%d\n", response.status_code);
}
void f3(const futures::Future<Response>& future) {
  const Response& response = future.result();
  std::printf("%d\n", response.status_code);
}

struct UrlCall {
  std::string url;
  void (*call)(const futures::Future<Response>&);
};

void run(futures::ThreadPoolExecutor& tp, const std::vector<UrlCall>& url_dict) {
  for (const UrlCall& url : url_dict) {
    futures::Future<Response> future = tp.submit(func, url.url);
    future.add_done_callback(url.call);
  }
}

int main(int argc, char** argv) {
  const char* env = std::getenv("TRIDENT_EXAMPLE_URL");
  std::string base = argc > 1 ? argv[1] : env ? env : "http://127.0.0.1:8000";
  std::vector<UrlCall> url_dict = {
      {base + "/page/1", f1},
      {base + "/page/2", f2},
      {base + "/page/3", f3},
  };
  futures::ThreadPoolExecutor tp(3);
  run(tp, url_dict);
}
