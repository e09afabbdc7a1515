// core/spin_policy.hpp — whether a waiter should spin before it sleeps, right now.
#pragma once

#include "trident/detail/wait.hpp"

namespace trident::detail {

/// False on a single CPU, and while the machine has more runnable threads than CPUs (sampled from
/// /proc/loadavg at most every few milliseconds, `now` being the caller's clock read): a spin only
/// pays when the thread it waits for runs meanwhile on another CPU, and on a crowded machine the
/// spinner holds a CPU that thread may be waiting for, and loses the scheduler's wake-up priority.
bool spinning_pays(Clock::time_point now) noexcept;

}  // namespace trident::detail
