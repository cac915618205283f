"""
The PyTorch peer for netdef's GPU benchmark: YOLOv8 written plainly in PyTorch for the benchmark
(not Ultralytics' code), from the same scale table, loading the same safetensors that
`netdef convert` writes (Ultralytics state_dict names), with batch norms folded into the
convolutions as Ultralytics' fused model and netdef's graph have them. Without a weights file it
uses random weights (speed does not depend on the values).

    python3 scripts/bench/torch_yolov8.py --scale n --weights yolov8n.safetensors --batch 1 32 --dtype fp16 fp32

Prints one JSON line per configuration: median latency (ms), images/s, peak GPU memory, for
eager and CUDA-graph execution. Timing: warm-up, CUDA events, median of many iterations.

With --compile, also torch.compile(mode="reduce-overhead"): inductor's kernels replayed from CUDA
graphs (mode "compile_reduce_overhead", with the seconds its compilation took as compile_s), the
strongest PyTorch peer that compiles in reasonable time (max-autotune did not finish in 250 s).
With --profile, the eager and compiled lines also carry "kernels": device time per call by kernel
(torch.profiler), the top 25 and the totals per kind (convolution, triton, other), to set beside
netdef's per-layer profile (scripts/bench/profile.ts).
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SCALES = {"n": (0.33, 0.25, 1024), "s": (0.33, 0.50, 1024), "m": (0.67, 0.75, 768), "l": (1.00, 1.00, 512), "x": (1.00, 1.25, 512)}
REG_MAX = 16
BN_EPS = 1e-3


def width(c, w, mc):
    return math.ceil(min(c, mc) * w / 8) * 8


def depth(n, d):
    return max(round(n * d), 1) if n > 1 else n


class Conv(nn.Module):
    """conv (with the folded batch norm's bias) + SiLU"""

    def __init__(self, c1, c2, k=1, s=1, act=True):
        super().__init__()
        self.conv = nn.Conv2d(c1, c2, k, s, k // 2, bias=True)
        self.act = act

    def forward(self, x):
        y = self.conv(x)
        return F.silu(y) if self.act else y


class Bottleneck(nn.Module):
    def __init__(self, c, shortcut):
        super().__init__()
        self.cv1, self.cv2, self.add = Conv(c, c, 3), Conv(c, c, 3), shortcut

    def forward(self, x):
        y = self.cv2(self.cv1(x))
        return x + y if self.add else y


class C2f(nn.Module):
    def __init__(self, c1, c2, n, shortcut):
        super().__init__()
        self.c = c2 // 2
        self.cv1, self.cv2 = Conv(c1, 2 * self.c, 1), Conv((2 + n) * self.c, c2, 1)
        self.m = nn.ModuleList(Bottleneck(self.c, shortcut) for _ in range(n))

    def forward(self, x):
        y = list(self.cv1(x).chunk(2, 1))
        for m in self.m:
            y.append(m(y[-1]))
        return self.cv2(torch.cat(y, 1))


class SPPF(nn.Module):
    def __init__(self, c1, c2, k=5):
        super().__init__()
        self.cv1, self.cv2, self.k = Conv(c1, c1 // 2, 1), Conv(c1 // 2 * 4, c2, 1), k

    def forward(self, x):
        x = self.cv1(x)
        y1 = F.max_pool2d(x, self.k, 1, self.k // 2)
        y2 = F.max_pool2d(y1, self.k, 1, self.k // 2)
        return self.cv2(torch.cat((x, y1, y2, F.max_pool2d(y2, self.k, 1, self.k // 2)), 1))


class Detect(nn.Module):
    def __init__(self, nc, ch, strides):
        super().__init__()
        self.nc, self.no = nc, nc + 4 * REG_MAX
        c2, c3 = max(16, ch[0] // 4, 4 * REG_MAX), max(ch[0], min(nc, 100))
        self.cv2 = nn.ModuleList(nn.Sequential(Conv(c, c2, 3), Conv(c2, c2, 3), nn.Conv2d(c2, 4 * REG_MAX, 1)) for c in ch)
        self.cv3 = nn.ModuleList(nn.Sequential(Conv(c, c3, 3), Conv(c3, c3, 3), nn.Conv2d(c3, nc, 1)) for c in ch)
        self.register_buffer("proj", torch.arange(REG_MAX, dtype=torch.float32).view(1, REG_MAX, 1, 1))
        self.strides = strides

    def anchors(self, feats):
        pts, st = [], []
        for f, s in zip(feats, self.strides):
            h, w = f.shape[2:]
            sy, sx = torch.meshgrid(torch.arange(h, device=f.device) + 0.5, torch.arange(w, device=f.device) + 0.5, indexing="ij")
            pts.append(torch.stack((sx, sy), -1).view(-1, 2))
            st.append(torch.full((h * w, 1), s, device=f.device))
        return torch.cat(pts).T.unsqueeze(0).to(feats[0].dtype), torch.cat(st).T.to(feats[0].dtype)

    def forward(self, feats):
        b = feats[0].shape[0]
        x = torch.cat([torch.cat((self.cv2[i](f), self.cv3[i](f)), 1).view(b, self.no, -1) for i, f in enumerate(feats)], 2)
        box, cls = x.split((4 * REG_MAX, self.nc), 1)
        a = box.shape[2]
        dist = F.conv2d(box.view(b, 4, REG_MAX, a).transpose(2, 1).softmax(1), self.proj.to(box.dtype)).view(b, 4, a)
        anchors, strides = self.anchors(feats)
        lt, rb = dist.chunk(2, 1)
        x1y1, x2y2 = anchors - lt, anchors + rb
        return torch.cat((torch.cat(((x1y1 + x2y2) / 2, x2y2 - x1y1), 1) * strides, cls.sigmoid()), 1)


class YOLOv8(nn.Module):
    def __init__(self, scale, nc=80):
        super().__init__()
        d, w, mc = SCALES[scale]
        c = lambda v: width(v, w, mc)  # noqa: E731
        n = lambda v: depth(v, d)  # noqa: E731
        self.model = nn.ModuleList([
            Conv(3, c(64), 3, 2), Conv(c(64), c(128), 3, 2), C2f(c(128), c(128), n(3), True),
            Conv(c(128), c(256), 3, 2), C2f(c(256), c(256), n(6), True), Conv(c(256), c(512), 3, 2),
            C2f(c(512), c(512), n(6), True), Conv(c(512), c(1024), 3, 2), C2f(c(1024), c(1024), n(3), True),
            SPPF(c(1024), c(1024)), nn.Identity(), nn.Identity(), C2f(c(1024) + c(512), c(512), n(3), False),
            nn.Identity(), nn.Identity(), C2f(c(512) + c(256), c(256), n(3), False), Conv(c(256), c(256), 3, 2),
            nn.Identity(), C2f(c(256) + c(512), c(512), n(3), False), Conv(c(512), c(512), 3, 2), nn.Identity(),
            C2f(c(512) + c(1024), c(1024), n(3), False), Detect(nc, [c(256), c(512), c(1024)], [8, 16, 32]),
        ])

    def forward(self, x):
        m = self.model
        up = lambda t: F.interpolate(t, scale_factor=2, mode="nearest")  # noqa: E731
        x = m[1](m[0](x))
        p3 = m[4](m[3](m[2](x)))
        p4 = m[6](m[5](p3))
        p5 = m[9](m[8](m[7](p4)))
        h12 = m[12](torch.cat((up(p5), p4), 1))
        h15 = m[15](torch.cat((up(h12), p3), 1))
        h18 = m[18](torch.cat((m[16](h15), h12), 1))
        h21 = m[21](torch.cat((m[19](h18), p5), 1))
        return m[22]([h15, h18, h21])


def load_folded(model, path):
    """Ultralytics names from a netdef safetensors file; batch norms folded into the convs."""
    from safetensors.torch import load_file
    sd = {k: v.float() for k, v in load_file(path).items()}
    for name, mod in model.named_modules():
        if isinstance(mod, nn.Conv2d):
            w = sd[f"{name}.weight"]
            bn = name[: -len(".conv")] + ".bn" if name.endswith(".conv") else None
            if bn and f"{bn}.weight" in sd:
                scale = sd[f"{bn}.weight"] / torch.sqrt(sd[f"{bn}.running_var"] + BN_EPS)
                mod.weight.data = w * scale.view(-1, 1, 1, 1)
                mod.bias.data = sd[f"{bn}.bias"] - sd[f"{bn}.running_mean"] * scale
            else:
                mod.weight.data = w
                mod.bias.data = sd[f"{name}.bias"]


def capture_graph(model, x):
    """The forward on a static input captured in a CUDA graph (after warm-up on a side stream); returns (graph, output)."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            model(x)
    torch.cuda.current_stream().wait_stream(s)
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        y = model(x)
    return g, y


def bench(fn, iters, warmup):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        fn()
        b.record()
        b.synchronize()
        times.append(a.elapsed_time(b))
    times.sort()
    return times[len(times) // 2]


def compiled(model, x, iters, warmup, profile_kernels=False):
    """torch.compile(mode="reduce-overhead") on this input: compiled and recorded first (timed as compile_s), then timed as the others."""
    torch._dynamo.reset()
    torch.cuda.reset_peak_memory_stats()
    fn = torch.compile(model, mode="reduce-overhead", dynamic=False)
    with torch.no_grad():
        t0 = time.perf_counter()
        for _ in range(3):  # compile, then cudagraph trees record on the following calls
            fn(x)
        torch.cuda.synchronize()
        compile_s = time.perf_counter() - t0
        ms = bench(lambda: fn(x), iters, warmup)
        extra = {"compile_s": round(compile_s, 1)}
        if profile_kernels:  # the kernels its CUDA graphs replay (CUPTI traces graph kernel nodes)
            extra["kernels"] = kernel_profile(lambda: fn(x), 20)
    return "compile_reduce_overhead", ms, torch.cuda.max_memory_allocated(), extra


KERNEL_KINDS = (("convolution", ("conv", "xmma", "implicit", "gemm", "cutlass", "sm90_", "sm80_", "cudnn")), ("triton (fused pointwise)", ("triton",)))


def kernel_kind(name):
    low = name.lower()
    return next((kind for kind, keys in KERNEL_KINDS if any(k in low for k in keys)), "other")


def kernel_profile(fn, iters):
    """Device time per kernel over `iters` calls of fn (torch.profiler, CUDA activity only): per call, the top kernels and the time per kind."""
    from torch.profiler import ProfilerActivity, profile
    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        for _ in range(iters):
            fn()
        torch.cuda.synchronize()
    rows = [(e.key, getattr(e, "self_device_time_total", 0) / iters, e.count / iters) for e in prof.key_averages()]
    rows = sorted([r for r in rows if r[1] > 0], key=lambda r: -r[1])
    kinds = {}
    for name, us, n in rows:
        k = kinds.setdefault(kernel_kind(name), [0.0, 0.0])
        k[0] += us
        k[1] += n
    return {"kernel_us_per_call": round(sum(r[1] for r in rows), 1), "kernels_per_call": round(sum(r[2] for r in rows), 1),
            "by_kind": {k: {"us": round(v[0], 1), "kernels": round(v[1], 1)} for k, v in kinds.items()},
            "top": [{"kernel": name[:110], "us": round(us, 2), "calls": round(n, 2)} for name, us, n in rows[:25]]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--scale", default="n")
    p.add_argument("--weights")
    p.add_argument("--batch", type=int, nargs="+", default=[1])
    p.add_argument("--dtype", nargs="+", default=["fp16"])
    p.add_argument("--iters", type=int, default=200)
    p.add_argument("--warmup", type=int, default=30)
    p.add_argument("--save-output")
    p.add_argument("--compile", action="store_true", help='also time torch.compile(mode="reduce-overhead")')
    p.add_argument("--profile", action="store_true", help="also print each mode's kernels (torch.profiler device time per call): eager, and compiled with --compile")
    a = p.parse_args()
    torch.backends.cudnn.benchmark = True
    model = YOLOv8(a.scale).eval()
    if a.weights:
        load_folded(model, a.weights)
    for dt in a.dtype:
        dtype = torch.float16 if dt == "fp16" else torch.float32
        m = model.to("cuda", dtype).to(memory_format=torch.channels_last)
        for bsz in a.batch:
            x = torch.rand(bsz, 3, 640, 640, device="cuda", dtype=dtype).contiguous(memory_format=torch.channels_last)
            torch.cuda.reset_peak_memory_stats()
            with torch.inference_mode():
                eager = bench(lambda: m(x), a.iters, a.warmup)
                peak_eager = torch.cuda.max_memory_allocated()
                g, y = capture_graph(m, x)
                graph = bench(g.replay, a.iters, a.warmup)
                peak_graph = torch.cuda.max_memory_allocated()
                if a.save_output and bsz == 1 and dt == "fp32":
                    torch.save(y.float().cpu(), a.save_output)
            results = [("eager", eager, peak_eager, {}), ("cuda_graph", graph, peak_graph, {})]
            if a.profile:
                with torch.inference_mode():
                    results[0][3]["kernels"] = kernel_profile(lambda: m(x), 20)
            if a.compile:
                del g, y
                results.append(compiled(m, x, a.iters, a.warmup, a.profile))
            for mode, ms, peak, extra in results:
                print(json.dumps({"peer": "pytorch", "torch": torch.__version__, "scale": a.scale, "dtype": dt, "batch": bsz, "mode": mode,
                                  "median_ms": round(ms, 4), "images_per_s": round(bsz * 1000 / ms, 1), "peak_mem_mb": round(peak / 2**20, 1),
                                  **extra}), flush=True)


if __name__ == "__main__":
    main()
