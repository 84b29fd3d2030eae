# SPDX-License-Identifier: GPL-2.0-only
"""swprof trace profiling for Python applications: ctypes over libswprof.

Tell swprof which request the current thread is serving; when a controller
(swctl agent) has a trace-profiling task for that endpoint, the thread's
stacks are sampled into its session until the request ends::

    import swprof

    with swprof.traced("GET:/api/orders", segment_id):
        handle(request)

Nothing here raises because swprof is missing or refuses: trace_begin()
returns False (the normal case when nobody profiles), trace_end() does
nothing.  Only bad arguments raise ValueError.

The library is ``$SWPROF_LIB`` when set, else ``build/lib/libswprof.so`` of
the source tree this file sits in, else the installed ``libswprof.so.1``.

State is per OS thread: use it where one thread serves one request at a
time (WSGI servers, thread pools), not around asyncio tasks that share a
thread.  See docs/integrators.md.
"""

import contextlib
import ctypes
import errno
import os
import threading

__all__ = ["trace_begin", "trace_end", "traced", "available", "reason",
           "last_error", "current_task", "current_segment", "strerror", "library",
           "ENDPOINT_MAX", "SEGMENT_ID_MAX"]

# From <linux/swprof.h>: sizes in bytes, the terminating NUL included.
ENDPOINT_MAX = 256
SEGMENT_ID_MAX = 128

# enum swprof_trace_reason
_REASONS = ("admitted", "no task", "max sampled", "max parallel", "nested", "error")

_lock = threading.Lock()
_lib = None
_lib_error = None


def _candidates():
    path = os.environ.get("SWPROF_LIB")
    if path:
        return [path]   # an explicit choice: no silent fallback
    here = os.path.dirname(os.path.abspath(__file__))
    return [os.path.normpath(os.path.join(here, "..", "..", "build", "lib", "libswprof.so")),
            "libswprof.so.1"]


def _declare(lib):
    c_int, c_char_p = ctypes.c_int, ctypes.c_char_p
    for name, restype, argtypes in (
            ("swprof_trace_begin", c_int, [c_char_p, c_char_p]),
            ("swprof_trace_end", c_int, []),
            ("swprof_trace_reason", c_int, []),
            ("swprof_trace_last_error", c_int, []),
            ("swprof_trace_current_task", ctypes.c_uint32, []),
            ("swprof_trace_current_segment", c_char_p, []),
            ("swprof_trace_available", c_int, []),
            ("swprof_strerror", c_char_p, [c_int])):
        fn = getattr(lib, name)
        fn.restype = restype
        fn.argtypes = argtypes


def _load():
    global _lib, _lib_error
    if _lib is not None or _lib_error is not None:
        return _lib
    with _lock:
        if _lib is None and _lib_error is None:
            errors = []
            for path in _candidates():
                try:
                    lib = ctypes.CDLL(path)
                    _declare(lib)
                except (OSError, AttributeError) as e:
                    errors.append("%s: %s" % (path, e))
                    continue
                _lib = lib
                break
            else:
                _lib_error = OSError("libswprof not found (set SWPROF_LIB): " +
                                     "; ".join(errors))
    return _lib


def library():
    """The loaded libswprof (a ctypes.CDLL); OSError when it cannot be found."""
    lib = _load()
    if lib is None:
        raise _lib_error
    return lib


def _encode(value, name, limit):
    if isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(value, (bytes, bytearray)):
        data = bytes(value)
    else:
        raise ValueError("%s must be str or bytes, not %s" % (name, type(value).__name__))
    if not data:
        raise ValueError("%s is empty" % name)
    if len(data) >= limit:
        raise ValueError("%s is %d bytes long, swprof takes at most %d"
                         % (name, len(data), limit - 1))
    if b"\0" in data:
        raise ValueError("%s contains a NUL character" % name)
    return data


def trace_begin(endpoint, segment_id=None):
    """The calling thread starts serving a request: True when swprof samples it.

    endpoint: the entry span's name exactly as the tracer reports it (what a
    SkyWalking ProfileTask names), at most 255 bytes in UTF-8.  segment_id:
    the tracer's id of this thread's trace segment, at most 127 bytes; None
    for a program without a SkyWalking tracer: libswprof makes an id and
    swctl agent reports the segment itself (current_segment() tells it).
    Call trace_end() once for each call, whatever it returned (traced() does).
    """
    e = _encode(endpoint, "endpoint", ENDPOINT_MAX)
    s = None if segment_id is None else _encode(segment_id, "segment_id", SEGMENT_ID_MAX)
    lib = _load()
    if lib is None:
        return False
    return lib.swprof_trace_begin(e, s) == 1


def trace_end():
    """The calling thread's request ended.  Never raises."""
    lib = _load()
    if lib is not None:
        lib.swprof_trace_end()


@contextlib.contextmanager
def traced(endpoint, segment_id=None):
    """trace_begin() on entry, trace_end() on exit; yields whether it was admitted.

    Nests (an inner block in a sampled request is part of it) and lets
    exceptions through.
    """
    admitted = trace_begin(endpoint, segment_id)
    try:
        yield admitted
    finally:
        trace_end()


def available():
    """True when libswprof is there and swprof.ko does trace profiling."""
    lib = _load()
    return lib is not None and lib.swprof_trace_available() == 1


def reason():
    """Why the calling thread's last trace_begin() returned what it did."""
    lib = _load()
    if lib is None:
        return "error"
    r = lib.swprof_trace_reason()
    return _REASONS[r] if 0 <= r < len(_REASONS) else "unknown"


def last_error():
    """The negative errno of the calling thread's last begin or end; 0 if none.

    -ELIBACC when libswprof itself could not be loaded.
    """
    lib = _load()
    return -errno.ELIBACC if lib is None else lib.swprof_trace_last_error()


def current_task():
    """Id of the swprof task sampling the calling thread's request; 0 if none."""
    lib = _load()
    return 0 if lib is None else lib.swprof_trace_current_task()


def current_segment():
    """The calling thread's current segment id (its own, or the one libswprof
    made for segment_id None); None when it is not sampled."""
    lib = _load()
    v = None if lib is None else lib.swprof_trace_current_segment()
    return None if v is None else v.decode("utf-8", "replace")


def strerror(err):
    """What an errno from swprof means (sign ignored)."""
    lib = _load()
    if lib is None:
        return os.strerror(abs(err))
    return lib.swprof_strerror(err).decode("utf-8", "replace")
