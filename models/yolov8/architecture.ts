/**
 * YOLOv8 detection as Ultralytics' `yolov8.yaml` lists it, read like `parse_model` reads it:
 * each row takes its inputs from earlier rows (`from`, -1 = previous), repeats scale with depth,
 * channels with width. One table serves every scale; nothing is pasted per scale.
 */
export type LayerRow =
  | { readonly from: -1; readonly block: 'Conv'; readonly c2: number; readonly k: number; readonly s: number }
  | { readonly from: -1; readonly block: 'C2f'; readonly n: number; readonly c2: number; readonly shortcut: boolean }
  | { readonly from: -1; readonly block: 'SPPF'; readonly c2: number; readonly k: number }
  | { readonly from: -1; readonly block: 'Upsample'; readonly scale: number }
  | { readonly from: readonly number[]; readonly block: 'Concat' }
  | { readonly from: readonly number[]; readonly block: 'Detect' };

export const YOLOV8_LAYERS: readonly LayerRow[] = [
  // backbone
  { from: -1, block: 'Conv', c2: 64, k: 3, s: 2 }, // 0 P1/2
  { from: -1, block: 'Conv', c2: 128, k: 3, s: 2 }, // 1 P2/4
  { from: -1, block: 'C2f', n: 3, c2: 128, shortcut: true },
  { from: -1, block: 'Conv', c2: 256, k: 3, s: 2 }, // 3 P3/8
  { from: -1, block: 'C2f', n: 6, c2: 256, shortcut: true },
  { from: -1, block: 'Conv', c2: 512, k: 3, s: 2 }, // 5 P4/16
  { from: -1, block: 'C2f', n: 6, c2: 512, shortcut: true },
  { from: -1, block: 'Conv', c2: 1024, k: 3, s: 2 }, // 7 P5/32
  { from: -1, block: 'C2f', n: 3, c2: 1024, shortcut: true },
  { from: -1, block: 'SPPF', c2: 1024, k: 5 }, // 9
  // head
  { from: -1, block: 'Upsample', scale: 2 },
  { from: [-1, 6], block: 'Concat' }, // cat backbone P4
  { from: -1, block: 'C2f', n: 3, c2: 512, shortcut: false }, // 12
  { from: -1, block: 'Upsample', scale: 2 },
  { from: [-1, 4], block: 'Concat' }, // cat backbone P3
  { from: -1, block: 'C2f', n: 3, c2: 256, shortcut: false }, // 15 (P3/8-small)
  { from: -1, block: 'Conv', c2: 256, k: 3, s: 2 },
  { from: [-1, 12], block: 'Concat' }, // cat head P4
  { from: -1, block: 'C2f', n: 3, c2: 512, shortcut: false }, // 18 (P4/16-medium)
  { from: -1, block: 'Conv', c2: 512, k: 3, s: 2 },
  { from: [-1, 9], block: 'Concat' }, // cat head P5
  { from: -1, block: 'C2f', n: 3, c2: 1024, shortcut: false }, // 21 (P5/32-large)
  { from: [15, 18, 21], block: 'Detect' }, // Detect(P3, P4, P5)
];
