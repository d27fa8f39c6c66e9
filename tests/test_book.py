"""End to end: execute every chapter in the quick profile with papermill, build the site with -W,
then open each chapter in headless Chromium and check that its figures and tables render."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from browser_checks import page_problems
from mlkd_utils import book

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CI = os.environ.get("CI") == "true"


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    stage = tmp_path_factory.mktemp("stage")
    out = tmp_path_factory.mktemp("out")
    env = {
        "MLKD_RESULTS_DIR": str(out / "results"),
        "MLKD_RUNS_DIR": str(out / "runs"),
        "MLKD_CACHE_DIR": str(out / "cache"),
    }
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        assert book.main(["--profile", "quick", "--stage", str(stage), "--jobs", "2"]) == 0
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return stage, out


def test_every_notebook_is_in_the_toc():
    toc = (book.REPO_ROOT / "_toc.yml").read_text()
    for nb in book.notebooks():
        assert f"book/chapters/{nb.stem}" in toc, nb.name


def test_chapters_start_longest_first_from_the_last_times_or_the_profile(tmp_path, monkeypatch):
    import json

    monkeypatch.setenv("MLKD_RESULTS_DIR", str(tmp_path))
    chapters = book.notebooks()
    from mlkd_utils.config import load_profile

    expected = load_profile("quick").chapter_seconds
    order = [nb.stem for nb in book.longest_first(chapters, "quick")]  # fresh machine: the profile's
    assert order == sorted(expected, key=lambda c: -expected[c])
    (tmp_path / "quick").mkdir()
    (tmp_path / "quick" / "chapter_times.json").write_text(json.dumps({chapters[0].stem: 1e6}))
    order = [nb.stem for nb in book.longest_first(chapters, "quick")]  # then what was last measured
    assert order[0] == chapters[0].stem and len(order) == len(chapters)


@pytest.mark.book
def test_quick_book_executes_and_writes_tidy_results(built_site):
    from mlkd_utils.results import read_metrics

    stage, out = built_site
    for nb in book.notebooks():
        assert (stage / "book" / "chapters" / nb.name).is_file()
    os.environ["MLKD_RESULTS_DIR"] = str(out / "results")
    try:
        df = read_metrics("quick")
    finally:
        del os.environ["MLKD_RESULTS_DIR"]
    for chapter in ("01_teacher_baselines", "02_distillation"):
        assert chapter in set(df.chapter)
    ch2 = df[(df.chapter == "02_distillation") & (df.task == "sts17")]
    assert {"teacher", "student-en-de", "student-10lang", "student-e5-10lang"} <= set(ch2.model)
    # the offline multilingual systems, scored as they are, and an e5 student beside the English ones
    ch1 = df[(df.chapter == "01_teacher_baselines") & (df.task == "sts17")]
    assert {"teacher", "multilingual-e5-small", "mUSE"} <= set(ch1.model)
    ch3 = df[(df.chapter == "03_sts") & (df.task == "sts17")]
    assert {"multilingual-e5-small", "mUSE", "student-e5-10lang"} <= set(ch3.model)
    assert len(list((out / "results" / "quick" / "runs").glob("*.json"))) >= 3
    # Chapter 6: all six objectives trained and scored on STS, Tatoeba and mining.
    from mlkd_utils.config import OBJECTIVES

    # Chapter 6: every objective at its dev-chosen learning rate (one of two candidates; the other is
    # dev-only and never scored), and mUSE as it is, each scored on STS, Tatoeba and mining.
    ch6 = df[df.chapter == "06_objectives"]
    for o in OBJECTIVES:
        scored = {m for m in set(ch6.model) if m.startswith(f"objective-{o}-lr")}
        assert len(scored) == 1, (o, scored)
    assert {"teacher", "mUSE"} <= set(ch6.model)
    for model, d in ch6.groupby("model"):
        assert {"sts17", "tatoeba_all", "mining"} <= set(d.task), model
    # Chapter 4 mines the systems as they are beside the students
    ch4 = df[(df.chapter == "04_bucc") & (df.task == "mining")]
    assert {"teacher", "multilingual-e5-small", "mUSE", "student-10lang"} <= set(ch4.model)


@pytest.mark.book
def test_executed_chapters_show_results_not_logs(built_site):
    """What a reader sees in a cell's output: no stderr stream (logging, warnings, tqdm), no progress
    widget or trainer table, no printed log dict; those went to the chapter's log file."""
    import json
    import re

    stage, out = built_site
    log_line = re.compile(r"^([\d-]+ [\d:,]+ )?(INFO|WARNING|DEBUG)\b|\{'loss': |it/s\]|s/it\]", re.M)
    for nb in book.notebooks():
        cells = json.loads((stage / "book" / "chapters" / nb.name).read_text())["cells"]
        for i, cell in enumerate(c for c in cells if c["cell_type"] == "code"):
            for o in cell.get("outputs", []):
                where = f"{nb.name} code cell {i}"
                assert o.get("name") != "stderr", f"{where}: stderr in the page: {''.join(o['text'])[:200]!r}"
                assert "application/vnd.jupyter.widget-view+json" not in o.get("data", {}), f"{where}: a widget"
                text = "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                assert not log_line.search(text), f"{where}: {log_line.search(text).group(0)!r} in {text[:200]!r}"
    logs = list((out / "results" / "quick" / "executed" / "logs").glob("*.log"))
    assert {p.stem for p in logs} >= {"02_distillation", "06_objectives"}
    assert any("INFO" in p.read_text() for p in logs)  # the logging went somewhere a reader can find


@pytest.mark.book
def test_site_renders_chapters_with_figures_and_tables(built_site):
    if not Path(CHROMIUM).exists():
        if CI:
            pytest.fail("chromium is required in CI (.ci/run installs it)")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    stage, _ = built_site
    html = stage / "_build" / "html"
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})  # a laptop screen
        # a reader offline: nothing but the built site may be fetched (MathJax is served from it)
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
        page.goto((html / "book" / "chapters" / "02_distillation.html").as_uri())
        page.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0", timeout=20000)
        main = page.locator("main").inner_text()
        assert "\\(" not in main and "$$" not in main, "raw TeX left in chapter 2"
        for nb in book.notebooks():
            page.goto((html / "book" / "chapters" / f"{nb.stem}.html").as_uri())
            title = page.locator("h1").first.inner_text()
            assert title[:2].strip(".") in nb.stem, title
            images = page.locator("main img")
            assert images.count() >= 2, f"{nb.stem}: {images.count()} figures"
            for i in range(images.count()):
                assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", images.nth(i).element_handle())
            assert page.locator("main table").count() >= 2, nb.stem
            assert "Traceback" not in page.locator("main").inner_text()
        page.goto((html / "book" / "intro.html").as_uri())
        assert page.locator("main img[src$='setup.svg']").count() == 1
        # every page as a reader sees it: nothing clipped, figures legible and loaded, no TeX, no logs
        problems = []
        pages = [html / "book" / f"{p.stem}.html" for p in sorted((stage / "book").glob("*.md"))]
        pages += [html / "book" / "chapters" / f"{nb.stem}.html" for nb in book.notebooks()]
        for path in pages:
            page.goto(path.as_uri())
            page.wait_for_timeout(500)  # MathJax typesets after load
            problems += page_problems(page, path.stem)
        assert not problems, "\n".join(problems)
        browser.close()
