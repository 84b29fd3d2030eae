# SPDX-License-Identifier: GPL-2.0-only
#
#   make            build the module for every supported kernel, libswprof, swctl, selftests
#   make demo       set up, build, profile a sample workload in a VM, write a flame graph
#   make demo-oap   the same through swctl agent and a fake SkyWalking OAP: OAP's flame graph
#   make check      set up, build, run host tests and VM selftests on every kernel
#   make bench      set up, build, run the benchmarks (ratios against perf, bpftrace...)
#   make check-debug the VM selftests on a KASAN + lockdep + kmemleak kernel (slow)
#
#   make kmod KERNELS="6.1.0-56-amd64"   restrict to some kernels
#   make module KDIR=/path/to/build      one in-place build (what DKMS runs)

SWPROF_VERSION := $(shell cat VERSION)
KERNELS ?= $(shell tools/kernels 2>/dev/null)
BUILD := $(CURDIR)/build
export SWPROF_VERSION BUILD

KMOD_SRCS := Kbuild $(wildcard kmod/*.c kmod/*.h kmod/probes/*) kmod/configure kmod/check-symbols \
	     include/uapi/linux/swprof.h VERSION

.PHONY: all kmod userspace selftests check check-debug demo demo-oap bench clean module setup \
	$(addprefix kmod-,$(KERNELS))

all: kmod userspace selftests demo-workload stall-helper

setup:
	@tools/setup

# One copy of the module sources per kernel so that builds never mix.
kmod: $(foreach k,$(KERNELS),$(BUILD)/kmod/$(k)/swprof.ko)

$(BUILD)/kmod/%/swprof.ko: $(KMOD_SRCS)
	@mkdir -p $(BUILD)/kmod/$*
	@cp -r --parents $(KMOD_SRCS) $(BUILD)/kmod/$*/
	@cp Makefile $(BUILD)/kmod/$*/Makefile
	tools/kbuild $* $(BUILD)/kmod/$* module KDIR=/lib/modules/$*/build SWPROF_VERSION=$(SWPROF_VERSION)

# In-place build against KDIR; DKMS calls this with its kernel_source_dir.
module:
	@test -n "$(KDIR)" || { echo "make module: set KDIR=<kernel build dir>" >&2; exit 1; }
	@kmod/configure "$(KDIR)" "$(CURDIR)/kmod/generated"
	$(MAKE) -C "$(KDIR)" M="$(CURDIR)" SWPROF_VERSION=$(SWPROF_VERSION) modules
	@kmod/check-symbols "$(KDIR)" "$(CURDIR)/swprof.ko"

userspace:
	@$(MAKE) -f userspace/Makefile

# A test helper that stalls the VM on purpose (tools/check's vm-stall suites).
.PHONY: stall-helper
stall-helper: $(foreach k,$(KERNELS),$(BUILD)/stall/$(k)/stall_helper.ko)

$(BUILD)/stall/%/stall_helper.ko: selftests/stall/stall_helper.c selftests/stall/Kbuild
	@mkdir -p $(BUILD)/stall/$*
	@cp $^ $(BUILD)/stall/$*/
	tools/kbuild $* $(BUILD)/stall/$* -C /lib/modules/$*/build M=$(BUILD)/stall/$* modules

.PHONY: demo-workload
demo-workload: $(BUILD)/demo/workload

# The demo's sample workload: frame pointers on, libc's qsort in the middle.
$(BUILD)/demo/workload: tools/demo/workload.c
	@mkdir -p $(@D)
	$(CC) -O2 -g -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer -pthread -o $@ $<

selftests: userspace
	@$(MAKE) -C selftests

check: setup
	@$(MAKE) --no-print-directory all
	@tools/check

demo: setup
	@$(MAKE) --no-print-directory all
	@tools/demo/run

demo-oap: setup
	@$(MAKE) --no-print-directory all
	@tools/demo/oap-run

# The selftests on a 6.1 kernel with KASAN, lockdep, kmemleak (built once, ~40 min; docs/testing.md).
DEBUG_TREE := $(BUILD)/debug-kernel/linux
check-debug: setup
	@tools/debug-kernel build
	@$(MAKE) --no-print-directory userspace selftests demo-workload
	@rel=$$(cat $(DEBUG_TREE)/include/config/kernel.release) && \
	mkdir -p $(BUILD)/kmod/$$rel && cp -r --parents $(KMOD_SRCS) $(BUILD)/kmod/$$rel/ && \
	cp Makefile $(BUILD)/kmod/$$rel/Makefile && \
	$(MAKE) -C $(BUILD)/kmod/$$rel module KDIR=$(DEBUG_TREE) SWPROF_VERSION=$(SWPROF_VERSION)
	@tools/check --vm-only --tree $(DEBUG_TREE) --vm-timeout 5400

bench: setup
	@$(MAKE) --no-print-directory all
	@tools/bench/run

clean:
	rm -rf build kmod/generated *.o *.ko *.mod *.mod.c modules.order Module.symvers .*.cmd kmod/.*.cmd kmod/*.o
