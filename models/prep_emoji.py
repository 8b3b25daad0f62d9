#!/usr/bin/env python3
"""prep_emoji.py — the colour model's data: Noto Color Emoji glyphs at 32×32 RGB.

Renders every single-code-point glyph of Debian's fonts-noto-color-emoji
(/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf, a bitmap font drawn at
109 px) in the emoji blocks U+2190–U+2BFF and U+1F000–U+1FAFF, and the
five skin-tone ligatures of each where the font has them, with PIL (raqm),
over a white background, crops to the glyph's square box, and downsamples
to --size with a box filter.  Code points the font lacks (nothing drawn, or
the same bitmap as the font's missing glyph) are skipped.  Licence of the
glyphs: SIL Open Font License 1.1 (fonts/*), Copyright 2013-2017 Google Inc.
(/usr/share/doc/fonts-noto-color-emoji/copyright).

Writes OUT/u<CODEPOINT>[_<MODIFIER>].png (RGB, --size × --size) for each glyph and
OUT/manifest.json (font, its size, code points, count); OUT is then a data
folder for train_unet.py --data OUT --channels 3.
"""

import argparse
import hashlib
import json
import os
import sys

FONT = "/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf"
RANGES = [(0x2190, 0x2BFF), (0x1F000, 0x1FAFF)]
SKIN_TONES = range(0x1F3FB, 0x1F400)


def render(font, cp, canvas=320):
    from PIL import Image, ImageDraw
    im = Image.new("RGBA", (canvas, canvas), (0, 0, 0, 0))
    text = cp if isinstance(cp, str) else chr(cp)
    ImageDraw.Draw(im).text((canvas // 2, canvas // 2), text, font=font, embedded_color=True,
                            anchor="mm")
    box = im.getbbox()
    return im, box


def main():
    ap = argparse.ArgumentParser(description="Render Noto Color Emoji glyphs to SIZE×SIZE RGB "
                                 "PNGs over white. Writes OUT/u<codepoint>.png and "
                                 "OUT/manifest.json.")
    ap.add_argument("--out", required=True, help="output folder")
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--font", default=FONT)
    ap.add_argument("--no-skin-tones", dest="skin_tones", action="store_false",
                    help="leave out the five skin-tone variants (U+1F3FB-U+1F3FF ligatures)")
    a = ap.parse_args()
    from PIL import Image, ImageFont
    if not os.path.isfile(a.font):
        print(f"prep_emoji: {a.font}: missing (install Debian's fonts-noto-color-emoji)",
              file=sys.stderr)
        return 1
    font = ImageFont.truetype(a.font, 109)
    os.makedirs(a.out, exist_ok=True)
    missing_im, _ = render(font, 0xE000)  # a private-use code point: the font's missing glyph
    missing = hashlib.sha1(missing_im.tobytes()).hexdigest()
    done = []

    def glyphs():
        for lo, hi in RANGES:
            for cp in range(lo, hi + 1):
                im, box = render(font, cp)
                if box is None or hashlib.sha1(im.tobytes()).hexdigest() == missing:
                    continue
                yield [cp], im, box
                if not a.skin_tones:
                    continue
                for mod in SKIN_TONES:
                    im2, box2 = render(font, chr(cp) + chr(mod))
                    # a ligature draws one glyph; without one, two glyphs side by side
                    if box2 is None or box2[2] - box2[0] > 1.15 * (box[2] - box[0]) + 2:
                        continue
                    if im2.tobytes() == im.tobytes():
                        continue
                    yield [cp, mod], im2, box2

    for cps, im, box in glyphs():
        x0, y0, x1, y1 = box
        side = max(x1 - x0, y1 - y0)
        cx, cy = (x0 + x1) // 2, (y0 + y1) // 2
        sq = im.crop((cx - side // 2, cy - side // 2, cx - side // 2 + side, cy - side // 2 + side))
        bg = Image.new("RGBA", sq.size, (255, 255, 255, 255))
        rgb = Image.alpha_composite(bg, sq).convert("RGB").resize((a.size, a.size), Image.BOX)
        rgb.save(os.path.join(a.out, "u" + "_".join(f"{c:05X}" for c in cps) + ".png"))
        done.append(cps)
    with open(os.path.join(a.out, "manifest.json"), "w") as f:
        json.dump({"font": a.font, "font_px": 109, "size": a.size, "background": "white",
                   "licence": "SIL Open Font License 1.1, Copyright 2013-2017 Google Inc.",
                   "count": len(done),
                   "codepoints": [" ".join(f"U+{c:04X}" for c in cps) for cps in done]}, f, indent=1)
        f.write("\n")
    print(f"prep_emoji: {len(done)} glyphs -> {a.out}")
    return 0 if done else 1


if __name__ == "__main__":
    sys.exit(main())
