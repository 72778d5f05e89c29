"""Real terminals under Xvfb for the terminal tests (tests/test_terminals.py).

One X server without a screen (Xvfb) per test module; terminals run the app in it, keys are typed with
xdotool (XTEST, so the terminal sees real key presses), and screenshots are taken with ImageMagick's `import`.
What is missing is installed by `.ci/terminal-tools` (Debian packages); when that cannot be done the tests
are skipped with the reason.

Waiting is done on the screen itself: `wait_for` takes screenshots until a condition holds (a region changed,
the screen is back to a picture taken before), never a fixed sleep.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image, ImageChops

ROOT = Path(__file__).resolve().parent.parent
TOOLS = {"Xvfb": "xvfb", "xterm": "xterm", "kitty": "kitty", "mlterm": "mlterm", "xdotool": "xdotool",
         "import": "imagemagick"}
SCREEN = (1600, 1000)
FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf")


def ensure_tools() -> None:
    """Install the X tools and the font with the project's script when one is missing, or skip saying why."""
    if all(shutil.which(binary) for binary in TOOLS) and FONT_FILE.exists():
        return
    try:
        result = subprocess.run(["bash", str(ROOT / ".ci" / "terminal-tools")], capture_output=True, text=True,
                                timeout=600)
        output = result.stderr.strip()[-300:] or "no output"
    except subprocess.TimeoutExpired:
        output = "apt-get took more than 10 minutes"
    missing = [f"{binary} ({package})" for binary, package in TOOLS.items() if not shutil.which(binary)]
    missing += [] if FONT_FILE.exists() else [f"{FONT_FILE.name} (fonts-dejavu-core)"]
    if missing:
        pytest.skip(f"terminal tests need {', '.join(missing)}; .ci/terminal-tools could not install them: {output}")


class Display:
    """An Xvfb server on a free display number."""

    def __init__(self) -> None:
        import tempfile

        self.home = tempfile.mkdtemp(prefix="terminals-")
        read, write = os.pipe()
        self.process = subprocess.Popen(
            ["Xvfb", "-displayfd", str(write), "-screen", "0", f"{SCREEN[0]}x{SCREEN[1]}x24", "-nolisten", "tcp",
             "-noreset"], pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        with os.fdopen(read) as answer:
            number = answer.readline().strip()  # Xvfb writes the number once it accepts connections
        if not number:
            self.process.kill()
            raise RuntimeError("Xvfb did not start")
        self.name = f":{number}"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TEXTUAL", "COLORTERM", "KITTY", "TERM"))}
        # the app reads no one's settings file (a missing file: the defaults)
        env.update(DISPLAY=self.name, MYIMAGES_CONFIG=str(Path(self.home) / "settings.toml"), **extra)
        return env

    def run(self, *argv: str, **kwargs) -> subprocess.CompletedProcess:
        return subprocess.run(argv, env=self.env(), capture_output=True, check=True, timeout=10, **kwargs)

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(10)
        shutil.rmtree(self.home, ignore_errors=True)


class Terminal:
    """One terminal window running one command; keys, resizing and screenshots."""

    def __init__(self, display: Display, argv: list[str], *, env: dict[str, str], from_root: bool = False) -> None:
        """`from_root`: screenshots are cut from the whole screen (kitty draws with OpenGL, which a window's
        own screenshot does not hold under Xvfb)."""
        self.display = display
        self.from_root = from_root
        # what the terminal (and the app in it) says on stderr: read when its window goes away (a CI run saw kitty's
        # window vanish at load 10-16, with nothing to tell whether kitty or the app ended)
        self.errors = tempfile.TemporaryFile()
        self.process = subprocess.Popen(argv, env=display.env(**env), stdout=subprocess.DEVNULL,
                                        stderr=self.errors, start_new_session=True)
        found = display.run("xdotool", "search", "--sync", "--onlyvisible", "--pid", str(self.process.pid))
        self.window = found.stdout.split()[0].decode()
        display.run("xdotool", "windowfocus", "--sync", self.window)
        display.run("xdotool", "mousemove", str(SCREEN[0] - 1), str(SCREEN[1] - 1))  # no hover, no tooltip

    def keys(self, *names: str) -> None:
        """Press keys by their X names (Return, Escape, i, ctrl+p)."""
        self.display.run("xdotool", "key", "--window", self.window, "--clearmodifiers", *names)

    def resize(self, width: int, height: int) -> None:
        self.display.run("xdotool", "windowsize", "--sync", self.window, str(width), str(height))

    def shot(self) -> Image.Image:
        done = self.display.run("import", "-silent", "-window", "root" if self.from_root else self.window,
                                "-depth", "8", "ppm:-")
        picture = Image.open(BytesIO(done.stdout)).convert("RGB")  # 8 bits: Pillow reads 16-bit PPM slowly
        if self.from_root:
            try:
                found = self.display.run("xdotool", "getwindowgeometry", "--shell", self.window).stdout.decode()
            except subprocess.CalledProcessError:
                raise AssertionError(f"the terminal's window is gone: {self.ended()}") from None
            geometry = dict(line.split("=") for line in found.split())
            x, y = int(geometry["X"]), int(geometry["Y"])
            picture = picture.crop((x, y, x + int(geometry["WIDTH"]), y + int(geometry["HEIGHT"])))
        return picture

    def wait_for(self, condition, timeout: float = 20.0, what: str = "the screen") -> Image.Image:
        """Screenshots until `condition(picture)` is true; the last picture is kept in /tmp for a failure."""
        deadline = time.monotonic() + timeout
        while True:
            picture = self.shot()
            if condition(picture):
                return picture
            if time.monotonic() > deadline:
                path = Path(os.environ.get("TMPDIR", "/tmp")) / f"terminal-failure-{os.getpid()}-{int(time.time())}.png"
                picture.save(path)
                raise AssertionError(f"timed out waiting for {what}; last screenshot: {path}")
            time.sleep(0.1)  # between screenshots only: each poll checks the condition

    def wait_back(self, before: Image.Image, what: str, timeout: float = 8.0) -> None:
        """Wait for the screen to be exactly `before` again; a failure names the region that differs."""
        try:
            self.wait_for(lambda shot: not differs(shot, before, GLYPH_EDGE_PIXELS), timeout, what)
        except AssertionError as failure:
            shot = self.shot()
            raise AssertionError(f"{failure}; {changed_pixels(shot, before)} pixels differ in "
                                 f"{difference_box(shot, before)} (x0, y0, x1, y1)") from None

    def wait_still(self, timeout: float = 20.0, quiet: float = 0.6, blink: int = 400) -> Image.Image:
        """The screen once it stopped changing for `quiet` seconds (the app has drawn what it had to); changes
        of at most `blink` pixels (a text cursor blinking in a field, about two cells) do not count."""
        state = {"last": None, "since": time.monotonic()}

        def still(picture: Image.Image) -> bool:
            if state["last"] is None or differs(picture, state["last"], blink):
                state["last"], state["since"] = picture, time.monotonic()
                return False
            return time.monotonic() - state["since"] >= quiet

        return self.wait_for(still, timeout, "the screen to settle")

    def wait_app(self, timeout: float = 60.0) -> Image.Image:
        """The app's first screen, drawn and settled. A terminal starts one colour (xterm white, kitty black) with
        a cursor; the app paints panels and text in many."""
        def painted(picture: Image.Image) -> bool:
            colours = picture.getcolors(64)
            return colours is None or len(colours) > 6

        self.wait_for(painted, timeout, "the app to start")
        return self.wait_still()

    def ended(self) -> str:
        """How the terminal's process ended (or that it runs), with the end of what it wrote on stderr."""
        try:
            code = self.process.wait(2)
        except subprocess.TimeoutExpired:
            state = "the terminal still runs"
        else:
            state = f"the terminal ended with {code}"
        self.errors.seek(0)
        said = self.errors.read().decode(errors="replace")[-3000:]
        return f"{state}; its stderr ended with:\n{said}" if said.strip() else f"{state}; it wrote nothing on stderr"

    def close(self) -> None:
        self.errors.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


# xterm draws an anti-aliased glyph's edge pixels a little differently when a line is written in pieces (a
# box-drawing join, two pixels); a line of a modal left behind is hundreds of pixels.
GLYPH_EDGE_PIXELS = 12


def changed_pixels(a: Image.Image, b: Image.Image) -> int:
    mask = ImageChops.difference(a, b).convert("L").point(lambda v: 255 if v else 0)
    return mask.histogram()[255]


def differs(a: Image.Image, b: Image.Image, tolerance: int = 0) -> bool:
    """The pictures differ in more than `tolerance` pixels."""
    if a.size != b.size:
        return True
    if ImageChops.difference(a, b).getbbox() is None:
        return False
    return changed_pixels(a, b) > tolerance


def difference_box(a: Image.Image, b: Image.Image) -> tuple[int, int, int, int] | None:
    return ImageChops.difference(a, b).getbbox()


def app_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "tui.cli", *args]
