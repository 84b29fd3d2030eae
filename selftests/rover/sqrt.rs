// SPDX-License-Identifier: GPL-2.0-only
// Rover's ON_CPU program in Rust: a busy sqrt loop in sqrt_rust, with naps
// so that the test VM's two CPUs are shared (selftests/agent-in-guest).
use std::{ptr, thread, time::Duration};

#[inline(never)]
fn sqrt_rust(x: f64) -> f64 {
    let mut r = 0.0;
    for i in 0..200000 {
        r += (x + i as f64).sqrt();
    }
    r
}

fn main() {
    let mut sink = 0.0f64;
    loop {
        let v = sqrt_rust(sink);
        unsafe { ptr::write_volatile(&mut sink, sink + v) };
        thread::sleep(Duration::from_millis(20));
    }
}
