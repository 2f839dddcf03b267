"""The web pages of `step --format html` and `train --format html`, in a real browser.

Debian's chromium and chromium-driver, driven by Selenium; nothing downloads a browser or a
driver (the paths are given, so Selenium Manager never runs). Without them the tests skip and
say why. axe-core (the accessibility checker) comes from its npm package: AXE_CORE names the
`npm pack axe-core` tarball or its axe.min.js; without it only the accessibility test skips.
Screenshots go to $BACKPROP_ARTIFACTS (CI keeps them) or a temporary folder.
"""

from __future__ import annotations

import json
import os
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backprop_cli import load_spec, step
from backprop_cli.kernels import Curve, Trainer
from backprop_cli.render.html import anchors, render_train_html

from .clihelp import run

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.chrome.options import Options  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {
    "mazur": ROOT / "configs" / "mazur.yaml",
    "deep-softmax": ROOT / "configs" / "deep-softmax.yaml",
    "minibatch4": ROOT / "tests" / "html_configs" / "minibatch4.yaml",
}
BROWSERS = ("chromium", "chromium-browser", "chromium-headless-shell", "google-chrome")
DRIVERS = ("chromedriver", "/usr/lib/chromium/chromedriver")


def _find(names: tuple[str, ...]) -> str | None:
    for name in names:
        found = shutil.which(name) or (name if os.path.isfile(name) else None)
        if found:
            return found
    return None


def _skip(reason: str) -> None:
    """Skip, or fail where CI says the browser must be there (BACKPROP_REQUIRE_BROWSER=1)."""
    if os.environ.get("BACKPROP_REQUIRE_BROWSER") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    browser, chromedriver = _find(BROWSERS), _find(DRIVERS)
    if browser is None or chromedriver is None:
        _skip(
            "no browser for the web-page tests: install Debian's chromium and chromium-driver "
            f"(apt-get install chromium chromium-driver); found browser={browser}, "
            f"driver={chromedriver}"
        )
    opts = Options()
    opts.binary_location = browser
    for arg in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--window-size=1280,900",
    ):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never fetch anything
    d = webdriver.Chrome(options=opts, service=Service(executable_path=chromedriver))
    d.set_script_timeout(180)
    try:
        yield d
    finally:
        d.quit()


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pages")
    out = {}
    for name, config in CONFIGS.items():
        path = folder / f"{name}.html"
        result = run("step", str(config), "--format", "html", "-o", str(path))  # as users get it
        assert result.exit_code == 0, result.stderr
        out[name] = path
    spec = load_spec(CONFIGS["mazur"])
    trainer = Trainer(spec)
    curve = Curve()
    curve.add(0, trainer.loss)
    for rec in trainer.run(2000):
        curve.add(rec.epoch, rec.E_total)
    report = folder / "train.html"
    report.write_text(
        render_train_html(spec, trainer.summary(2000, "completed"), curve.all()), encoding="utf-8"
    )
    out["train"] = report
    return out


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    given = os.environ.get("BACKPROP_ARTIFACTS")
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path_factory.mktemp("screenshots")


def _width(d: Any, width: int, height: int = 900) -> None:
    d.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )


def _load(d: Any, path: Path, fragment: str = "") -> None:
    d.get_log("browser")  # drop what earlier pages logged
    d.get_log("performance")
    d.get(path.as_uri() + fragment)
    d.find_element(By.TAG_NAME, "body")


def _problems(d: Any, url: str) -> tuple[list[Any], list[str]]:
    """Console errors, and every request other than the page itself."""
    errors = [e for e in d.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    requests = []
    for entry in d.get_log("performance"):
        msg = json.loads(entry["message"])["message"]
        if msg["method"] == "Network.requestWillBeSent":
            target = msg["params"]["request"]["url"]
            if target.split("#")[0] != url:
                requests.append(target)
    resources = d.execute_script("return performance.getEntriesByType('resource').length")
    if resources:
        requests.append(f"{resources} resource timing entries")
    return errors, requests


def _current(d: Any) -> str | None:
    return d.execute_script("var r = document.querySelector('tr.current'); return r ? r.id : null")


# --- every page --------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*CONFIGS, "train"])
def test_no_console_errors_and_no_requests(driver: Any, pages: dict[str, Path], name: str) -> None:
    _width(driver, 1280)
    _load(driver, pages[name])
    if name != "train":
        ActionChains(driver).send_keys(Keys.ARROW_RIGHT * 3).perform()
        driver.find_elements(By.CSS_SELECTOR, "a.v")[2].click()
    errors, requests = _problems(driver, pages[name].as_uri())
    assert errors == []
    assert requests == []
    csp = driver.find_element(
        By.CSS_SELECTOR, 'meta[http-equiv="Content-Security-Policy"]'
    ).get_attribute("content")
    assert "default-src 'none'" in csp


@pytest.mark.parametrize("name", list(CONFIGS))
def test_arrow_key_walks_every_step_in_order(
    driver: Any, pages: dict[str, Path], name: str
) -> None:
    expected = anchors(step(load_spec(CONFIGS[name])))
    _width(driver, 1280)
    _load(driver, pages[name])
    assert _current(driver) is None
    # Record the current row after every key press (this listener runs after the page's).
    driver.execute_script(
        "window.walked = []; document.addEventListener('keydown', function () {"
        "var r = document.querySelector('tr.current'); walked.push(r ? r.id : null); });"
    )
    ActionChains(driver).send_keys(Keys.ARROW_RIGHT * (len(expected) + 2)).perform()
    walked = driver.execute_script("return walked")
    assert walked == [*expected, expected[-1], expected[-1]]  # stops at the last step
    status = driver.find_element(By.ID, "status").text
    assert status.startswith(f"Step {len(expected)} of {len(expected)}")
    ActionChains(driver).send_keys(Keys.ARROW_LEFT).perform()
    assert _current(driver) == expected[-2]
    driver.find_element(By.ID, "first").click()
    assert _current(driver) == expected[0]
    # The current step is lit on the diagram, its inputs marked: not by colour alone.
    lit = driver.execute_script(
        "return Array.prototype.map.call(document.querySelectorAll('#net .lit-forward'),"
        "function (e) { return e.id || e.getAttribute('data-param'); })"
    )
    assert lit, "the first step lights its neuron"
    dash = driver.execute_script(
        "return getComputedStyle(document.querySelector('tr.current .mark'), '::before').content"
    )
    assert "▶" in dash


@pytest.mark.parametrize("name", list(CONFIGS))
def test_clicking_a_value_shows_its_chain_rule(
    driver: Any, pages: dict[str, Path], name: str
) -> None:
    trace = step(load_spec(CONFIGS[name]))
    _width(driver, 1280)
    _load(driver, pages[name])
    row = driver.find_element(By.ID, "dE_total/dw5")
    row.find_element(By.CSS_SELECTOR, "a.v").click()
    panel = driver.find_element(By.ID, "panel")
    assert panel.is_displayed()
    assert _current(driver) == "dE_total/dw5"
    factors = panel.find_elements(By.CSS_SELECTOR, ".tree > li")
    found = trace.find("dE_total/dw5")
    assert found is not None
    assert [f.find_element(By.TAG_NAME, "a").text for f in factors] == list(found.terms)
    if name == "mazur":
        assert "= 0.082167041" in panel.find_element(By.CSS_SELECTOR, ".result").text
        assert [f.text for f in factors] == [
            "dE_total/dout_o1 = 0.74136507",
            "dout_o1/dnet_o1 = 0.186815602",
            "dnet_o1/dw5 = 0.593269992",
        ]
    # Each factor is a link: following it opens that factor's chain and step.
    first = next(iter(found.terms))
    factors[0].find_element(By.TAG_NAME, "a").click()
    assert _current(driver) == first
    assert first in driver.find_element(By.ID, "panel-title").text
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    assert not panel.is_displayed()


def test_diagram_values_open_chains(driver: Any, pages: dict[str, Path]) -> None:
    _width(driver, 1280)
    _load(driver, pages["mazur"])
    label = driver.find_element(By.CSS_SELECTOR, '#net g[data-param="w5"][data-open]')
    label.click()
    assert driver.find_element(By.ID, "panel").is_displayed()
    assert _current(driver) == "w5+"
    assert "0.35891648" in driver.find_element(By.ID, "panel-body").text
    # From the keyboard: focus the node, Enter opens, Escape closes and gives focus back.
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    node = driver.find_element(By.ID, "node-h1")
    driver.execute_script("arguments[0].focus()", node)
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    assert _current(driver) == "out_h1"
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    assert driver.switch_to.active_element.get_attribute("id") == "node-h1"


def test_keyboard_only(driver: Any, pages: dict[str, Path]) -> None:
    """Tab reaches the controls and every value; focus is visible; Enter opens the chain."""
    _width(driver, 1280)
    _load(driver, pages["mazur"])
    seen = []
    for _ in range(40):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        el = driver.switch_to.active_element
        seen.append(el.get_attribute("id") or el.get_attribute("class") or el.tag_name)
        outline = driver.execute_script(
            "var s = getComputedStyle(document.activeElement); "
            "return [s.outlineStyle, s.outlineWidth]"
        )
        assert outline[0] != "none" and outline[1] != "0px", (seen[-1], outline)
        if el.get_attribute("class") == "v":
            break
    assert "next" in seen and "prev" in seen
    assert seen[-1] == "v"
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    assert driver.find_element(By.ID, "panel").is_displayed()
    assert driver.switch_to.active_element.get_attribute("id") == "panel-title"
    ActionChains(driver).send_keys(Keys.ESCAPE).perform()
    assert driver.switch_to.active_element.get_attribute("class") == "v"


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("mazur", "dE_total/dw5"),
        ("mazur", "w5+"),
        ("deep-softmax", "delta_o1"),
        ("minibatch4", "dE_total/dw5[2]"),
        ("minibatch4", "w5+[3]"),
    ],
)
def test_fragment_opens_that_step(
    driver: Any, pages: dict[str, Path], name: str, fragment: str
) -> None:
    _width(driver, 1280)
    _load(driver, pages[name], "#" + fragment)
    assert _current(driver) == fragment
    assert fragment in driver.find_element(By.ID, "status").text
    visible = driver.execute_script(
        "var r = document.getElementById(arguments[0]).getBoundingClientRect();"
        "return r.top >= -1 && r.bottom <= innerHeight + 1",
        fragment,
    )
    assert visible
    ActionChains(driver).send_keys(Keys.ARROW_RIGHT).perform()
    expected = anchors(step(load_spec(CONFIGS[name])))
    assert _current(driver) == expected[expected.index(fragment) + 1]


OVERFLOW = """
var out = [];
var root = document.documentElement;
if (root.scrollWidth > root.clientWidth) {
  out.push('page ' + root.scrollWidth + ' > ' + root.clientWidth);
}
function clipped(el) {
  for (var p = el.parentElement; p; p = p.parentElement) {
    var o = getComputedStyle(p).overflowX;
    if (o === 'auto' || o === 'scroll' || o === 'hidden') { return true; }
  }
  return false;
}
document.querySelectorAll('main *, header *').forEach(function (el) {
  var r = el.getBoundingClientRect();
  if (r.width && r.right > root.clientWidth + 0.5 && !clipped(el)) {
    out.push(el.tagName + '.' + el.className + ' right=' + Math.round(r.right));
  }
});
document.querySelectorAll('.scroll').forEach(function (el) {
  if (el.scrollWidth > el.clientWidth + 1) { out.push('table scrolls: ' + el.scrollWidth); }
});
return out.slice(0, 10);
"""


@pytest.mark.parametrize("width", [375, 1280])
@pytest.mark.parametrize("name", [*CONFIGS, "train"])
def test_layout_holds(
    driver: Any, pages: dict[str, Path], shots: Path, name: str, width: int
) -> None:
    _width(driver, width)
    _load(driver, pages[name], "" if name == "train" else "#dE_total/dw5")
    driver.save_screenshot(str(shots / f"{name}-{width}.png"))
    problems = driver.execute_script(OVERFLOW)
    # Wide tables may scroll inside their own box on a phone; nothing else may overflow.
    problems = [p for p in problems if not (width < 600 and p.startswith("table scrolls"))]
    assert problems == []


@pytest.mark.parametrize(
    ("name", "width"),
    [("mazur", 375), ("mazur", 1280), ("deep-softmax", 375), ("minibatch4", 1280)],
)
def test_matrix_tab(
    driver: Any, pages: dict[str, Path], shots: Path, name: str, width: int
) -> None:
    """Two tabs, scalar and matrices; the arrow keys move between them; the page holds."""
    _width(driver, width)
    _load(driver, pages[name])
    scalar, matrices = driver.find_elements(By.CSS_SELECTOR, "[role=tab]")
    assert scalar.get_attribute("aria-selected") == "true"
    assert driver.find_element(By.ID, "view-0").is_displayed()
    assert not driver.find_element(By.ID, "view-1").is_displayed()
    scalar.click()
    ActionChains(driver).send_keys(Keys.ARROW_RIGHT).perform()
    assert matrices.get_attribute("aria-selected") == "true"
    assert driver.switch_to.active_element == matrices
    view = driver.find_element(By.ID, "view-1")
    assert view.is_displayed() and not driver.find_element(By.ID, "view-0").is_displayed()
    assert "W_h" in view.text or "W" in view.text
    assert view.find_elements(By.CSS_SELECTOR, "mtable")
    driver.save_screenshot(str(shots / f"{name}-matrices-{width}.png"))
    problems = [p for p in driver.execute_script(OVERFLOW) if not p.startswith("table scrolls")]
    assert problems == []
    errors, requests = _problems(driver, pages[name].as_uri())
    assert errors == [] and requests == []


def test_print_shows_the_worked_example_without_controls(
    driver: Any, pages: dict[str, Path]
) -> None:
    _width(driver, 1280)
    _load(driver, pages["mazur"], "#dE_total/dw5")
    driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
    try:
        hidden = driver.execute_script(
            "return ['.controls', '#panel', '.skip', '.help'].map(function (s) {"
            "var e = document.querySelector(s); return !e || getComputedStyle(e).display === 'none'"
            "|| e.hidden; })"
        )
        assert all(hidden)
        rows = driver.execute_script(
            "return Array.prototype.filter.call(document.querySelectorAll('tr.step'),"
            "function (r) { return r.getBoundingClientRect().height > 0; }).length"
        )
        assert rows == len(step(load_spec(CONFIGS["mazur"])).steps)
        assert driver.find_element(By.ID, "net").is_displayed()
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": ""})


def test_train_report_curve_reads_out(driver: Any, pages: dict[str, Path]) -> None:
    _width(driver, 1280)
    _load(driver, pages["train"])
    readout = driver.find_element(By.ID, "readout")
    assert readout.text.startswith("epoch 2000: E_total = ")
    curve = driver.find_element(By.ID, "curve")
    ActionChains(driver).move_to_element_with_offset(curve, -curve.size["width"] // 2 + 80, 0)
    ActionChains(driver).move_to_element(curve).perform()
    assert readout.text != "" and not readout.text.startswith("epoch 2000:")
    driver.execute_script("arguments[0].focus()", curve)
    ActionChains(driver).send_keys(Keys.HOME).perform()
    assert readout.text == "epoch 0: E_total = 0.298371109"


# --- accessibility -----------------------------------------------------------------------------


def _axe_source() -> str:
    given = os.environ.get("AXE_CORE", "")
    candidates = [Path(given)] if given else []
    candidates += [
        ROOT / "node_modules" / "axe-core" / "axe.min.js",
        *sorted(Path("/tmp").glob("*axe*/axe-core-*.tgz")),
    ]
    for path in candidates:
        if path.is_file() and path.suffix == ".js":
            return path.read_text(encoding="utf-8")
        if path.is_file() and path.name.endswith(".tgz"):
            with tarfile.open(path) as tar:
                member = tar.extractfile("package/axe.min.js")
                if member is not None:
                    return member.read().decode("utf-8")
    _skip("axe-core not found: `npm pack axe-core`, then AXE_CORE=the .tgz (or its axe.min.js)")
    return ""


# Dark colours on the worked example and the report; the big pages once (axe takes seconds each).
@pytest.mark.parametrize(
    ("name", "scheme"),
    [(name, "light") for name in [*CONFIGS, "train"]] + [("mazur", "dark"), ("train", "dark")],
)
def test_axe_finds_no_serious_violations(
    driver: Any, pages: dict[str, Path], name: str, scheme: str
) -> None:
    source = _axe_source()
    _width(driver, 1280)
    driver.execute_cdp_cmd(
        "Emulation.setEmulatedMedia",
        {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
    )
    try:
        _load(driver, pages[name], "" if name == "train" else "#dE_total/dw5")
        if name != "train":
            driver.find_element(By.CSS_SELECTOR, "tr.current a.v").click()  # the panel too
        driver.execute_script(source)
        # Colour contrast, the slow rule, once per style sheet: on the worked example and the
        # report (both schemes); the bigger pages share that CSS and get every other rule.
        contrast = "true" if name in ("mazur", "train") else "false"
        result = driver.execute_async_script(
            "var done = arguments[arguments.length - 1];"
            "axe.run(document, {resultTypes: ['violations'], rules: {'color-contrast': "
            f"{{enabled: {contrast}}}}}}})"
            ".then(function (r) { done(r.violations.map(function (v) {"
            "return {id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map("
            "function (n) { return n.target.join(' '); })}; })); })"
            ".catch(function (e) {"
            "done([{id: 'axe failed', impact: 'critical', nodes: [String(e)]}]); });"
        )
    finally:
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": []})
    serious = [v for v in result if v["impact"] in ("serious", "critical")]
    assert serious == []
