// tools/tour/tour.hpp — the `trident tour` and `trident serve` commands.
#pragma once

#include <string>
#include <vector>

namespace trident::tour {

/// `trident tour ARGS…`: runs the lessons and prints their tables (or --json). Returns the exit
/// status: 0, 1 when a lesson failed, 2 for a bad option or value.
int tour_main(const std::vector<std::string>& args);

/// `trident serve ARGS…`: runs the embedded HTTP server on 127.0.0.1 until SIGINT/SIGTERM or
/// until its parent process exits. Returns the exit status (2 for a bad option).
int serve_main(const std::vector<std::string>& args);

/// The text of `trident tour --help`.
std::string tour_help();
/// The text of `trident serve --help`.
std::string serve_help();

}  // namespace trident::tour
