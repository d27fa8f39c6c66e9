"""What a reader would see wrong on a rendered page, measured in the browser (used by test_book).

Each check returns human-readable problems, so a failing build says which table, figure or cell
to fix and by how much, instead of a bare assertion.
"""

from __future__ import annotations

#: A figure scaled down by more than this is drawn with text too small to read (a 2-panel figure at
#: 110 dpi is ~1,100 px wide against the ~800 px column; the old 4-panel curves were 1,852 px).
MAX_SHRINK = 1.75

_MEASURE = """() => {
  const main = document.querySelector('main article') || document.querySelector('main');
  const column = main.clientWidth;
  const out = {column, tables: [], images: [], raw_tex: 0, log_lines: []};
  for (const t of main.querySelectorAll('table')) {
    const box = t.closest('.output, .cell_output') || t.parentElement;
    const head = Array.from(t.querySelectorAll('thead th')).map(e => e.innerText.trim()).filter(x => x);
    out.tables.push({width: t.scrollWidth, visible: box.clientWidth, head: head.slice(0, 6).join(' | ').slice(0, 90)});
  }
  for (const img of main.querySelectorAll('img')) {
    out.images.push({src: img.getAttribute('src') || '', complete: img.complete, natural: img.naturalWidth,
                     shown: img.getBoundingClientRect().width});
  }
  const text = main.innerText;
  out.raw_tex = (text.match(/\\\\\\(|\\\\\\[|\\$\\$/g) || []).length;
  for (const pre of main.querySelectorAll('.output pre, .cell_output pre')) {
    for (const line of pre.innerText.split('\\n')) {
      const logLine = /^([\\d-]+ [\\d:,]+ )?(INFO|WARNING|DEBUG) |Warning: |it\\/s\\]/;
      if (logLine.test(line)) out.log_lines.push(line.slice(0, 100));
    }
  }
  return out;
}"""


def page_problems(page, name: str, tolerance: int = 8) -> list[str]:
    """Tables wider than their column (clipped or scrolled out of view), figures that do not load or
    are shrunk past legibility, raw TeX, log lines in cell outputs."""
    m = page.evaluate(_MEASURE)
    problems = []
    for t in m["tables"]:
        if t["width"] > min(m["column"], t["visible"]) + tolerance:
            problems.append(f"{name}: table '{t['head']}' is {t['width']} px wide in a {m['column']} px column")
    for img in m["images"]:
        if not img["complete"] or img["natural"] == 0:
            problems.append(f"{name}: figure {img['src'][-60:]} did not load")
        elif img["src"].endswith(".png") and img["natural"] > MAX_SHRINK * max(img["shown"], 1):
            problems.append(
                f"{name}: figure {img['src'][-40:]} is {img['natural']} px drawn at {img['shown']:.0f} px "
                f"(shrunk {img['natural'] / img['shown']:.1f}x > {MAX_SHRINK}x: text too small)"
            )
    if m["raw_tex"]:
        problems.append(f"{name}: {m['raw_tex']} pieces of raw TeX in the text")
    problems += [f"{name}: log line in an output: {line!r}" for line in m["log_lines"][:5]]
    return problems


def check_site(html, shots=None, chromium: str = "/usr/bin/chromium") -> list[str]:
    """Every page of a built site (``_build/html``) through :func:`page_problems`, offline; with
    ``shots``, a full-page screenshot of each page there (what the closing note of a book change shows)."""
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    html = Path(html).resolve()
    pages = sorted((html / "book").glob("*.html")) + sorted((html / "book" / "chapters").glob("*.html"))
    problems: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("file:") else r.abort())
        for path in pages:
            page.goto(path.as_uri())
            page.wait_for_timeout(800)  # MathJax typesets after load
            problems += page_problems(page, path.stem)
            if shots is not None:
                Path(shots).mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(Path(shots) / f"{path.stem}.png"), full_page=True)
        browser.close()
    return problems


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Check every page of a built site as a reader sees it.")
    parser.add_argument("html", help="the built site, e.g. _build/html")
    parser.add_argument("--shots", help="save a full-page screenshot of every page in this folder")
    args = parser.parse_args()
    found = check_site(args.html, args.shots)
    print("\n".join(found) or "no problems found")
    raise SystemExit(1 if found else 0)
