/**
 * The shapes policy of rect detection (docs/vision.md): engines are built once per distinct
 * letterbox shape and batch size, never per image: over coco128 at imgsz 640 at most 39 shapes (one
 * side 640, the other a multiple of 32), and exactly the distinct shapes of the images' letterboxes.
 * The engine cache is the Detector's, whatever the backend, so the CPU backend shows it here.
 */
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { Detector } from '../../engine/detector.js';
import { imagesInFolder } from '../../vision/files.js';
import { letterboxGeometry } from '../../vision/letterbox.js';
import { dataPath } from '../data.js';

/** The documented bound at imgsz 640: shapes 640 x 32k or 32k x 640, k = 1 … 20, less the one counted twice. */
const MAX_RECT_SHAPES_640 = 39;

describe('rect detection builds one engine per distinct letterbox shape', () => {
  it('over coco128: the distinct shapes of its images, at most 39', async () => {
    const images = await imagesInFolder(dataPath('coco128', 'images'));
    const expected = new Set<string>();
    for (const path of images) {
      const { width, height } = await sharp(path).metadata();
      const g = letterboxGeometry(width!, height!, { shape: 640, auto: true });
      expected.add(`${g.height}x${g.width}/1`);
    }
    await using detector = await Detector.load(dataPath('weights', 'yolov8n.pt'), { rect: true, threads: 1 });
    let done = 0;
    for await (const r of detector.detectEach(images)) if (!('error' in r)) done++;
    expect(done).toBe(images.length);
    expect(detector.engineKeys.sort()).toEqual([...expected].sort());
    expect(detector.engineKeys.length).toBeLessThanOrEqual(MAX_RECT_SHAPES_640);
  }, 240_000);
});
