#!/usr/bin/env python3
# Usage: scripts/import-circles.py crates/xaa-idp/src [how-many] [x: print every edge]
"""Largest import circle among a crate's modules: an edge m -> t for every `crate::`/`super::` path
in m (outside #[cfg(test)]) naming module t or an item of t (items re-exported at the root count
as their module's; items defined in lib.rs as the root's), plus lib.rs -> each module it re-exports from."""
import os,re,sys
root=sys.argv[1]
files={}
for d,_,fs in os.walk(root):
    for f in fs:
        if f.endswith('.rs'):
            p=os.path.join(d,f); rel=os.path.relpath(p,root)
            mod=rel[:-3].replace(os.sep,'::')
            if mod.endswith('::mod'): mod=mod[:-5]
            if mod in('lib','main'): mod='(lib)'
            files[mod]=open(p).read()
mods=set(files)
lib=files['(lib)']
reexp={}
for m in re.finditer(r'pub use ([a-z_0-9:]+)::(\{[^}]*\}|[A-Za-z_0-9]+)',lib):
    names=m.group(2).strip('{}').split(',')
    for n in names:
        n=n.strip().split(' as ')[-1].strip()
        if n: reexp[n]=m.group(1)
def resolve(path):
    parts=path.split('::')
    for i in range(len(parts),0,-1):
        m='::'.join(parts[:i])
        if m in mods: return m
    if parts[0] in reexp:
        return resolve(reexp[parts[0]])
    if re.match(r'[A-Z]',parts[0]) or parts[0] in ('saml_entity_id',): return '(lib)'
    return None
edges={m:set() for m in mods}
for n,src_mod in reexp.items():
    t=resolve(src_mod)
    if t: edges['(lib)'].add(t)
def paths(src):
    for mm in re.finditer(r'crate::\{([^}]*)\}',src):
        for item in mm.group(1).split(','):
            yield 'crate', item.strip()
    for mm in re.finditer(r'\b(crate|super)::((?:[A-Za-z_0-9]+::)*[A-Za-z_0-9]+)',src):
        yield mm.group(1), mm.group(2)
for m,src in files.items():
    src=re.split(r'#\[cfg\(test\)\]',src)[0]
    for kind,p in paths(src):
        if not p: continue
        if kind=='super':
            base=m.rsplit('::',1)[0] if '::' in m else ''
            # a file module's super is its parent; p relative to it
            p=(base+'::'+p) if base else p
        t=resolve(p)
        if t and t!=m: edges[m].add(t)
idx={};low={};st=[];on=set();sccs=[];i=[0]
sys.setrecursionlimit(10000)
def sc(v):
    idx[v]=low[v]=i[0];i[0]+=1;st.append(v);on.add(v)
    for w in edges[v]:
        if w not in idx: sc(w);low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],idx[w])
    if low[v]==idx[v]:
        c=[]
        while True:
            w=st.pop();on.discard(w);c.append(w)
            if w==v:break
        sccs.append(c)
for v in sorted(mods):
    if v not in idx: sc(v)
sccs.sort(key=len,reverse=True)
for c in sccs[:int(sys.argv[2]) if len(sys.argv)>2 else 2]:
    print(len(c),sorted(c))
if len(sys.argv)>3:
    for m in sorted(edges):
        for t in sorted(edges[m]):
            print(f"  {m} -> {t}")
