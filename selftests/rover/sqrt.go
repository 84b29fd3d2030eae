// SPDX-License-Identifier: GPL-2.0-only
// Rover's ON_CPU program in Go: a busy sqrt loop in main.sqrtGolang, with
// naps so that the test VM's two CPUs are shared (selftests/agent-in-guest).
package main

import (
	"math"
	"time"
)

var sink float64

//go:noinline
func sqrtGolang() float64 {
	r := 0.0
	for i := 0; i < 200000; i++ {
		r += math.Sqrt(sink + float64(i))
	}
	return r
}

func main() {
	for {
		sink += sqrtGolang()
		time.Sleep(20 * time.Millisecond)
	}
}
