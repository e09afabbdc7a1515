// Note 002 (seeds/002_b196a1fed76dacea.txt), section "协程" ("协程核心模块"): three greenlets
// switch explicitly. gr1 prints 12 and switches to gr2, which prints 56 and switches to gr3, which
// prints 777 and switches back into gr1 where it left off (34); gr1 switches to gr2 again, which
// prints 68 and finishes: a finished greenlet returns to its parent — main, which created it — so
// the program ends there, with gr1 and gr3 still suspended (their handles' destruction unwinds
// them with GreenletExit, as Python's garbage collector does).
#include <cstdio>
#include <optional>

#include "trident/greenlet.hpp"

using trident::greenlet::greenlet;

std::optional<greenlet> gr1, gr2, gr3;

void test1() {
  std::printf("12\n");
  gr2->switch_();
  std::printf("34\n");
  gr2->switch_();
}

void test2() {
  std::printf("56\n");
  gr3->switch_();
  std::printf("68\n");
}

void test3() {
  std::printf("777\n");
  gr1->switch_();
}

int main() {
  gr1.emplace(test1);
  gr2.emplace(test2);
  gr3.emplace(test3);
  gr1->switch_();
  // Dropped here rather than at static destruction, while main() still runs.
  gr3.reset();
  gr2.reset();
  gr1.reset();
}
