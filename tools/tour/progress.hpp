// tools/tour/progress.hpp — the terminal progress bar of `trident tour`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "tour/lesson.hpp"

namespace trident::tour {

/// A progress phase drawing on terminal file descriptor `fd`, or drawing nothing when `fd` < 0.
/// The bar appears only once the phase has lasted a second (short phases stay quiet), is redrawn
/// ten times a second by a trident thread, and is erased when the phase ends.
std::unique_ptr<Progress> make_progress(std::string label, std::int64_t total, int fd);

}  // namespace trident::tour
