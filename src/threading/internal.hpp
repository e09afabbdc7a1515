// threading/internal.hpp — what the threading sources share and nothing else sees.
#pragma once

namespace trident::threading {

/// Destroys the calling thread's threading::local values (a trident thread calls it before it
/// counts as finished, so join() returns after they are gone; other threads run it from a
/// thread_local destructor at exit).
void destroy_current_thread_locals() noexcept;

}  // namespace trident::threading
