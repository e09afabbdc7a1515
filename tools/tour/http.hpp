// tools/tour/http.hpp — the tour's tiny HTTP/1.1 server and client (plain blocking sockets).
//
// The IO lesson and the examples that fetch web pages in the notes (requests.get) talk to this
// server instead of the internet. It listens on 127.0.0.1 only, answers each request after a
// fixed delay (the "slow website"), one trident thread per connection, and closes the connection
// after each answer (Connection: close). The client is the C++ stand-in for `requests.get`.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

namespace trident::tour {

/// An HTTP response, named like `requests.Response`.
struct Response {
  std::string url;
  int status_code = 0;
  std::string content;  ///< the body (Python's `response.content`)
};

/// `requests.get(url)`: GETs `url` ("http://HOST:PORT/PATH") over a blocking socket and returns
/// the response. Throws trident::OSError when the connection fails or `timeout` passes while
/// waiting for the answer, and trident::ValueError for a URL that is not http://.
Response http_get(const std::string& url, std::chrono::milliseconds timeout = std::chrono::seconds(30));

/// The embedded server. Routes: `GET /` (an index), `GET /page/N` (a small HTML page naming N),
/// anything else 404. `?delay_ms=D` on any route overrides the delay for that request.
class HttpServer {
 public:
  struct Options {
    int port = 0;  ///< 0: an ephemeral port chosen by the kernel
    std::chrono::milliseconds delay{0};
  };

  /// Binds 127.0.0.1:port and starts serving at once. Throws trident::OSError when it cannot bind.
  explicit HttpServer(Options options);
  /// Stops serving (see stop()).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// The port the server listens on.
  int port() const;
  /// "http://127.0.0.1:PORT".
  std::string url() const;
  /// Requests answered so far.
  std::int64_t requests_served() const;
  /// Stops accepting, aborts pending delays and joins every thread. Idempotent.
  void stop();

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace trident::tour
