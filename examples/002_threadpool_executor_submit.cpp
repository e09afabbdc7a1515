// Note 002 (seeds/002_b196a1fed76dacea.txt), section "线程池模块": a ThreadPoolExecutor(3) fetches
// four URLs with submit() ("一句话帮你调度"), each task printing the URL and the page.
//
// The original fetches four public websites; this translation fetches four pages from the tour's
// local server: pass its base URL as the first argument or in TRIDENT_EXAMPLE_URL (the smoke test
// starts `trident serve --port 0 --print-port` and sets it), default http://127.0.0.1:8000 (run
// `trident serve --port 8000` first). requests.get is tour::http_get, a blocking-socket GET.
// The page is long, so it prints its size and first line instead of all of response.content.
// As in Python, leaving the executor's scope waits for the submitted tasks.
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "tour/http.hpp"
#include "trident/futures.hpp"

namespace futures = trident::futures;

void func(const std::string& url) {
  trident::tour::Response response = trident::tour::http_get(url);
  std::string first_line = response.content.substr(0, response.content.find('\n'));
  std::printf("%s %zu bytes: %s\n", url.c_str(), response.content.size(), first_line.c_str());
}

int main(int argc, char** argv) {
  const char* env = std::getenv("TRIDENT_EXAMPLE_URL");
  std::string base = argc > 1 ? argv[1] : env ? env : "http://127.0.0.1:8000";
  std::vector<std::string> url_list = {base + "/page/1", base + "/page/2", base + "/page/3", base + "/page/4"};

  futures::ThreadPoolExecutor tp(3);  // a pool of three threads
  for (const std::string& url : url_list) {
    tp.submit(func, url);  // one line schedules it
  }
}
