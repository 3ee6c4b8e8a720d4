#!/usr/bin/env python3
"""Vendor the npm packages that a Solara page loads through its CDN proxy.

A page served by ``solara run`` asks its own server for
``/_solara/cdn/<npm-package>@<version>/<path>``.  The server answers from
``solara.server.settings.assets.proxy_cache_dir`` (``<sys.prefix>/share/solara/cdn``)
and, on a miss, fetches the file from a public CDN.  Without internet that fetch
fails (``Could not load URL`` in the server log) and the page stays blank.

The CDN only mirrors npm packages, so this script fills the cache from the npm
registry instead: it reads the package specs from the *installed* solara (its
page template, its ``.vue`` widgets and its settings), runs ``npm pack`` for each
one and unpacks the whole package into ``<cache>/<spec>/``, which is exactly the
layout the CDN serves (``<pkg>@<ver>/<path inside the package>``).

Run it with the Python of the environment that serves the page (it imports
solara to find the template and the cache directory).  It is idempotent: a
package that was vendored before (a stamp file plus every referenced file
present) is skipped without calling npm.

Only the standard library and solara are needed, plus ``npm`` (``$NPM``, on PATH, or installed
by ``scripts/find_npm.py`` with apt-get where this process may install).

Exit codes: 0 ok, 1 a package could not be vendored or lacks a file the page
asks for, 2 npm is missing (one line says what to install) or the arguments are wrong.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import find_npm  # noqa: E402  (a sibling script, found through the line above)

STAMP = ".vendored.json"

# A reference to the CDN proxy in solara's sources, for instance
#   {{cdn}}/@widgetti/solara-vuetify-app@10.1.1/dist/fonts.css       (jinja template)
#   ${this.getCdn()}/katex@0.16.9/dist/katex.min.css                  (.vue / .py)
#   ${this.getCdn()}/echarts@${version}/dist/echarts.js               (version in a JS const)
CDN_REF = re.compile(
    r"(?:\{\{\s*cdn\s*\}\}|\$\{this\.getCdn\(\)\}|\$\{cdn\}|_solara/cdn)/"
    r"(?P<spec>(?:@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*@(?:\$\{\w+\}|[^/\s'\"`)]+))"
    r"(?P<path>/[^\s'\"`)]*)?"
)
JS_CONST = r"""(?:const|let|var)\s+{name}\s*=\s*["']([^"']+)["']"""
JINJA_VAR = re.compile(r"\{\{\s*(\w+)\s*\}\}")

# Solara's two front-end apps; the template picks one by the ipyvue major version
# (solara/server/server.py: ``vue3 = ipyvue.__version__.startswith("3")``).
VUE2_APP = "@widgetti/solara-vuetify-app"
VUE3_APP = "@widgetti/solara-vuetify3-app"


@dataclass
class Package:
    """One npm package spec as requested by the page, and the files asked of it."""

    spec: str  # e.g. "katex@0.16.9", "vega@5", "@widgetti/solara-vuetify-app@10.1.1"
    files: set[str] = field(default_factory=set)  # paths inside the package
    sources: set[str] = field(default_factory=set)  # where the reference was found

    @property
    def name(self) -> str:
        """The npm package name, without the version."""
        return self.spec.rsplit("@", 1)[0]


def log(msg: str) -> None:
    """Print a progress line."""
    print(f"[vendor_frontend] {msg}", flush=True)


def solara_context() -> dict:
    """Facts about the installed solara that decide which URLs its page requests."""
    try:
        import ipyvue
        import ipywidgets
        import solara
        import solara.server.settings as settings
    except ImportError as e:  # pragma: no cover - depends on the environment
        sys.exit(f"[vendor_frontend] error: cannot import solara ({e}); use the venv's python")
    return {
        "solara_dir": Path(solara.__file__).parent,
        "solara_version": solara.__version__,
        "cache_dir": Path(settings.assets.proxy_cache_dir),
        "fontawesome_enabled": bool(settings.assets.fontawesome_enabled),
        "fontawesome_path": settings.assets.fontawesome_path,
        "vue3": ipyvue.__version__.startswith("3"),
        "jinja": {"ipywidget_major_version": str(int(ipywidgets.__version__.split(".")[0]))},
    }


def source_files(solara_dir: Path):
    """Files of the installed solara that can reference the CDN proxy (not its docs website)."""
    for path in sorted(solara_dir.rglob("*")):
        rel = path.relative_to(solara_dir)
        if rel.parts and rel.parts[0] in ("website", "__pycache__"):
            continue
        if path.suffix in (".j2", ".html", ".vue", ".py", ".js") and path.is_file():
            yield path


def resolve_js_vars(spec: str, text: str) -> str | None:
    """Fill ``${name}`` in a spec from a ``const name = "..."`` in the same source."""
    for var in re.findall(r"\$\{(\w+)\}", spec):
        c = re.search(JS_CONST.format(name=re.escape(var)), text)
        if not c:
            return None
        spec = spec.replace("${" + var + "}", c.group(1))
    return spec


def discover(ctx: dict) -> dict[str, Package]:
    """Find every npm package (and file in it) that the page may ask the proxy for."""
    found: dict[str, Package] = {}

    def add(spec: str, path: str | None, where: str) -> None:
        pkg = found.setdefault(spec, Package(spec))
        pkg.sources.add(where)
        if path and path.strip("/"):
            pkg.files.add(path.strip("/"))

    solara_dir: Path = ctx["solara_dir"]
    for file in source_files(solara_dir):
        text = file.read_text(encoding="utf-8", errors="replace")
        if "cdn" not in text.lower():
            continue
        for m in CDN_REF.finditer(text):
            spec = resolve_js_vars(m.group("spec"), text)
            path = m.group("path")
            if spec is None:
                where = file.relative_to(solara_dir)
                log(f"warning: cannot resolve {m.group('spec')!r} in {where}; skipped")
                continue
            if path:
                # the template fills in jinja variables (main{{ipywidget_major_version}}.css)
                path = JINJA_VAR.sub(lambda v: ctx["jinja"].get(v.group(1), v.group(0)), path)
                if "{{" in path or "${" in path:
                    path = None  # a path we cannot predict: the package is still vendored whole
            add(spec, path, str(file.relative_to(solara_dir)))

    if ctx["fontawesome_enabled"]:
        fa = ctx["fontawesome_path"].strip("/")
        spec, _, path = fa.partition("/")
        if "@" in spec.lstrip("@"):
            if spec.startswith("@"):  # scoped: "@scope/name@ver/path"
                name, _, rest = path.partition("/")
                spec, path = f"{spec}/{name}", rest
            add(spec, path, "settings.assets.fontawesome_path")

    # keep only the front-end app the template will actually pick
    unused = VUE2_APP if ctx["vue3"] else VUE3_APP
    return {s: p for s, p in sorted(found.items()) if p.name != unused}


def dest_dir(cache_dir: Path, pkg: Package) -> Path:
    """Where the proxy looks for the package: ``<cache>/<spec>/``."""
    return cache_dir / pkg.spec


def missing_files(cache_dir: Path, pkg: Package) -> list[str]:
    """Files the page asks for that are not in the cache."""
    d = dest_dir(cache_dir, pkg)
    return sorted(f for f in pkg.files if not (d / f).is_file())


def is_vendored(cache_dir: Path, pkg: Package) -> bool:
    """True when the package was vendored by this script and has every requested file."""
    d = dest_dir(cache_dir, pkg)
    return (d / STAMP).is_file() and not missing_files(cache_dir, pkg)


def npm_pack(npm: str, spec: str, workdir: Path) -> tuple[Path, dict]:
    """``npm pack`` one spec into workdir; returns the tarball and npm's metadata."""
    cmd = [npm, "pack", spec, "--json", "--ignore-scripts", "--pack-destination", str(workdir)]
    last = None
    for _attempt in range(3):
        proc = subprocess.run(cmd, cwd=workdir, capture_output=True, text=True, timeout=600)
        if proc.returncode == 0:
            meta = json.loads(proc.stdout)[0]
            return workdir / meta["filename"], meta
        last = proc
    raise RuntimeError(f"`{' '.join(cmd)}` failed ({last.returncode}):\n{last.stderr.strip()}")


def add_minified_alias(root: Path, rel: str) -> None:
    """Stand in for the CDN's on-the-fly minification.

    The CDN serves ``x.min.js`` / ``x.min.css`` for any ``x.js`` / ``x.css`` of a package,
    minifying it on request (solara asks for ``requirejs@2.3.6/require.min.js``, which the
    npm package does not contain).  The unminified file does the same job, so copy it.
    """
    target = root / rel
    m = re.fullmatch(r"(.*)\.min\.(js|css)", target.name)
    if target.exists() or not m:
        return
    plain = target.with_name(f"{m.group(1)}.{m.group(2)}")
    if plain.is_file():
        shutil.copyfile(plain, target)


def vendor_one(npm: str, cache_dir: Path, pkg: Package) -> str:
    """Fetch one package with npm and put it in the cache, replacing what was there."""
    dest = dest_dir(cache_dir, pkg)
    dest.parent.mkdir(parents=True, exist_ok=True)
    # build next to the destination (same filesystem), then swap it in with a rename
    with tempfile.TemporaryDirectory(prefix=".vendor-", dir=dest.parent) as tmp:
        tmp = Path(tmp)
        tarball, meta = npm_pack(npm, pkg.spec, tmp)
        unpacked = tmp / "unpacked"
        with tarfile.open(tarball) as tf:
            tf.extractall(unpacked, filter="data")
        tops = [p for p in unpacked.iterdir()]
        # npm tarballs hold one top folder, normally "package/"
        root = tops[0] if len(tops) == 1 and tops[0].is_dir() else unpacked
        stamp = {
            "spec": pkg.spec,
            "name": meta.get("name"),
            "version": meta.get("version"),
            "integrity": meta.get("integrity"),
            "requested_files": sorted(pkg.files),
        }
        for f in pkg.files:
            add_minified_alias(root, f)
        (root / STAMP).write_text(json.dumps(stamp, indent=2) + "\n")
        missing = [f for f in pkg.files if not (root / f).is_file()]
        if missing:
            got = f"{meta.get('name')}@{meta.get('version')}"
            raise RuntimeError(f"{got} lacks files the page asks for: {missing}")
        if dest.exists() or dest.is_symlink():
            old = tmp / "old"
            os.replace(dest, old)
        os.replace(root, dest)
    return f"{pkg.spec} -> {meta.get('name')}@{meta.get('version')}"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cache-dir", type=Path, help="override solara's proxy_cache_dir")
    ap.add_argument("--list", action="store_true", help="show what the page requests and exit")
    ap.add_argument("--check", action="store_true", help="exit 1 unless all is vendored")
    ap.add_argument("--force", action="store_true", help="vendor again even if already there")
    ap.add_argument("--jobs", type=int, default=4, help="parallel npm pack calls (default 4)")
    args = ap.parse_args(argv)

    ctx = solara_context()
    cache_dir = (args.cache_dir or ctx["cache_dir"]).resolve()
    pkgs = discover(ctx)
    if not pkgs:
        log("error: found no CDN references in solara; has its layout changed?")
        return 1

    if args.list:
        print(f"solara {ctx['solara_version']}  vue3={ctx['vue3']}  cache_dir={cache_dir}")
        for p in pkgs.values():
            state = "vendored" if is_vendored(cache_dir, p) else "missing"
            print(f"{p.spec:45s} {state:9s} files={sorted(p.files)}")
        return 0

    todo = [p for p in pkgs.values() if args.force or not is_vendored(cache_dir, p)]
    if args.check:
        for p in todo:
            log(f"not vendored: {p.spec} (missing {missing_files(cache_dir, p) or 'stamp'})")
        return 1 if todo else 0
    if not todo:
        log(f"all {len(pkgs)} packages already vendored in {cache_dir}")
        return 0

    npm, how = find_npm.find()  # npm on PATH, or installed with apt-get where allowed
    if npm is None:
        print(f"[vendor_frontend] error: {how}", file=sys.stderr)
        return 2

    log(f"solara {ctx['solara_version']} (vue3={ctx['vue3']}); cache {cache_dir}")
    log(f"vendoring {len(todo)} of {len(pkgs)} packages: {', '.join(p.spec for p in todo)}")
    cache_dir.mkdir(parents=True, exist_ok=True)
    failures = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as ex:
        futs = {ex.submit(vendor_one, npm, cache_dir, p): p for p in todo}
        for fut in concurrent.futures.as_completed(futs):
            p = futs[fut]
            try:
                log(f"ok   {fut.result()}")
            except Exception as e:  # noqa: BLE001 - report every package, then fail
                failures += 1
                log(f"FAIL {p.spec}: {e}")
    if failures:
        log(f"error: {failures} package(s) failed")
        return 1
    log(f"done: {len(pkgs)} packages in {cache_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
