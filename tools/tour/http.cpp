// The tour's HTTP server and client: blocking sockets, one trident thread per connection.
#include "tour/http.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string_view>
#include <vector>

#include "trident/errors.hpp"
#include "trident/threading.hpp"

namespace trident::tour {
namespace {

using Clock = std::chrono::steady_clock;

// Owns a file descriptor; closes it on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    reset(std::exchange(o.fd_, -1));
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// Milliseconds left until `deadline`, for poll(); 0 once it passed.
int ms_left(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// Writes all of `data`; false when the peer went away.
bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

struct Url {
  std::string host;
  std::string port;
  std::string target;  // path + query
};

Url parse_url(const std::string& url) {
  constexpr std::string_view scheme = "http://";
  if (url.compare(0, scheme.size(), scheme) != 0) {
    throw ValueError("http_get(): only http:// URLs are supported, got '" + url + "'");
  }
  std::string rest = url.substr(scheme.size());
  size_t slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  Url u;
  u.target = slash == std::string::npos ? "/" : rest.substr(slash);
  size_t colon = authority.rfind(':');
  if (colon == std::string::npos) {
    u.host = authority;
    u.port = "80";
  } else {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
  }
  if (u.host.empty()) throw ValueError("http_get(): no host in URL '" + url + "'");
  return u;
}

}  // namespace

Response http_get(const std::string& url, std::chrono::milliseconds timeout) {
  Url u = parse_url(url);
  auto deadline = Clock::now() + timeout;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &found); rc != 0) {
    throw OSError(EINVAL, "http_get(): cannot resolve '" + u.host + "': " + ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addrs(found, &::freeaddrinfo);
  Fd sock;
  int last_errno = ECONNREFUSED;
  for (addrinfo* a = found; a != nullptr; a = a->ai_next) {
    Fd s(::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol));
    if (s.get() < 0) {
      last_errno = errno;
      continue;
    }
    if (::connect(s.get(), a->ai_addr, a->ai_addrlen) == 0) {
      sock = std::move(s);
      break;
    }
    last_errno = errno;
  }
  if (sock.get() < 0) raise_os_error(last_errno, "http_get(): connect to " + u.host + ":" + u.port);

  std::string request = "GET " + u.target + " HTTP/1.1\r\nHost: " + u.host + ":" + u.port +
                        "\r\nUser-Agent: trident-tour\r\nConnection: close\r\n\r\n";
  if (!send_all(sock.get(), request)) raise_os_error(errno ? errno : EPIPE, "http_get(): send to " + url);

  std::string raw;
  char buf[16384];
  for (;;) {
    pollfd p{sock.get(), POLLIN, 0};
    int ready = ::poll(&p, 1, ms_left(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) raise_os_error(errno, "http_get(): poll");
    if (ready == 0) throw TimeoutError("http_get(): no complete answer from " + url + " in time");
    ssize_t n = ::recv(sock.get(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) raise_os_error(errno, "http_get(): recv from " + url);
    if (n == 0) break;
    raw.append(buf, static_cast<size_t>(n));
  }

  Response r;
  r.url = url;
  size_t header_end = raw.find("\r\n\r\n");
  // "HTTP/1.1 200 OK": the status code is the second word of the first line.
  if (header_end == std::string::npos || raw.compare(0, 5, "HTTP/") != 0 || raw.find(' ') == std::string::npos) {
    throw OSError(EPROTO, "http_get(): malformed answer from " + url);
  }
  r.status_code = std::atoi(raw.c_str() + raw.find(' ') + 1);
  r.content = raw.substr(header_end + 4);
  return r;
}

struct HttpServer::State {
  Fd listener;
  Fd stop_read, stop_write;  // a pipe that becomes readable on stop: wakes every poll at once
  std::chrono::milliseconds delay{0};
  int port = 0;
  std::atomic<std::int64_t> served{0};
  threading::Event stopping;
  threading::Lock lock;  // guards handlers and stopped
  std::vector<std::unique_ptr<threading::Thread>> handlers;
  bool stopped = false;
  std::unique_ptr<threading::Thread> acceptor;

  void accept_loop();
  void serve(int fd);
  // Joins handler threads that have finished; called with `lock` held.
  void reap_locked();
};

namespace {

std::string page(int n) {
  std::string body = "<!doctype html>\n<html><head><title>page " + std::to_string(n) +
                     "</title></head>\n<body><h1>page " + std::to_string(n) + "</h1>\n";
  // A body of a few hundred bytes, like a small real page.
  for (int i = 0; i < 8; ++i) body += "<p>trident tour: a slow page served from 127.0.0.1</p>\n";
  return body + "</body></html>\n";
}

std::string answer(int status, std::string_view reason, const std::string& body) {
  return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
         "\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: " + std::to_string(body.size()) +
         "\r\nConnection: close\r\n\r\n" + body;
}

}  // namespace

void HttpServer::State::accept_loop() {
  for (;;) {
    pollfd fds[2] = {{listener.get(), POLLIN, 0}, {stop_read.get(), POLLIN, 0}};
    int ready = ::poll(fds, 2, -1);
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0 || (fds[1].revents & POLLIN) != 0) return;
    int fd = ::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) continue;  // the client gave up before we accepted: nothing to answer
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    std::scoped_lock guard(lock);
    if (stopped) {
      ::close(fd);
      return;
    }
    reap_locked();
    handlers.emplace_back(new threading::Thread({.name = "http-conn", .daemon = true}, [this, fd] { serve(fd); }));
    handlers.back()->start();
  }
}

void HttpServer::State::reap_locked() {
  std::erase_if(handlers, [](const std::unique_ptr<threading::Thread>& t) {
    if (t->is_alive()) return false;
    t->join();
    return true;
  });
}

void HttpServer::State::serve(int raw_fd) {
  Fd conn(raw_fd);
  auto deadline = Clock::now() + std::chrono::seconds(10);
  std::string request;
  char buf[4096];
  while (request.find("\r\n\r\n") == std::string::npos) {
    if (request.size() > 16384) return;
    pollfd fds[2] = {{conn.get(), POLLIN, 0}, {stop_read.get(), POLLIN, 0}};
    int ready = ::poll(fds, 2, ms_left(deadline));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0 || (fds[1].revents & POLLIN) != 0) return;
    ssize_t n = ::recv(conn.get(), buf, sizeof buf, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    request.append(buf, static_cast<size_t>(n));
  }
  // Request line: METHOD SP TARGET SP VERSION.
  size_t sp1 = request.find(' ');
  size_t sp2 = sp1 == std::string::npos ? sp1 : request.find(' ', sp1 + 1);
  if (sp2 == std::string::npos) {
    send_all(conn.get(), answer(400, "Bad Request", "bad request\n"));
    return;
  }
  std::string method = request.substr(0, sp1);
  std::string target = request.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string path = target.substr(0, target.find('?'));
  std::chrono::milliseconds wait = delay;
  if (size_t q = target.find("delay_ms="); q != std::string::npos) {
    long ms = std::strtol(target.c_str() + q + 9, nullptr, 10);
    wait = std::chrono::milliseconds(ms < 0 ? 0 : (ms > 60000 ? 60000 : ms));
  }
  // The slow website: answer after the delay, unless the server is stopping.
  if (wait.count() > 0 && stopping.wait(wait)) return;

  std::string reply;
  if (method != "GET") {
    reply = answer(405, "Method Not Allowed", "only GET\n");
  } else if (path == "/") {
    reply = answer(200, "OK", "<!doctype html>\n<html><body>trident tour server: GET /page/N</body></html>\n");
  } else if (path.rfind("/page/", 0) == 0 && path.size() > 6 &&
             path.find_first_not_of("0123456789", 6) == std::string::npos) {
    reply = answer(200, "OK", page(std::atoi(path.c_str() + 6)));
  } else {
    reply = answer(404, "Not Found", "no such page: " + path + "\n");
  }
  served.fetch_add(1, std::memory_order_relaxed);
  send_all(conn.get(), reply);
  ::shutdown(conn.get(), SHUT_WR);
}

HttpServer::HttpServer(Options options) : state_(std::make_shared<State>()) {
  State& s = *state_;
  s.delay = options.delay;
  s.listener = Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (s.listener.get() < 0) raise_os_error(errno, "HttpServer: socket()");
  int one = 1;
  ::setsockopt(s.listener.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);  // 127.0.0.1 only: never reachable from outside
  addr.sin_port = htons(static_cast<uint16_t>(options.port));
  if (::bind(s.listener.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    raise_os_error(errno, "HttpServer: bind(127.0.0.1:" + std::to_string(options.port) + ")");
  }
  if (::listen(s.listener.get(), 128) != 0) raise_os_error(errno, "HttpServer: listen()");
  socklen_t len = sizeof addr;
  ::getsockname(s.listener.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  s.port = ntohs(addr.sin_port);
  int p[2];
  if (::pipe2(p, O_CLOEXEC) != 0) raise_os_error(errno, "HttpServer: pipe2()");
  s.stop_read = Fd(p[0]);
  s.stop_write = Fd(p[1]);
  s.acceptor.reset(
      new threading::Thread({.name = "http-accept", .daemon = true}, [st = state_.get()] { st->accept_loop(); }));
  s.acceptor->start();
}

HttpServer::~HttpServer() { stop(); }

int HttpServer::port() const { return state_->port; }

std::string HttpServer::url() const { return "http://127.0.0.1:" + std::to_string(state_->port); }

std::int64_t HttpServer::requests_served() const { return state_->served.load(std::memory_order_relaxed); }

void HttpServer::stop() {
  State& s = *state_;
  {
    std::scoped_lock guard(s.lock);
    if (s.stopped) return;
    s.stopped = true;
  }
  s.stopping.set();
  char byte = 1;
  while (::write(s.stop_write.get(), &byte, 1) < 0 && errno == EINTR) {
  }
  s.acceptor->join();
  // No new handler can appear now (stopped is set under the lock the acceptor takes).
  std::vector<std::unique_ptr<threading::Thread>> handlers;
  {
    std::scoped_lock guard(s.lock);
    handlers.swap(s.handlers);
  }
  for (auto& t : handlers) t->join();
}

}  // namespace trident::tour
