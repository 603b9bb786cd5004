#!/usr/bin/env python3
"""Refuses Catch2 test case names that hold a ';'.

catch_discover_tests cuts a test name at ';' and registers the pieces as tests that run nothing
(they "pass" in 0.02 s), so such a test is silently never run. A name may start on the line after
`TEST_CASE(` or be split into adjacent string literals, which a one-line grep misses: this reads
each file whole.
    tests/check_test_names.py DIR...   (exit 1 naming file:line of each bad name; 2 if no test found)
"""
import pathlib
import re
import sys

# A C++ string literal: "..." with escapes, or a raw R"( ... )".
LITERAL = r'(?:"(?:[^"\\\n]|\\.)*"|R"\((?s:.*?)\)")'
# The macros whose first argument (after the fixture class for the _METHOD ones) is the name.
MACRO = re.compile(
    r'\b(?:(?:TEST_CASE|SCENARIO|TEMPLATE_TEST_CASE|TEMPLATE_PRODUCT_TEST_CASE|TEMPLATE_LIST_TEST_CASE)\s*\('
    r'|(?:TEST_CASE_METHOD|TEMPLATE_TEST_CASE_METHOD)\s*\(\s*[\w:<>]+\s*,)'
    r'\s*(?P<name>(?:' + LITERAL + r'\s*)+)')
ONE = re.compile(LITERAL)


def literal_text(literal):
    return literal[3:-2] if literal.startswith('R"') else literal[1:-1]


def main(dirs):
    found, bad = 0, []
    for d in dirs:
        for path in sorted(pathlib.Path(d).rglob('*')):
            if path.suffix not in ('.cpp', '.h', '.hpp') or not path.is_file():
                continue
            text = path.read_text(errors='replace')
            for m in MACRO.finditer(text):
                name = ''.join(literal_text(x.group(0)) for x in ONE.finditer(m.group('name')))
                found += 1
                if ';' in name:
                    line = text.count('\n', 0, m.start()) + 1
                    bad.append(f'{path}:{line}: test case name holds a semicolon: "{name}"')
    for b in bad:
        print(b)
    if found == 0:
        print(f'no Catch2 test case found under {" ".join(dirs)}: wrong directory?')
        return 2
    print(f'{found} test case names read, {len(bad)} with a semicolon')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
