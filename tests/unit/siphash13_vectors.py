#!/usr/bin/env python3
"""Recomputes the SipHash vectors of test_hash.c with an implementation
independent of hash.c: checks it against the paper's SipHash-2-4 vector and,
for SipHash-1-3 with key zero, against CPython's own bytes hash (SipHash-1-3;
PYTHONHASHSEED=0 makes its key zero), then prints the table the test holds.
Run: python3 tests/unit/siphash13_vectors.py"""
import os, subprocess, sys
M=(1<<64)-1
def rotl(x,b): return ((x<<b)|(x>>(64-b)))&M
def sip(key,msg,c,d):
    k0=int.from_bytes(key[:8],'little'); k1=int.from_bytes(key[8:],'little')
    v=[k0^0x736f6d6570736575,k1^0x646f72616e646f6d,k0^0x6c7967656e657261,k1^0x7465646279746573]
    def rnd():
        v[0]=(v[0]+v[1])&M; v[1]=rotl(v[1],13); v[1]^=v[0]; v[0]=rotl(v[0],32)
        v[2]=(v[2]+v[3])&M; v[3]=rotl(v[3],16); v[3]^=v[2]
        v[0]=(v[0]+v[3])&M; v[3]=rotl(v[3],21); v[3]^=v[0]
        v[2]=(v[2]+v[1])&M; v[1]=rotl(v[1],17); v[1]^=v[2]; v[2]=rotl(v[2],32)
    n=len(msg); full=n//8*8
    words=[int.from_bytes(msg[i:i+8],'little') for i in range(0,full,8)]
    words.append(int.from_bytes(msg[full:]+bytes(8-(n-full)),'little')|((n&0xff)<<56))
    for m in words:
        v[3]^=m
        for _ in range(c): rnd()
        v[0]^=m
    v[2]^=0xff
    for _ in range(d): rnd()
    return v[0]^v[1]^v[2]^v[3]
key=bytes(range(16))
assert sip(key,bytes(range(15)),2,4)==0xa129ca6149be45e5
if sys.argv[1:]==['builtin']:
    for n in range(1,20): print(hash(bytes(range(n)))&M)
    sys.exit()
out=subprocess.run([sys.executable,__file__,'builtin'],env=dict(os.environ,PYTHONHASHSEED='0'),capture_output=True,text=True).stdout.split()
for n in range(1,20):
    mine=sip(bytes(16),bytes(range(n)),1,3)
    b=int(out[n-1])
    if mine==M: mine_py=M-1
    else: mine_py=mine
    assert mine_py==b,(n,hex(mine),hex(b))
print("zero key 1-3 agrees with builtin for 1..19")
for n in (0,1,7,8,9,15,16,17,63):
    print(n, hex(sip(bytes(16),bytes(range(n)),1,3)), hex(sip(key,bytes(range(n)),1,3)))
