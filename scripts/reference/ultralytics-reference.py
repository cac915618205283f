"""
Reference values from Ultralytics itself (version 8.0.232), for netdef's tests and notes.

Runs the official predict on bus.jpg and zidane.jpg for yolov8n and yolov8s, in the two modes
Ultralytics has: the .pt model (LetterBox auto=True: the minimal rectangle) and the official ONNX
export (static 640x640: the full square), and the official val on coco128 (.pt, rect batches), all
on the CPU in float32. Writes JSON to the output folder.

Ultralytics is not part of netdef and nothing of it is committed: point ULTRALYTICS_SRC at a
checkout of ultralytics/ultralytics at v8.0.232 (commit 6218b820723b9e8647c582589c536c63c1f473f3).
Needs torch, torchvision, opencv, onnxruntime, pyyaml, pandas, matplotlib, scipy, psutil, tqdm.

    ULTRALYTICS_SRC=.ref/ultralytics DATA=shared-data OUT=out python3 scripts/reference/ultralytics-reference.py
"""
import json
import os
import sys
import time

sys.path.insert(0, os.environ["ULTRALYTICS_SRC"])
os.environ.setdefault("YOLO_CONFIG_DIR", "/tmp/yolo-config")
# Ultralytics 8.0.232 predates torch 2.6's weights_only default; the official checkpoints are trusted.
os.environ.setdefault("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402

# NumPy 2 removed np.trapz, which Ultralytics 8.0.232's compute_ap calls; np.trapezoid is the same function.
if not hasattr(np, "trapz"):
    np.trapz = np.trapezoid
from ultralytics import YOLO, __version__  # noqa: E402

DATA = os.environ["DATA"]
OUT = os.environ["OUT"]
IMAGES = ["bus.jpg", "zidane.jpg"]


def results_json(results):
    out = []
    for r in results:
        b = r.boxes
        out.append({
            "image": os.path.basename(r.path),
            "orig_shape": list(r.orig_shape),
            "input_shape": None,
            "boxes": b.xyxy.tolist(),
            "scores": b.conf.tolist(),
            "classes": [int(c) for c in b.cls.tolist()],
            "speed": r.speed,
        })
    return out


def predict(model_file, imgsz=640):
    model = YOLO(model_file, task="detect")
    out = []
    for name in IMAGES:
        res = model.predict(os.path.join(DATA, "images", name), imgsz=imgsz, device="cpu", conf=0.25, iou=0.7, verbose=True)
        out.extend(results_json(res))
    return out


def val(model_file, data_yaml, batch):
    model = YOLO(model_file, task="detect")
    t0 = time.time()
    m = model.val(data=data_yaml, imgsz=640, batch=batch, conf=0.001, iou=0.7, device="cpu", plots=False, save_json=False, verbose=True)
    names = m.names
    per_class = {names[int(c)]: {"ap50_95": float(m.box.maps[int(c)]), "ap50": float(m.box.all_ap[i, 0])} for i, c in enumerate(m.ap_class_index)}
    return {"map50_95": float(m.box.map), "map50": float(m.box.map50), "precision": float(m.box.mp), "recall": float(m.box.mr),
            "seconds": time.time() - t0, "batch": batch, "per_class": per_class}


def main():
    os.makedirs(OUT, exist_ok=True)
    torch.set_num_threads(os.cpu_count() or 1)
    coco128 = os.path.join(OUT, "coco128.yaml")
    names = [l.strip() for l in open(os.path.join(DATA, "coco.names")) if l.strip()]
    with open(coco128, "w") as f:
        f.write(f"path: {os.path.abspath(os.path.join(DATA, 'coco128'))}\ntrain: images\nval: images\nnames:\n")
        for i, n in enumerate(names):
            f.write(f"  {i}: '{n}'\n")
    report = {"ultralytics": __version__, "torch": torch.__version__, "device": "cpu", "float": "float32"}
    report["predict_rect_pt"] = {m: predict(os.path.join(DATA, "weights", f"{m}.pt")) for m in ["yolov8n", "yolov8s"]}
    report["predict_square_onnx"] = {"yolov8n": predict(os.path.join(DATA, "onnx", "yolov8n.onnx"))}
    with open(os.path.join(OUT, "ultralytics-predict.json"), "w") as f:
        json.dump(report, f, indent=1)
    report["val_pt"] = {m: val(os.path.join(DATA, "weights", f"{m}.pt"), coco128, 16) for m in ["yolov8n", "yolov8s"]}
    report["val_onnx"] = {"yolov8n": val(os.path.join(DATA, "onnx", "yolov8n.onnx"), coco128, 1)}
    with open(os.path.join(OUT, "ultralytics-reference.json"), "w") as f:
        json.dump(report, f, indent=1)
    print(json.dumps({k: v for k, v in report.items() if k.startswith("val")}, indent=1)[:3000])


if __name__ == "__main__":
    main()
