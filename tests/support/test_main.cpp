// The main() of every test program: GoogleTest plus trident's environment checks.
#include <gtest/gtest.h>

#include "support/helpers.hpp"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  trident::testing::install_leak_checks();
  return RUN_ALL_TESTS();
}
