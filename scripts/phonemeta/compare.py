#!/usr/bin/env python3
"""Compare EmmyApp's phone-number validation with the PyPI package `phonenumbers`.

Builds a corpus (fixed random seed) of valid example numbers from every region, written in
different ways (E.164, international, national, dialled from abroad, with punctuation,
extensions, prefixes) and mutated (digits changed, inserted, deleted, truncated) so valid and
invalid numbers mix. `phonenumbers` gives the expected answers; the Swift test
`PhoneNumberTests.corpusAgreement` (run when EMMY_PHONE_CORPUS is set) gives EmmyApp's. Prints
the agreement on is_valid and on the E.164 form of valid numbers.

Usage:
    scripts/phonemeta/compare.py [--venv /tmp/phonemeta-venv] [--corpus /tmp/phone-corpus.tsv]
                                 [--count 120000] [--release] [--no-swift]

Uses the generator's virtualenv (created by scripts/phonemeta/generate.py if missing).
"""

import argparse
import collections
import os
import random
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from generate import ensure_phonenumbers  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SEED = 20240601
SEPARATORS = [" ", "-", ".", " ", ""]
EXTENSIONS = [" ext. {}", " x{}", ";ext={}", " extension {}", " ext {}", " #{}"]


def punctuate(rng, digits):
    """Splits a digit string into random groups joined by one random separator."""
    if len(digits) < 4 or rng.random() < 0.3:
        return digits
    sep = rng.choice(SEPARATORS)
    out, i = [], 0
    while i < len(digits):
        step = rng.randint(2, 4)
        out.append(digits[i:i + step])
        i += step
    text = sep.join(out)
    if rng.random() < 0.15 and len(out) > 1:
        text = "(" + out[0] + ") " + sep.join(out[1:])
    return text


def mutate(rng, digits):
    if not digits:
        return digits
    kind = rng.randrange(6)
    i = rng.randrange(len(digits))
    if kind == 0:  # change one digit
        return digits[:i] + str(rng.randrange(10)) + digits[i + 1:]
    if kind == 1:  # insert a digit
        return digits[:i] + str(rng.randrange(10)) + digits[i:]
    if kind == 2:  # delete a digit
        return digits[:i] + digits[i + 1:]
    if kind == 3:  # truncate
        return digits[:rng.randrange(1, len(digits) + 1)]
    if kind == 4:  # append digits
        return digits + "".join(str(rng.randrange(10)) for _ in range(rng.randint(1, 4)))
    # change the first digits (moves between number types / regions)
    return str(rng.randrange(10)) + digits[1:]


def build_corpus(count):
    import phonenumbers
    from phonenumbers import PhoneNumberFormat as F, PhoneNumberType as T

    rng = random.Random(SEED)
    regions = sorted(phonenumbers.SUPPORTED_REGIONS)
    types = [T.FIXED_LINE, T.MOBILE, T.TOLL_FREE, T.PREMIUM_RATE, T.SHARED_COST, T.VOIP,
             T.PERSONAL_NUMBER, T.PAGER, T.UAN, T.VOICEMAIL]
    examples = []  # (region, PhoneNumber)
    for region in regions:
        for t in types:
            n = phonenumbers.example_number_for_type(region, t)
            if n is not None:
                examples.append((region, n))
    for cc in sorted(phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS):
        n = phonenumbers.example_number_for_non_geo_entity(cc)
        if n is not None:
            examples.append(("001", n))
    used_regions = {r for r, _ in examples if r != "001"}

    rows = []
    while len(rows) < count:
        region, n = rng.choice(examples)
        default = region if region != "001" else rng.choice(regions)
        cc = str(n.country_code)
        nsn = phonenumbers.national_significant_number(n)
        if rng.random() < 0.5:
            nsn = mutate(rng, nsn)
        style = rng.randrange(10)
        if style == 0:
            text = "+" + cc + nsn
        elif style == 1:
            text = "+" + cc + " " + punctuate(rng, nsn)
        elif style == 2 and region != "001":
            # National format of the (possibly mutated) number, read in its own region.
            try:
                parsed = phonenumbers.parse("+" + cc + nsn, None)
                text = phonenumbers.format_number(parsed, F.NATIONAL)
            except phonenumbers.NumberParseException:
                text = nsn
        elif style == 3:
            text = punctuate(rng, nsn)  # national significant number without prefix
        elif style == 4:
            # Dialled from another region with its international prefix.
            default = rng.choice(regions)
            try:
                parsed = phonenumbers.parse("+" + cc + nsn, None)
                text = phonenumbers.format_out_of_country_calling_number(parsed, default)
            except phonenumbers.NumberParseException:
                text = "00" + cc + nsn
        elif style == 5:
            text = "00" + cc + " " + punctuate(rng, nsn)
        elif style == 6:
            text = cc + nsn  # country code without the plus sign
        elif style == 7:
            text = ("+" + cc + " " + punctuate(rng, nsn)) + rng.choice(EXTENSIONS).format(rng.randint(1, 99999))
        elif style == 8:
            # A national number read with a different default region.
            default = rng.choice(regions)
            text = "0" + nsn if rng.random() < 0.5 else nsn
        else:
            # Random digits of random length.
            text = "".join(str(rng.randrange(10)) for _ in range(rng.randint(1, 16)))
            if rng.random() < 0.3:
                text = "+" + text
        if rng.random() < 0.05:
            text = "  " + text + " "
        if "\t" in text or "\n" in text:
            continue
        try:
            parsed = phonenumbers.parse(text, default)
            valid = phonenumbers.is_valid_number(parsed)
            e164 = phonenumbers.format_number(parsed, F.E164) if valid else ""
        except phonenumbers.NumberParseException:
            valid, e164 = False, ""
        rows.append((text, default, valid, e164))
    return rows, used_regions


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--venv", default="/tmp/phonemeta-venv")
    parser.add_argument("--corpus", default="/tmp/phone-corpus.tsv")
    parser.add_argument("--count", type=int, default=120_000)
    parser.add_argument("--scratch-path", default=".build-phone")
    parser.add_argument("--release", action="store_true", help="run the Swift side optimised (for timing)")
    parser.add_argument("--no-swift", action="store_true", help="reuse an existing $corpus.swift.tsv")
    args = parser.parse_args()
    ensure_phonenumbers(args.venv)
    import phonenumbers

    rows, regions = build_corpus(args.count)
    with open(args.corpus, "w", encoding="utf-8") as f:
        for text, region, valid, e164 in rows:
            f.write(f"{text}\t{region}\t{1 if valid else 0}\t{e164}\n")
    valid_count = sum(1 for r in rows if r[2])
    print(f"corpus: {len(rows)} numbers, {len(regions)} regions, {valid_count} valid "
          f"(phonenumbers {phonenumbers.__version__}) -> {args.corpus}")

    answers_path = args.corpus + ".swift.tsv"
    if not args.no_swift:
        if os.path.exists(answers_path):
            os.remove(answers_path)
        command = ["swift", "test", "--scratch-path", args.scratch_path, "--filter", "PhoneNumberTests"]
        if args.release:
            command[2:2] = ["-c", "release"]
        env = dict(os.environ, EMMY_PHONE_CORPUS=args.corpus)
        print("running:", " ".join(command), f"(EMMY_PHONE_CORPUS={args.corpus})")
        result = subprocess.run(command, cwd=ROOT, env=env, timeout=3600, capture_output=True, text=True)
        for line in result.stdout.splitlines():
            if "corpus" in line.lower() or "Test run" in line or "passed" in line or "failed" in line:
                print("  swift:", line)
        if result.returncode != 0:
            print(result.stdout[-4000:], result.stderr[-4000:])
            sys.exit(f"swift test failed with exit code {result.returncode}")

    with open(answers_path, encoding="utf-8") as f:
        answers = [line.rstrip("\n").split("\t") for line in f]
    if len(answers) != len(rows):
        sys.exit(f"{answers_path} has {len(answers)} answers for {len(rows)} numbers")

    agree_valid = agree_all = 0
    mismatches = collections.Counter()
    examples = collections.defaultdict(list)
    for (text, region, valid, e164), (swift_valid, swift_e164) in zip(rows, answers):
        same_valid = (swift_valid == "1") == valid
        same = same_valid and swift_e164 == e164
        agree_valid += same_valid
        agree_all += same
        if not same:
            key = ("valid" if valid else "invalid") + " per phonenumbers, " + (
                "valid" if swift_valid == "1" else "invalid") + " per EmmyApp"
            mismatches[key] += 1
            if len(examples[key]) < 8:
                examples[key].append(f"{text!r} [{region}] expected {e164 or '-'} got {swift_e164 or '-'}")
    total = len(rows)
    print(f"is_valid agreement: {agree_valid}/{total} = {100.0 * agree_valid / total:.3f}%")
    print(f"is_valid + E.164 agreement: {agree_all}/{total} = {100.0 * agree_all / total:.3f}%")
    for key, n in mismatches.most_common():
        print(f"  {n} x {key}")
        for example in examples[key]:
            print("     ", example)


if __name__ == "__main__":
    main()
