// multiprocessing.sharedctypes is all templates (trident/multiprocessing/sharedctypes.hpp); this
// file checks that the header compiles on its own and instantiates the common types once.
#include "trident/multiprocessing/sharedctypes.hpp"

namespace trident::multiprocessing {
template class Value<int>;
template class Value<double>;
template class Array<int>;
template class Array<double>;
}  // namespace trident::multiprocessing
