# SPDX-License-Identifier: GPL-2.0-only
"""Tests of swprof.py, TAP on stdout; run by userspace/tests/lib/python_binding.sh.

Expects LD_PRELOAD=python_binding_shim.so (counts the opens of
$SWPROF_DEVICE, fakes the device once shim_set_present(1)), SWPROF_LIB and
SWPROF_DEVICE set.  The order matters: the library tries a missing device
at most once a second, so the no-device tests come first.
"""

import ctypes
import errno
import os
import subprocess
import sys
import threading
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import swprof  # noqa: E402

shim = ctypes.CDLL(None)
for _name in ("shim_opens", "shim_begins", "shim_ends"):
    getattr(shim, _name).restype = ctypes.c_uint
for _name in ("shim_last_endpoint", "shim_last_segment_id"):
    getattr(shim, _name).restype = ctypes.c_char_p

tests = []


def test(fn):
    tests.append(fn)
    return fn


@test
def library_loads_and_declares_the_integrator_calls():
    lib = swprof.library()
    assert os.path.samefile(lib._name, os.environ["SWPROF_LIB"]), lib._name
    for name in ("swprof_trace_begin", "swprof_trace_end", "swprof_trace_reason",
                 "swprof_trace_available", "swprof_strerror"):
        assert hasattr(lib, name), name


@test
def no_device_begin_is_false_with_enoent():
    assert shim.shim_opens() == 0
    assert swprof.trace_begin("GET:/x", "seg-1") is False
    assert swprof.reason() == "error", swprof.reason()
    assert swprof.last_error() == -errno.ENOENT, swprof.last_error()
    assert "modprobe swprof" in swprof.strerror(swprof.last_error())
    assert not swprof.available()
    assert swprof.current_task() == 0


@test
def no_device_is_opened_at_most_once_a_second():
    before = shim.shim_opens()
    t0 = time.monotonic()
    for _ in range(20000):
        if swprof.trace_begin("GET:/x", "seg-1"):
            raise AssertionError("admitted without a device")
    elapsed = time.monotonic() - t0
    opened = shim.shim_opens() - before
    # The first open was in the previous test; a new second may have begun.
    assert opened <= 1 + int(elapsed), (opened, elapsed)
    assert shim.shim_opens() >= 1


@test
def no_device_end_is_a_noop():
    assert swprof.trace_end() is None
    with swprof.traced("GET:/x", "seg-1") as admitted:
        assert admitted is False
    assert shim.shim_ends() == 0
    assert shim.shim_begins() == 0


@test
def device_appearing_is_noticed_after_the_backoff():
    shim.shim_set_present(1)
    time.sleep(1.1)
    before = shim.shim_opens()
    assert swprof.available()
    assert shim.shim_opens() == before + 1
    assert swprof.trace_begin("GET:/x", "seg-2") is True
    assert swprof.reason() == "admitted"
    assert swprof.current_task() == 3
    swprof.trace_end()
    assert shim.shim_ends() == 1
    assert shim.shim_opens() == before + 1


@test
def traced_passes_the_strings_and_ends():
    b, e = shim.shim_begins(), shim.shim_ends()
    with swprof.traced("POST:/api/\u00e9t\u00e9", b"a1b2.33.44") as admitted:
        assert admitted is True
        assert shim.shim_ends() == e
    assert shim.shim_begins() == b + 1
    assert shim.shim_ends() == e + 1
    assert shim.shim_last_endpoint() == "POST:/api/\u00e9t\u00e9".encode("utf-8")
    assert shim.shim_last_segment_id() == b"a1b2.33.44"


@test
def no_tracer_gets_a_segment_id_of_its_own():
    with swprof.traced("GET:/a") as admitted:
        assert admitted is True
        seg = swprof.current_segment()
        assert seg and seg.startswith("swprof."), seg
        assert shim.shim_last_segment_id() == seg.encode()
    assert swprof.current_segment() is None


@test
def traced_nests_and_only_the_outermost_ends():
    b, e = shim.shim_begins(), shim.shim_ends()
    with swprof.traced("GET:/outer", "seg-3") as outer:
        with swprof.traced("GET:/inner", "seg-3") as inner:
            assert (outer, inner) == (True, False)
            assert swprof.reason() == "nested"
        assert shim.shim_ends() == e
        assert swprof.current_task() == 3
    assert shim.shim_begins() == b + 1
    assert shim.shim_ends() == e + 1
    assert swprof.current_task() == 0


@test
def exceptions_propagate_and_the_segment_still_ends():
    e = shim.shim_ends()

    class Boom(Exception):
        pass

    try:
        with swprof.traced("GET:/boom", "seg-4"):
            with swprof.traced("GET:/boom/inner", "seg-4"):
                raise Boom()
    except Boom:
        pass
    else:
        raise AssertionError("exception swallowed")
    assert shim.shim_ends() == e + 1
    assert swprof.current_task() == 0


@test
def refusals_are_false_with_a_reason_and_end_does_nothing():
    e = shim.shim_ends()
    for err, why in ((errno.ENOENT, "no task"), (errno.EDQUOT, "max sampled"),
                     (errno.EBUSY, "max parallel")):
        shim.shim_set_begin_errno(err)
        with swprof.traced("GET:/x", "seg-5") as admitted:
            assert admitted is False
            assert swprof.reason() == why, (swprof.reason(), why)
            assert swprof.last_error() == 0
    shim.shim_set_begin_errno(0)
    assert shim.shim_ends() == e


@test
def bad_arguments_raise_valueerror_without_a_call():
    b = shim.shim_begins()
    bad = [(None, "s"), (123, "s"), ("e", 123), ("", "s"), ("e", ""),
           ("x" * 256, "s"), ("\u00e9" * 128, "s"), ("e", "y" * 128),
           ("a\0b", "s"), ("e", b"s\0")]
    for endpoint, segment_id in bad:
        for call in (lambda: swprof.trace_begin(endpoint, segment_id),
                     lambda: swprof.traced(endpoint, segment_id).__enter__()):
            try:
                call()
            except ValueError:
                pass
            else:
                raise AssertionError("no ValueError for %r, %r" % (endpoint, segment_id))
    assert shim.shim_begins() == b
    assert swprof.trace_begin("x" * 255, "y" * 127) is True
    swprof.trace_end()


@test
def state_is_per_thread():
    e = shim.shim_ends()
    result = {}

    def other():
        swprof.trace_end()      # not this thread's segment
        result["ends"] = shim.shim_ends()
        result["task"] = swprof.current_task()
        with swprof.traced("GET:/other", "seg-7") as admitted:
            result["admitted"] = admitted

    with swprof.traced("GET:/main", "seg-6"):
        t = threading.Thread(target=other)
        t.start()
        t.join()
        assert swprof.current_task() == 3
    assert result == {"ends": e, "task": 0, "admitted": True}, result
    assert shim.shim_ends() == e + 2


@test
def a_forked_child_reopens_and_has_no_segment():
    opened, ends = shim.shim_opens(), shim.shim_ends()
    assert swprof.trace_begin("GET:/fork", "seg-8") is True
    pid = os.fork()
    if pid == 0:
        code = 0
        try:
            assert swprof.current_task() == 0
            swprof.trace_end()
            assert shim.shim_ends() == ends
            assert swprof.trace_begin("GET:/fork", "seg-9") is True
            assert shim.shim_opens() == opened + 1
            swprof.trace_end()
        except BaseException:
            for line in traceback.format_exc().splitlines():
                print("# child: " + line)
            sys.stdout.flush()
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, status
    assert swprof.current_task() == 3
    swprof.trace_end()
    assert shim.shim_opens() == opened


@test
def missing_library_degrades_to_noops():
    code = ("import swprof, sys\n"
            "try:\n"
            "    swprof.library()\n"
            "except OSError as e:\n"
            "    assert 'SWPROF_LIB' in str(e), e\n"
            "else:\n"
            "    sys.exit('loaded')\n"
            "assert swprof.trace_begin('e', 's') is False\n"
            "assert swprof.trace_end() is None\n"
            "with swprof.traced('e', 's') as a:\n"
            "    assert a is False\n"
            "assert not swprof.available()\n"
            "assert swprof.reason() == 'error'\n")
    env = dict(os.environ, SWPROF_LIB="/nonexistent/libswprof.so")
    env.pop("LD_PRELOAD", None)
    r = subprocess.run([sys.executable, "-c", code], env=env,
                       cwd=os.path.dirname(os.path.abspath(__file__)),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert r.returncode == 0, r.stdout.decode()


def main():
    print("1..%d" % len(tests))
    failed = 0
    for n, fn in enumerate(tests, 1):
        try:
            fn()
        except Exception:
            failed += 1
            print("not ok %d %s" % (n, fn.__name__))
            for line in traceback.format_exc().splitlines():
                print("# " + line)
        else:
            print("ok %d %s" % (n, fn.__name__))
        sys.stdout.flush()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
