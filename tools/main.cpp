// `trident`: the command-line program. `trident tour` is the main job (./run demo).
#include <iostream>
#include <string>
#include <vector>

#include "tour/tour.hpp"

namespace {

const char* const kHelp =
    "usage: trident COMMAND [ARGS...]\n"
    "\n"
    "trident gives C++ Python's concurrency modules (threading, queue, concurrent.futures, ...).\n"
    "\n"
    "commands:\n"
    "  tour [OPTIONS] [LESSON...]   replay the seed notes' lessons live and show the measured\n"
    "                               results (trident tour --help lists its options:\n"
    "                               --list --quick --json --svg FILE --pages N --delay-ms N\n"
    "                               --workers N)\n"
    "  serve [OPTIONS]              run the tour's HTTP server on 127.0.0.1 (for the examples)\n"
    "  help [COMMAND]               show this text, or a command's help\n"
    "\n"
    "options:\n"
    "  -h, --help                   show this text and exit\n"
    "  --version                    print trident's version and exit\n"
    "\n"
    "Exit status: 0 ok, 1 failure, 2 bad usage.\n";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty()) {
    std::cerr << kHelp;
    return 2;
  }
  std::string cmd = args.front();
  std::vector<std::string> rest(args.begin() + 1, args.end());
  if (cmd == "-h" || cmd == "--help") {
    std::cout << kHelp;
    return 0;
  }
  if (cmd == "help") {
    if (rest.empty()) {
      std::cout << kHelp;
    } else if (rest[0] == "tour") {
      std::cout << trident::tour::tour_help();
    } else if (rest[0] == "serve") {
      std::cout << trident::tour::serve_help();
    } else {
      std::cerr << "trident: unknown command '" << rest[0] << "' (see trident --help)\n";
      return 2;
    }
    return 0;
  }
  if (cmd == "--version") {
    std::cout << "trident " << TRIDENT_VERSION << '\n';
    return 0;
  }
  try {
    if (cmd == "tour") return trident::tour::tour_main(rest);
    if (cmd == "serve") return trident::tour::serve_main(rest);
  } catch (const std::exception& e) {
    std::cerr << "trident " << cmd << ": " << e.what() << '\n';
    return 1;
  }
  std::cerr << "trident: unknown command '" << cmd << "' (see trident --help)\n";
  return 2;
}
