/**
 * The YOLOv8 Detect head (Ultralytics `nn/modules/head.py`, export path): per level a box branch
 * (cv2: Conv, Conv, 1x1 conv to 4·reg_max) and a class branch (cv3: Conv, Conv, 1x1 conv to nc);
 * the DFL turns each side's 16-bin distribution into a distance (softmax, then a fixed 1x1 conv
 * with weights 0..15); distances around the anchor points become xywh in input pixels; class
 * scores go through a sigmoid. Output: [B, 4 + nc, anchors].
 */
import { fromFloat32 } from '../../common/host-tensor.js';
import type { Module, Tensor } from '../../dsl/builder.js';
import { channelsOf, Conv } from './blocks.js';

/** Bins of the distribution focal loss per box side. */
export const REG_MAX = 16;
/** Anchor points sit at cell centres. */
const GRID_CELL_OFFSET = 0.5;
/** Ultralytics caps the class branch width at this many classes. */
const CLASS_BRANCH_CAP = 100;
const BOX_SIDES = 4;

function branch(list: Module, x: Tensor, hidden: number, out: number): Tensor {
  const seq = list.sequential();
  const y = Conv(seq.at(1), Conv(seq.at(0), x, hidden, 3), hidden, 3);
  return seq.at(2).conv2d(y, { outChannels: out, kernel: 1, padding: 0, bias: true });
}

/** DFL: [B, 4·reg_max, A] → [B, 4, A], the expectation of each side's distribution. */
function DFL(m: Module, box: Tensor): Tensor {
  const [batch, , anchors] = box.type.shape as [string | number, number, number];
  const bins = m.transpose(m.reshape(box, [batch, BOX_SIDES, REG_MAX, anchors]), [0, 2, 1, 3]);
  const probs = m.softmax(bins, 1);
  const arange = fromFloat32(Float32Array.from({ length: REG_MAX }, (_, i) => i), [1, REG_MAX, 1, 1]);
  const expectation = m.child('conv').conv2d(probs, { outChannels: 1, kernel: 1, padding: 0, bias: false, weightInit: arange });
  return m.reshape(expectation, [batch, BOX_SIDES, anchors]);
}

/** Anchor points [1, 2, A] (x, y in grid units) and strides [1, A], level after level. */
function anchorGrid(levels: readonly { h: number; w: number; stride: number }[]): { points: Float32Array; strides: Float32Array } {
  const total = levels.reduce((a, l) => a + l.h * l.w, 0);
  const points = new Float32Array(2 * total);
  const strides = new Float32Array(total);
  let k = 0;
  for (const { h, w, stride } of levels) {
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++, k++) {
        points[k] = x + GRID_CELL_OFFSET;
        points[total + k] = y + GRID_CELL_OFFSET;
        strides[k] = stride;
      }
    }
  }
  return { points, strides };
}

export interface DetectOptions {
  readonly nc: number;
  /** Input image size [h, w], to derive each level's stride. */
  readonly imgsz: readonly [number, number];
}

export function Detect(m: Module, features: readonly Tensor[], options: DetectOptions): { output: Tensor; strides: number[] } {
  const { nc } = options;
  const c0 = channelsOf(features[0]!);
  const boxHidden = Math.max(16, Math.trunc(c0 / 4), REG_MAX * BOX_SIDES);
  const clsHidden = Math.max(c0, Math.min(nc, CLASS_BRANCH_CAP));
  const no = nc + REG_MAX * BOX_SIDES;
  const cv2 = m.list('cv2');
  const cv3 = m.list('cv3');
  const batch = features[0]!.type.shape[0]!;

  const levels = features.map((x, i) => {
    const [, , h, w] = x.type.shape as [unknown, number, number, number];
    const y = m.concat([branch(cv2.at(i), x, boxHidden, REG_MAX * BOX_SIDES), branch(cv3.at(i), x, clsHidden, nc)], 1);
    return { y, h, w, stride: options.imgsz[0] / h };
  });
  const flat = m.concat(levels.map((l) => m.reshape(l.y, [batch, no, -1])), 2);
  const [box, cls] = m.split(flat, [REG_MAX * BOX_SIDES, nc], 1) as [Tensor, Tensor];

  const grid = anchorGrid(levels);
  const total = grid.strides.length;
  const anchors = m.constant(fromFloat32(grid.points, [1, 2, total]));
  const [lt, rb] = m.split(DFL(m.child('dfl'), box), [2, 2], 1) as [Tensor, Tensor];
  const x1y1 = m.sub(anchors, lt);
  const x2y2 = m.add(anchors, rb);
  const centre = m.div(m.add(x1y1, x2y2), m.constant(fromFloat32(Float32Array.of(2), [1])));
  const size = m.sub(x2y2, x1y1);
  const strides = m.constant(fromFloat32(grid.strides, [1, total]));
  const xywh = m.mul(m.concat([centre, size], 1), strides);
  return { output: m.concat([xywh, m.sigmoid(cls)], 1), strides: levels.map((l) => l.stride) };
}
