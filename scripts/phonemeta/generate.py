#!/usr/bin/env python3
"""Generate EmmyApp's phone-number validation metadata from the PyPI package `phonenumbers`.

`phonenumbers` (Apache-2.0) carries Google's libphonenumber metadata. This script exports the
part that parsing and validation need (no formatting rules, no example numbers) into a compact
text table embedded in a Swift source file as one raw string literal, and copies the upstream
licence next to it.

Usage:
    scripts/phonemeta/generate.py [--venv /tmp/phonemeta-venv] [--version 9.0.43]

Without `phonenumbers` importable, the script creates the virtualenv (python3 -m venv), installs
`phonenumbers` into it with pip and re-runs itself with the virtualenv's interpreter.

Table format (one territory per line, fields separated by single spaces, `_` = empty):
    region cc main idd npfp transform leadingDigits lengths localLengths generalPattern type...
where each `type` is `lengths=pattern` (deduplicated), lengths are `7-10,12`-style lists.
"""

import argparse
import os
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
OUT_DIR = os.path.join(ROOT, "Sources", "PhoneNumbers")
SWIFT_OUT = os.path.join(OUT_DIR, "PhoneMetadata+Generated.swift")
NOTICE_OUT = os.path.join(OUT_DIR, "NOTICE-libphonenumber.txt")

TYPES = [
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number",
    "pager", "uan", "voicemail", "fixed_line", "mobile",
]
# Characters the Swift-side pattern compiler (DigitPattern) understands.
PATTERN_CHARS = set("0123456789\\d[]()?:|{},-$")


def ensure_phonenumbers(venv, version=None):
    """Makes `phonenumbers` importable: re-runs the calling script inside `venv` if needed."""
    try:
        import phonenumbers  # noqa: F401
        return
    except ImportError:
        pass
    if os.environ.get("PHONEMETA_REEXEC"):
        sys.exit("phonenumbers still not importable inside the virtualenv")
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        subprocess.run([sys.executable, "-m", "venv", venv], check=True, timeout=300)
    spec = "phonenumbers" + (f"=={version}" if version else "")
    subprocess.run([py, "-m", "pip", "install", "-q", spec], check=True, timeout=600)
    env = dict(os.environ, PHONEMETA_REEXEC="1")
    os.execve(py, [py, os.path.abspath(sys.argv[0])] + sys.argv[1:], env)


def lengths(values):
    """(7, 8, 9, 10, 12) -> "7-10,12"; () -> "_"."""
    vals = sorted(v for v in values if v >= 0)
    if not vals:
        return "_"
    out, start, prev = [], vals[0], vals[0]
    for v in vals[1:] + [None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if v is not None:
            start = prev = v
    return ",".join(out)


def field(value):
    if value is None or value == "":
        return "_"
    if any(c.isspace() for c in value) or value == "_":
        raise SystemExit(f"unexpected whitespace/underscore in metadata field {value!r}")
    return value


def check_pattern(where, pattern):
    bad = set(pattern) - PATTERN_CHARS
    if bad:
        raise SystemExit(f"{where}: pattern uses unsupported characters {sorted(bad)}: {pattern}")


def territory_line(region, md, main):
    gd = md.general_desc
    check_pattern(f"{region} general", gd.national_number_pattern)
    cols = [
        region,
        str(md.country_code),
        "1" if main else "0",
        field(md.international_prefix),
        field(md.national_prefix_for_parsing),
        field(md.national_prefix_transform_rule),
        field(md.leading_digits),
        lengths(gd.possible_length),
        lengths(gd.possible_length_local_only),
        field(gd.national_number_pattern),
    ]
    for name in ("international_prefix", "national_prefix_for_parsing", "leading_digits"):
        value = getattr(md, name)
        if value:
            check_pattern(f"{region} {name}", value)
    seen = set()
    for t in TYPES:
        desc = getattr(md, t)
        if desc is None or not desc.national_number_pattern:
            continue
        if list(desc.possible_length) == [-1]:
            continue
        check_pattern(f"{region} {t}", desc.national_number_pattern)
        item = f"{lengths(desc.possible_length)}={desc.national_number_pattern}"
        if item not in seen:
            seen.add(item)
            cols.append(item)
    return " ".join(cols)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", default="/tmp/phonemeta-venv", help="virtualenv to create/use")
    parser.add_argument("--version", default=None, help="phonenumbers version to install")
    args = parser.parse_args()
    ensure_phonenumbers(args.venv, args.version)

    import phonenumbers
    from phonenumbers import PhoneMetadata
    from phonenumbers.phonenumberutil import COUNTRY_CODE_TO_REGION_CODE

    lines = []
    regions = 0
    for cc in sorted(COUNTRY_CODE_TO_REGION_CODE):
        for index, region in enumerate(COUNTRY_CODE_TO_REGION_CODE[cc]):
            if region == "001":
                md = PhoneMetadata.metadata_for_nongeo_region(cc)
            else:
                md = PhoneMetadata.metadata_for_region(region)
            if md is None:
                continue
            # libphonenumber lists the main country first for a shared code.
            lines.append(territory_line(region, md, index == 0))
            regions += 1
    table = "\n".join(lines)
    if '"""#' in table:
        raise SystemExit("table would terminate the Swift raw string literal")

    version = phonenumbers.__version__
    swift = f"""// GENERATED by scripts/phonemeta/generate.py — do not edit by hand.
// Source: PyPI phonenumbers {version} (libphonenumber metadata, Apache-2.0;
// see NOTICE-libphonenumber.txt). {regions} territories, validation data only.
// Format: see scripts/phonemeta/generate.py.

extension PhoneMetadata {{
    /// The `phonenumbers` release the table was exported from.
    static let generatedVersion = "{version}"

    /// One territory per line; parsed once by `PhoneMetadata.shared`.
    static let generatedTable = #\"\"\"
{table}
\"\"\"#
}}
"""
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(SWIFT_OUT, "w", encoding="utf-8") as f:
        f.write(swift)

    dist = None
    from importlib import metadata as importlib_metadata
    dist = importlib_metadata.distribution("phonenumbers")
    licence = None
    for f in dist.files or []:
        if os.path.basename(str(f)).upper() in ("LICENSE", "LICENSE.TXT", "COPYING", "NOTICE"):
            licence = dist.locate_file(f).read_text(encoding="utf-8")
            break
    if licence is None:
        raise SystemExit("could not find the licence file in the installed phonenumbers package")
    notice = f"""Phone-number metadata in PhoneMetadata+Generated.swift

The table is derived from the metadata shipped in the Python package `phonenumbers`
{version} (https://github.com/daviddrysdale/python-phonenumbers), a port of Google's
libphonenumber (https://github.com/google/libphonenumber).
Copyright (C) 2009-2015 The Libphonenumber Authors.
Licensed under the Apache License, Version 2.0 (text below). The data was transformed
(reduced to the fields needed for parsing and validation) by scripts/phonemeta/generate.py.
The parsing/validation code in this directory is EmmyApp's own.

----------------------------------------------------------------------------------------
{licence}"""
    with open(NOTICE_OUT, "w", encoding="utf-8") as f:
        f.write(notice)
    print(f"phonenumbers {version}: {regions} territories, "
          f"{os.path.getsize(SWIFT_OUT)} bytes -> {os.path.relpath(SWIFT_OUT, ROOT)}")


if __name__ == "__main__":
    main()
