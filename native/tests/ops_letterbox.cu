// Tests ops/letterbox bit for bit: against letterbox_ref.h (a C++ port of vision/resize-linear.ts
// and vision/letterbox.ts) on seeded random images (downscales, upscales, exact 2x, equal sizes,
// one-pixel and very narrow images, rect geometry), float32/float16/uint8 outputs, several images
// of different sizes in one launch; and against fixtures written by the TypeScript letterbox
// itself (scripts/fixtures/letterbox-gpu.ts, into .gpu/letterbox or $NETDEF_LETTERBOX_FIXTURES),
// which the port must also reproduce. Missing fixtures fail, naming the script.
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cuda/ops/letterbox.cuh"
#include "letterbox_ref.h"
#include "ops_test_util.h"

namespace ops_test {
namespace {

using netdef::cuda::ops::LetterboxParams;
using netdef::cuda::ops::LetterboxSlot;

constexpr uint32_t kSeed = 4242;
const DType kOutTypes[] = {DType::Float32, DType::Float16, DType::UInt8};

const char* outName(DType t) { return t == DType::Float32 ? "f32" : t == DType::Float16 ? "f16" : "u8"; }

struct Image {
  int width, height;
  std::vector<uint8_t> rgb;
};

Image randomImage(Rng& rng, int width, int height) {
  Image im{width, height, std::vector<uint8_t>(static_cast<size_t>(width) * height * 3)};
  // smooth gradients plus noise, and the extremes 0 and 255, so both weights matter
  for (int y = 0; y < height; ++y)
    for (int x = 0; x < width; ++x)
      for (int c = 0; c < 3; ++c) {
        const int64_t noise = rng.integer(-40, 40);
        int64_t v = (x * 255 / std::max(1, width - 1) + y * 97 / std::max(1, height - 1) + c * 60 + noise) % 300;
        if (rng.integer(0, 50) == 0) v = rng.integer(0, 1) * 255;
        im.rgb[(static_cast<size_t>(y) * width + x) * 3 + c] = static_cast<uint8_t>(std::min<int64_t>(255, std::max<int64_t>(0, v)));
      }
  return im;
}

struct Placed {
  Image image;
  letterbox_ref::Geometry g;
};

// Runs one launch over `images` into [n, 3, height, width] of `t`; returns the output bytes.
std::vector<uint8_t> runGpu(const std::vector<Placed>& images, int width, int height, DType t) {
  std::vector<uint8_t> bytes;
  std::vector<LetterboxSlot> slots;
  for (size_t b = 0; b < images.size(); ++b) {
    const Placed& p = images[b];
    LetterboxSlot s;
    s.srcOffset = bytes.size();
    s.srcWidth = p.image.width;
    s.srcHeight = p.image.height;
    s.unpadWidth = p.g.unpadWidth;
    s.unpadHeight = p.g.unpadHeight;
    s.padLeft = p.g.padLeft;
    s.padTop = p.g.padTop;
    s.batchIndex = static_cast<int32_t>(b);
    netdef::cuda::ops::checkLetterboxSlot(s, width, height, static_cast<int64_t>(images.size()), p.image.rgb.size() + bytes.size());
    bytes.insert(bytes.end(), p.image.rgb.begin(), p.image.rgb.end());
    slots.push_back(s);
  }
  std::vector<uint8_t> slotBytes(slots.size() * sizeof(LetterboxSlot));
  std::memcpy(slotBytes.data(), slots.data(), slotBytes.size());
  DeviceBuffer src(bytes), dslots(slotBytes);
  DeviceBuffer out(images.size() * 3 * static_cast<size_t>(width) * height * sizeOf(t));
  out.poison();
  LetterboxParams prm;
  prm.src = src.as<uint8_t>();
  prm.srcBytes = bytes.size();
  prm.slots = dslots.as<LetterboxSlot>();
  prm.count = static_cast<int32_t>(images.size());
  prm.out = out.get();
  prm.dtype = t;
  prm.width = width;
  prm.height = height;
  netdef::cuda::ops::launchLetterbox(prm, nullptr);
  syncDevice();
  return out.download();
}

std::vector<uint8_t> reference(const std::vector<Placed>& images, int width, int height, DType t) {
  std::vector<uint8_t> all;
  for (const Placed& p : images) {
    const auto hwc = letterbox_ref::letterboxHwc(p.image.rgb, p.image.width, p.image.height, p.g, width, height);
    const auto chw = letterbox_ref::toChw(hwc, width, height, t);
    all.insert(all.end(), chw.begin(), chw.end());
  }
  return all;
}

void singleCases(Rng& rng) {
  struct Case {
    int w, h, outH, outW;
    bool rect;
  };
  const Case cases[] = {
      {37, 23, 64, 64, false},   {810, 1080, 640, 640, false}, {640, 480, 640, 640, false}, {100, 75, 320, 320, false},
      {64, 64, 32, 32, false},   {1, 1, 32, 32, false},        {1, 57, 64, 64, false},      {2000, 3, 640, 640, false},
      {333, 517, 640, 640, true}, {517, 333, 640, 640, true},  {97, 131, 96, 128, false},
  };
  for (const Case& c : cases) {
    const Image im = randomImage(rng, c.w, c.h);
    const letterbox_ref::Geometry g = letterbox_ref::geometry(c.w, c.h, c.outH, c.outW, c.rect);
    for (DType t : kOutTypes) {
      const std::string name = "letterbox " + std::to_string(c.w) + "x" + std::to_string(c.h) + " -> " + std::to_string(g.width) + "x" +
                               std::to_string(g.height) + (c.rect ? " rect " : " ") + outName(t);
      runCase(name, [&] {
        const std::vector<Placed> one{{im, g}};
        checkBytes(name, runGpu(one, g.width, g.height, t), reference(one, g.width, g.height, t));
      });
    }
  }
}

void batchCase(Rng& rng) {
  const int width = 128, height = 96;
  std::vector<Placed> images;
  for (auto [w, h] : {std::pair{131, 97}, {40, 300}, {128, 96}, {7, 5}, {1000, 999}}) {
    Image im = randomImage(rng, w, h);
    images.push_back({std::move(im), letterbox_ref::geometry(w, h, height, width)});
  }
  for (DType t : kOutTypes) {
    const std::string name = std::string("letterbox batch of 5 sizes in one launch ") + outName(t);
    runCase(name, [&] { checkBytes(name, runGpu(images, width, height, t), reference(images, width, height, t)); });
  }
}

std::vector<uint8_t> readFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read " + path);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

// Fixtures from the TypeScript letterbox: cases.txt has one line per case,
// `name source srcW srcH targetH targetW rect outW outH unpadW unpadH padLeft padTop` (rect: 0 or 1,
// the letterbox's `auto`), with source.rgb (HWC) and name.f32/.f16/.u8 (CHW) beside it.
void fixtureCases() {
  const char* env = std::getenv("NETDEF_LETTERBOX_FIXTURES");
  const std::string dir = env ? env : ".gpu/letterbox";
  std::ifstream list(dir + "/cases.txt");
  if (!list) {
    record(false, "letterbox fixtures from TypeScript", "no " + dir + "/cases.txt: run `npx tsx scripts/fixtures/letterbox-gpu.ts` and carry .gpu");
    return;
  }
  std::string line;
  int cases = 0;
  while (std::getline(list, line)) {
    std::istringstream in(line);
    std::string name, source;
    Placed p;
    int targetH = 0, targetW = 0, rect = 0, outW = 0, outH = 0;
    if (!(in >> name >> source >> p.image.width >> p.image.height >> targetH >> targetW >> rect >> outW >> outH >> p.g.unpadWidth >> p.g.unpadHeight >>
          p.g.padLeft >> p.g.padTop)) {
      continue;
    }
    ++cases;
    const std::string label = "letterbox fixture " + name;
    runCase(label, [&] {
      const letterbox_ref::Geometry g = letterbox_ref::geometry(p.image.width, p.image.height, targetH, targetW, rect != 0);
      record(g.width == outW && g.height == outH && g.unpadWidth == p.g.unpadWidth && g.unpadHeight == p.g.unpadHeight &&
                 g.padLeft == p.g.padLeft && g.padTop == p.g.padTop,
             label + ": C++ geometry = TypeScript's", "");
      p.image.rgb = readFile(dir + "/" + source + ".rgb");
      const std::vector<Placed> one{p};
      for (DType t : kOutTypes) {
        const std::vector<uint8_t> ts = readFile(dir + "/" + name + "." + outName(t));
        checkBytes(label + " " + outName(t) + ": GPU = TypeScript", runGpu(one, outW, outH, t), ts);
        checkBytes(label + " " + outName(t) + ": C++ port = TypeScript", reference(one, outW, outH, t), ts);
      }
    });
  }
  record(cases > 0, "letterbox fixtures read", std::to_string(cases) + " cases from " + dir);
}

void errorCases() {
  LetterboxSlot s;
  s.srcWidth = 10;
  s.srcHeight = 10;
  s.unpadWidth = 60;
  s.unpadHeight = 64;
  s.padLeft = 5;
  expectError("letterbox refuses a resized image outside the input", netdef::kErrInvalidArgument,
              [&] { netdef::cuda::ops::checkLetterboxSlot(s, 64, 64, 1, 300); });
  s.padLeft = 0;
  expectError("letterbox refuses an image outside the source bytes", netdef::kErrInvalidArgument,
              [&] { netdef::cuda::ops::checkLetterboxSlot(s, 64, 64, 1, 299); });
  s.batchIndex = 1;
  expectError("letterbox refuses a batch index outside the batch", netdef::kErrInvalidArgument,
              [&] { netdef::cuda::ops::checkLetterboxSlot(s, 64, 64, 1, 300); });
  expectError("letterbox refuses an int8 output", netdef::kErrInvalidArgument, [&] {
    LetterboxParams p;
    p.width = p.height = 8;
    p.count = 1;
    p.src = reinterpret_cast<const uint8_t*>(&s);
    p.slots = &s;
    p.out = &s;
    p.dtype = DType::Int8;
    netdef::cuda::ops::launchLetterbox(p, nullptr);
  });
}

}  // namespace

void testLetterbox() {
  Rng rng(kSeed);
  singleCases(rng);
  batchCase(rng);
  fixtureCases();
  errorCases();
}

}  // namespace ops_test
