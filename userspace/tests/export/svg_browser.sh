#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The SVG flame graph in a real browser (headless Chromium), TAP output.
# Run from the repo top after the build: bash userspace/tests/export/svg_browser.sh
#
#  - screenshots of the fixture graphs: right size, not blank, kernel orange,
#    [MISSING] grey and user warm colours all on screen;
#  - a mouse click on a frame zooms (Chrome DevTools Protocol over a pipe),
#    "Reset Zoom" restores;
#  - Ctrl-F opens the search prompt, matches are highlighted and the matched
#    percentage shown; ?s= in the URL does the same on load.
#
# SWPROF_KEEP=DIR keeps the SVGs and screenshots there for a look.
set -u
cd "$(dirname "$0")/../../.." || exit 1

py=/usr/bin/python3
chromium=$(command -v chromium || command -v chromium-browser || true)
test_bin=${SWPROF_TEST_SVG_BIN:-build/tests/host/test_export_svg}
if [[ -z $chromium || ! -x $py ]]; then
	echo "1..0 # SKIP chromium or $py not installed (tools/setup installs them)"
	exit 0
fi
if [[ ! -x $test_bin ]]; then
	echo "1..0 # SKIP $test_bin not built (make -f userspace/Makefile)"
	exit 0
fi

out=${SWPROF_KEEP:-$(mktemp -d)}
mkdir -p "$out"
[[ -n ${SWPROF_KEEP:-} ]] || trap 'rm -rf "$out"' EXIT

echo "1..7"
n=0
report() {	# report NAME STATUS [DETAILS]
	n=$((n + 1))
	if [[ $2 == 0 ]]; then
		echo "ok $n $1"
	else
		echo "not ok $n $1"
		[[ -n ${3:-} ]] && sed 's/^/# /' <<<"$3"
	fi
}

log=$(SWPROF_SVG_OUT=$out "$test_bin" -t svg_fixtures_for_the_browser_test 2>&1)
report "fixture graphs written" $? "$log"

shot() {	# shot SVG PNG
	timeout 120 "$chromium" --headless --no-sandbox --disable-gpu --disable-quic \
		--no-first-run --disable-background-networking --disable-component-update \
		--disable-sync --hide-scrollbars --user-data-dir="$out/profile-shot" \
		--screenshot="$2" --window-size=1200,800 "file://$(realpath "$1")" >/dev/null 2>&1
}

# Decodes a PNG with zlib only and checks size and colours.
png_check() {	# png_check PNG CHECKS...
	"$py" - "$@" <<'EOF'
import struct, sys, zlib

def decode(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    assert depth == 8 and ctype in (2, 6) and interlace == 0, "unexpected PNG layout"
    bpp = 3 if ctype == 2 else 4
    raw, stride = zlib.decompress(idat), w * bpp
    rows, prev, i = [], bytearray(stride), 0
    for _ in range(h):
        f, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
        i += 1 + stride
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if f == 1: line[x] = (line[x] + a) & 255
            elif f == 2: line[x] = (line[x] + b) & 255
            elif f == 3: line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, bpp, rows

path, checks = sys.argv[1], sys.argv[2:]
w, h, bpp, rows = decode(path)
colors = {}
for line in rows:
    for x in range(0, len(line), bpp):
        px = bytes(line[x:x + 3])
        colors[px] = colors.get(px, 0) + 1
def count(pred):
    return sum(n for (r, g, b), n in ((tuple(c), n) for c, n in colors.items()) if pred(r, g, b))
found = {
    "size": (w, h) == (1200, 800),
    "colorful": len(colors) >= 20,
    # kernel frames: orange (r >= 240, 120 <= g <= 160, b <= 60)
    "kernel": count(lambda r, g, b: r >= 240 and 120 <= g <= 160 and b <= 60) > 500,
    # user frames: warm red or yellow
    "user": count(lambda r, g, b: r >= 205 and b <= 60 and (g < 95 or g >= 175)) > 5000,
    # unresolved frames: grey
    "missing": count(lambda r, g, b: r == g == b and 165 <= r <= 205) > 500,
    # text: dark pixels (titles, labels)
    "text": count(lambda r, g, b: r < 80 and g < 80 and b < 80) > 200,
    # search highlight
    "magenta": count(lambda r, g, b: r >= 200 and g <= 40 and b >= 200) > 500,
}
bad = [c for c in checks if not found[c]]
print("%dx%d, %d colours; %s" % (w, h, len(colors), ", ".join("%s=%s" % kv for kv in found.items())))
sys.exit(1 if bad else 0)
EOF
}

svg=$out/webserver-cpu.svg
shot "$svg" "$out/webserver-cpu.png"
log=$(png_check "$out/webserver-cpu.png" size colorful kernel user missing text 2>&1)
report "screenshot of a CPU flame graph: 1200x800, kernel/user/missing colours, text" $? "$log"

shot "$out/mysql-offcpu-icicle.svg" "$out/mysql-offcpu-icicle.png"
log=$(png_check "$out/mysql-offcpu-icicle.png" size colorful kernel text 2>&1)
report "screenshot of an off-CPU icicle graph" $? "$log"

# Drives the page through the DevTools protocol: clicks, keys, dialogs.
cdp() {	# cdp SVG TEST
	"$py" - "$chromium" "$1" "$2" "$out" <<'EOF'
import json, os, subprocess, sys, time

chromium, svg, test, out = sys.argv[1:5]
url = "file://" + os.path.realpath(svg)
r_cmd, w_cmd = os.pipe()    # we write commands, the browser reads fd 3
r_ev, w_ev = os.pipe()      # the browser writes fd 4, we read
browser = subprocess.Popen(
    ["sh", "-c", 'exec "$0" "$@" 3<&%d 4>&%d' % (r_cmd, w_ev), chromium,
     "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
     "--disable-background-networking", "--disable-component-update", "--disable-sync",
     "--hide-scrollbars", "--user-data-dir=" + os.path.join(out, "profile-cdp-" + test),
     "--window-size=1200,800", "--remote-debugging-pipe", "about:blank"],
    pass_fds=(r_cmd, w_ev), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
os.close(r_cmd)
os.close(w_ev)
buf, next_id, session, events = b"", 0, None, []
deadline = time.time() + 60

def read_message():
    global buf
    while b"\0" not in buf:
        if time.time() > deadline:
            raise SystemExit("timeout waiting for the browser")
        chunk = os.read(r_ev, 65536)
        if not chunk:
            raise SystemExit("the browser went away")
        buf += chunk
    msg, buf = buf.split(b"\0", 1)
    return json.loads(msg)

def handle_event(msg, prompt_text):
    events.append(msg.get("method"))
    if msg.get("method") == "Page.javascriptDialogOpening":
        send("Page.handleJavaScriptDialog", {"accept": True, "promptText": prompt_text},
             wait=False)

def send(method, params=None, wait=True, prompt_text=""):
    global next_id
    next_id += 1
    msg = {"id": next_id, "method": method, "params": params or {}}
    if session and not method.startswith("Target."):
        msg["sessionId"] = session
    os.write(w_cmd, json.dumps(msg).encode() + b"\0")
    my_id = next_id
    while wait:
        reply = read_message()
        if reply.get("id") == my_id:
            if "error" in reply:
                raise SystemExit("%s: %s" % (method, reply["error"]))
            return reply.get("result", {})
        if "method" in reply:
            handle_event(reply, prompt_text)

def wait_event(name):
    while name not in events:
        msg = read_message()
        if "method" in msg:
            handle_event(msg, "")

def js(expr):
    r = send("Runtime.evaluate", {"expression": expr, "returnByValue": True})
    if "exceptionDetails" in r:
        raise SystemExit("js: %s" % r["exceptionDetails"])
    return r["result"].get("value")

def frame_box(name):
    # the frame whose title's first line is name: its rect on screen
    return js("""(function () {
      var gs = document.querySelectorAll('g.f');
      for (var i = 0; i < gs.length; i++) {
        if (gs[i].querySelector('title').textContent.split('\\n')[0] === %s) {
          var b = gs[i].querySelector('rect').getBoundingClientRect();
          return {x: b.x, y: b.y, w: b.width, h: b.height,
                  cls: gs[i].getAttribute('class'),
                  width: +gs[i].querySelector('rect').getAttribute('width'),
                  label: gs[i].querySelector('text').textContent,
                  fill: gs[i].querySelector('rect').getAttribute('fill')};
        }
      }
      return null; })()""" % json.dumps(name))

def click(x, y):
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        send("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left",
                                          "clickCount": 1})

def element_box(sel):
    return js("""(function () { var b = document.querySelector(%s).getBoundingClientRect();
                 return {x: b.x, y: b.y, w: b.width, h: b.height}; })()""" % json.dumps(sel))

def screenshot(name):
    import base64
    data = send("Page.captureScreenshot", {"format": "png"})["data"]
    open(os.path.join(out, name), "wb").write(base64.b64decode(data))

def check(cond, what):
    if not cond:
        raise SystemExit("failed: " + what)

target = send("Target.createTarget", {"url": "about:blank"})["targetId"]
session = send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
send("Page.enable")
send("Runtime.enable")
send("Emulation.setDeviceMetricsOverride", {"width": 1200, "height": 800,
                                            "deviceScaleFactor": 1, "mobile": False})
query = "?s=memchr" if test == "url" else ""
send("Page.navigate", {"url": url + query})
wait_event("Page.loadEventFired")
check(js("typeof zoom") == "function", "the script did not load")

if test == "zoom":
    before = frame_box("handle_request")
    check(before and before["w"] < 800, "handle_request not found or already wide: %s" % before)
    click(before["x"] + before["w"] / 2, before["y"] + before["h"] / 2)
    after, main, tls = frame_box("handle_request"), frame_box("main"), frame_box("tls_write")
    child = frame_box("parse_headers")
    check(abs(after["width"] - 1180) < 0.5, "clicked frame is not full width: %s" % after)
    check("parent" in main["cls"], "ancestor not faded: %s" % main)
    check("hide" in tls["cls"], "frame outside the zoom still shown: %s" % tls)
    check(child["width"] > 1.5 * 372, "child did not grow: %s" % child)
    check(child["label"] == "parse_headers", "child label not refitted: %s" % child)
    check("hide" not in js("document.getElementById('unzoom').getAttribute('class')"),
          "Reset Zoom not shown")
    screenshot("zoomed.png")
    b = element_box("#unzoom")
    click(b["x"] + b["w"] / 2, b["y"] + b["h"] / 2)
    again = frame_box("handle_request")
    check(abs(again["width"] - before["width"]) < 0.05, "reset did not restore: %s" % again)
    check(frame_box("tls_write")["cls"] == "f", "reset left frames hidden")
    print("zoom: %.1f px -> %.1f px -> %.1f px" % (before["width"], after["width"], again["width"]))
elif test == "search":
    # Ctrl-F opens the prompt; the dialog handler answers it.
    for kind in ("rawKeyDown", "keyUp"):
        send("Input.dispatchKeyEvent", {"type": kind, "modifiers": 2, "key": "f",
                                        "code": "KeyF", "windowsVirtualKeyCode": 70},
             prompt_text="tcp_")
    check("Page.javascriptDialogOpening" in events, "Ctrl-F opened no prompt")
    matched = js("document.getElementById('matched').textContent")
    # tcp_sendmsg 260 + tcp_recvmsg 140 of 2535 samples
    check(matched.startswith("Matched: 15.8%"), "matched says %r" % matched)
    check(frame_box("tcp_sendmsg")["fill"] == "rgb(230,0,230)", "match not highlighted")
    check(frame_box("write")["fill"] != "rgb(230,0,230)", "non-match highlighted")
    check(js("document.getElementById('search').textContent") == "Reset Search", "no reset")
    screenshot("searched.png")
    print(matched)
elif test == "url":
    matched = js("document.getElementById('matched').textContent")
    # memchr: 800 of 2535 samples
    check(matched.startswith("Matched: 31.6%"), "matched says %r" % matched)
    screenshot("url-search.png")
    print(matched)
browser.kill()
EOF
}

log=$(cdp "$svg" zoom 2>&1)
report "click on a frame zooms, Reset Zoom restores" $? "$log"

log=$(cdp "$svg" search 2>&1)
report "Ctrl-F searches, highlights and shows the matched percentage" $? "$log"

log=$(cdp "$svg" url 2>&1)
report "?s= in the URL searches on load" $? "$log"

if [[ -f $out/searched.png ]]; then
	log=$(png_check "$out/searched.png" size magenta kernel 2>&1)
	report "screenshot after a search shows the highlight" $? "$log"
else
	report "screenshot after a search shows the highlight" 1 "no screenshot"
fi
