# A CPU model of the igemm kernel's index logic (src/cuda/igemm/): the loader's im2col and weight
# copies with the shared-memory swizzle, the ldmatrix lane addresses, the m16n8k32 fragment layouts as
# the PTX ISA documents them, and the accumulator staging, checked against numpy. It cannot check the
# instructions themselves (native/tests/ops_igemm_conv.cu does, on the GPU). Run: python3 native/tools/igemm_index_sim.py
import numpy as np
rng=np.random.default_rng(1)
def run(BM,BN,WM_,WN_,N,H,W,C,K,R,S,stride,pad):
    BK=64; RC=4; T=4*32; RPP=T//RC
    P=(H+2*pad-R)//stride+1; Q=(W+2*pad-S)//stride+1
    M=N*P*Q; GK=R*S*C
    x=rng.integers(-128,128,(N,H,W,C)).astype(np.int64)
    w=rng.integers(-128,128,(K,R,S,C)).astype(np.int64)
    # reference
    xp=np.zeros((N,H+2*pad+R,W+2*pad+S,C),np.int64); xp[:,pad:pad+H,pad:pad+W]=x
    ref=np.zeros((N,P,Q,K),np.int64)
    for r in range(R):
        for s in range(S):
            patch=xp[:,r:r+stride*P:stride, s:s+stride*Q:stride,:][:,:P,:Q]
            ref+=np.einsum('npqc,kc->npqk',patch,w[:,r,s,:])
    ref=ref.reshape(M,K)
    def off(row,chunk):
        rpl=8//RC
        return row*64+((chunk^((row//rpl)%RC))*16)
    xf=x.reshape(-1); wf=w.reshape(K,-1)
    out=np.zeros((M,K),np.int64)
    tilesN=(K+BN-1)//BN; tilesM=(M+BM-1)//BM
    WM=BM//WM_; WN=BN//WN_
    for b in range(tilesM*tilesN):
        tn=(b%tilesN)*BN; tm=(b//tilesN)*BM
        # loader state
        st=[]
        for tid in range(T):
            chunk=tid%RC; row0=tid//RC; k=chunk*16
            rows=[]
            for i in range(BM//RPP):
                m=tm+row0+i*RPP
                if m<M:
                    n=m//(P*Q); rest=m-n*P*Q; p=rest//Q; q=rest-p*Q
                    rows.append((n*H*W*C, p*stride-pad, q*stride-pad))
                else: rows.append((0,-10**9,-10**9))
            d=dict(chunk=chunk,row0=row0,k=k,r=0,s=0,c=k,rows=rows)
            while d['c']>=C:
                d['c']-=C; d['s']+=1
                if d['s']==S: d['s']=0; d['r']+=1
            st.append(d)
        acc={}
        steps=(GK+BK-1)//BK
        for step in range(steps):
            sa=np.zeros(BM*64,np.int64); sb=np.zeros(BN*64,np.int64)
            for d in st:
                kv=d['k']<GK
                for i,(base,h0,w0) in enumerate(d['rows']):
                    h=h0+d['r']; ww=w0+d['s']
                    valid=kv and 0<=h<H and 0<=ww<W
                    o=off(d['row0']+i*RPP,d['chunk'])
                    if valid:
                        src=base+(h*W+ww)*C+d['c']; sa[o:o+16]=xf[src:src+16]
                    else: sa[o:o+16]=0
                for i in range(BN//RPP):
                    n=tn+d['row0']+i*RPP
                    o=off(d['row0']+i*RPP,d['chunk'])
                    if kv and n<K: sb[o:o+16]=wf[n,d['k']:d['k']+16]
                    else: sb[o:o+16]=0
                d['k']+=BK; d['c']+=BK
                while d['c']>=C:
                    d['c']-=C; d['s']+=1
                    if d['s']==S: d['s']=0; d['r']+=1
            for warp in range(4):
                warpRow=(warp//WN_)*WM; warpCol=(warp%WN_)*WN
                for kk in range(2):
                    def ldm(addrs):  # addrs per lane -> regs[lane][4] each 4 bytes
                        regs=[[None]*4 for _ in range(32)]
                        for t in range(32):
                            for j in range(4):
                                a=addrs[8*j+t//4]+4*(t%4); regs[t][j]=sa_or[0][a:a+4]
                        return regs
                    sa_or=[sa]
                    fa=[]
                    for mi in range(WM//16):
                        addrs=[off(warpRow+l%16+mi*16, kk*2+l//16) for l in range(32)]
                        fa.append(ldm(addrs))
                    sa_or=[sb]
                    fb=[]
                    for nj in range(WN//16):
                        addrs=[off(warpCol+(l//16)*8+l%8+nj*16, kk*2+(l//8)%2) for l in range(32)]
                        r=ldm(addrs)
                        fb.append([[r[t][0],r[t][1]] for t in range(32)])
                        fb.append([[r[t][2],r[t][3]] for t in range(32)])
                    for mi in range(WM//16):
                        for ni in range(WN//8):
                            A=np.zeros((16,32),np.int64); B=np.zeros((32,8),np.int64)
                            for t in range(32):
                                g=t//4; tg=t%4
                                for i in range(16):
                                    row=g if (i<4 or 8<=i<12) else g+8
                                    col=tg*4+(i&3)+(16 if i>=8 else 0)
                                    A[row,col]=fa[mi][t][i//4][i%4]
                                for i in range(8):
                                    B[tg*4+(i&3)+(16 if i>=4 else 0), g]=fb[ni][t][i//4][i%4]
                            D=A@B
                            for t in range(32):
                                g=t//4; tg=t%4
                                for e in range(4):
                                    row=warpRow+mi*16+g+(8 if e>=2 else 0); col=warpCol+ni*8+2*tg+(e%2)
                                    acc[(row,col)]=acc.get((row,col),0)+D[g+(8 if e>=2 else 0),2*tg+(e%2)]
        for (row,col),v in acc.items():
            m=tm+row; n=tn+col
            if m<M and n<K: out[m,n]=v
    ok=np.array_equal(out,ref)
    print(BM,BN,(N,H,W,C,K,R,S,stride,pad),'OK' if ok else 'MISMATCH', np.abs(out-ref).max())
run(64,64,2,2,1,5,7,16,24,3,3,2,1)
run(64,64,2,2,2,4,5,48,16,3,3,1,1)
run(128,64,2,2,1,9,15,32,40,1,1,1,0)
