#!/usr/bin/env python3
"""Lines of Rust at a commit: library source (crates/*/src without its unit tests), unit and router
test code (inline `#[cfg(test)] mod tests`, `*_tests.rs`, test keys and support), and the e2e tests.
Usage: scripts/lines-of-code.py [REV, default HEAD]"""
import subprocess,sys,re
rev=sys.argv[1] if len(sys.argv) > 1 else 'HEAD'
files=subprocess.run(['git','ls-tree','-r','--name-only',rev,'crates','tests'],capture_output=True,text=True).stdout.split()
code=unit=e2e=0
for f in files:
    if not f.endswith('.rs'): continue
    s=subprocess.run(['git','show',f'{rev}:{f}'],capture_output=True,text=True).stdout
    n=s.count('\n')
    if f.startswith('tests/'): e2e+=n; continue
    if '/benches/' in f or '/examples/' in f: continue
    if re.search(r'(_tests|/tests|test_support|test_keys)\.rs$',f) or '/tests/' in f: unit+=n; continue
    i=s.find('#[cfg(test)]\nmod tests')
    if i>=0:
        code+=s[:i].count('\n'); unit+=s[i:].count('\n')
    else: code+=n
print(f"{rev}: source {code}, unit/router test code {unit}, e2e {e2e}")
