"""
The PyTorch peer for netdef's end-to-end detection benchmark (scripts/bench/detect-e2e.ts): the
pipeline a PyTorch user would write, over the same folder of images, all stages but drawing:

- a torch DataLoader (persistent workers, pinned memory) whose workers cv2.imread each image and
  letterbox it to the 640 square as Ultralytics does (cv2.resize INTER_LINEAR, grey 114 border),
  BGR to RGB, HWC to CHW, uint8;
- the plain PyTorch YOLOv8 of scripts/bench/torch_yolov8.py in fp16, channels-last, replayed
  from a CUDA graph (one per batch size; a last partial batch is padded);
- Ultralytics' non_max_suppression steps on the GPU (conf 0.25, best class, torchvision's
  batched_nms at iou 0.7, at most 300), boxes mapped back to the original image, results on the host.

    python3 scripts/bench/torch_pipeline.py --weights yolov8n.safetensors --data coco128/images \
        --batch 1 32 --workers 8 --repeats 5

Prints one JSON line per batch size: median images/s over the timed passes (after a warm-up pass).
"""
import argparse
import json
import os
import sys
import time

import cv2
import numpy as np
import torch
import torchvision
from torch.utils.data import DataLoader, Dataset

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_yolov8 import YOLOv8, capture_graph, load_folded  # noqa: E402

PAD = 114
CONF, IOU, MAX_DET = 0.25, 0.7, 300
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp")


def letterbox(im, new):
    h, w = im.shape[:2]
    r = min(new / h, new / w)
    nw, nh = int(round(w * r)), int(round(h * r))
    dw, dh = (new - nw) / 2, (new - nh) / 2
    if (w, h) != (nw, nh):
        im = cv2.resize(im, (nw, nh), interpolation=cv2.INTER_LINEAR)
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    im = cv2.copyMakeBorder(im, top, bottom, left, right, cv2.BORDER_CONSTANT, value=(PAD, PAD, PAD))
    return im, r, left, top


class Images(Dataset):
    def __init__(self, folder, size):
        self.files = sorted(os.path.join(folder, f) for f in os.listdir(folder) if f.lower().endswith(IMAGE_EXTENSIONS))
        self.size = size

    def __len__(self):
        return len(self.files)

    def __getitem__(self, i):
        im = cv2.imread(self.files[i])
        h0, w0 = im.shape[:2]
        im, r, left, top = letterbox(im, self.size)
        chw = np.ascontiguousarray(im[:, :, ::-1].transpose(2, 0, 1))
        return torch.from_numpy(chw), torch.tensor([h0, w0, r, left, top], dtype=torch.float32)


def nms(pred, meta):
    """Ultralytics' non_max_suppression (single label) and scale_boxes, on the GPU."""
    out = []
    for x, (h0, w0, r, left, top) in zip(pred, meta.tolist()):
        x = x.T  # (anchors, 4 + nc)
        scores, cls = x[:, 4:].max(1)
        keep = scores > CONF
        x, scores, cls = x[keep], scores[keep], cls[keep]
        xy, wh = x[:, :2], x[:, 2:4] / 2
        boxes = torch.cat((xy - wh, xy + wh), 1)
        i = torchvision.ops.batched_nms(boxes, scores, cls, IOU)[:MAX_DET]
        boxes = boxes[i]
        boxes[:, [0, 2]] = ((boxes[:, [0, 2]] - left) / r).clamp(0, w0)
        boxes[:, [1, 3]] = ((boxes[:, [1, 3]] - top) / r).clamp(0, h0)
        out.append(torch.cat((boxes, scores[i, None], cls[i, None].float()), 1))
    return [o.cpu() for o in out]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--weights", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--batch", type=int, nargs="+", default=[1, 32])
    p.add_argument("--workers", type=int, default=8)
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--imgsz", type=int, default=640)
    a = p.parse_args()
    torch.backends.cudnn.benchmark = True
    model = YOLOv8("n").eval()
    load_folded(model, a.weights)
    model = model.to("cuda", torch.float16).to(memory_format=torch.channels_last)
    data = Images(a.data, a.imgsz)
    for bsz in a.batch:
        loader = DataLoader(data, batch_size=bsz, num_workers=a.workers, pin_memory=True, persistent_workers=a.workers > 0)
        static_in = torch.zeros(bsz, 3, a.imgsz, a.imgsz, device="cuda", dtype=torch.float16).contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            graph, static_out = capture_graph(model, static_in)

            def one_pass():
                n, dets = 0, 0
                for imgs, meta in loader:
                    b = imgs.shape[0]
                    static_in[:b].copy_(imgs.to("cuda", non_blocking=True).half().div_(255))
                    graph.replay()
                    results = nms(static_out[:b].float(), meta)
                    n += b
                    dets += sum(len(r) for r in results)
                torch.cuda.synchronize()
                return n, dets

            one_pass()  # warm-up: workers started, cuDNN and NMS kernels loaded
            rates, dets = [], 0
            for _ in range(a.repeats):
                t0 = time.perf_counter()
                n, dets = one_pass()
                rates.append(n / (time.perf_counter() - t0))
        print(json.dumps({"peer": "pytorch", "batch": bsz, "workers": a.workers, "images": len(data),
                          "images_per_s": round(sorted(rates)[len(rates) // 2], 3), "all_rates": [round(x, 3) for x in rates], "detections": dets}), flush=True)


if __name__ == "__main__":
    main()
