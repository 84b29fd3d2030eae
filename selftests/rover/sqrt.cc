// SPDX-License-Identifier: GPL-2.0-only
// Rover's ON_CPU program in C++: sqrtCPlusPlus(), for selftests/agent-in-guest.
#include <cmath>
#include <unistd.h>
volatile double sink;
__attribute__((noinline)) double sqrtCPlusPlus()
{
	double r = 0;
	for (int i = 0; i < 200000; i++)
		r += std::sqrt(sink + i);
	return r;
}
int main()
{
	for (;;) {
		sink += sqrtCPlusPlus();
		usleep(20000);
	}
}
