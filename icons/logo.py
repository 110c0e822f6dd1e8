"""Draws icons/logo.png (1024x1024), the source of the icon set.

Two database cylinders with an arrow between them: an instance moving to a new home.
Regenerate the set with: python3 icons/logo.py && npx tauri icon icons/logo.png
"""

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 1024
SCALE = 4  # draw large, then downsample for smooth edges
BLUE = (22, 119, 255, 255)  # antd colorPrimary
PALE = (162, 200, 255, 255)  # white over the blue at 60 %: the old home
WHITE = (255, 255, 255, 255)


def cylinder(d: ImageDraw.ImageDraw, cx: int, top: int, w: int, h: int, fill) -> None:
    """A database drum: body plus top ellipse, with two band lines."""
    rx, ry = w // 2, w // 6
    d.rectangle([cx - rx, top + ry, cx + rx, top + h - ry], fill=fill)
    d.ellipse([cx - rx, top + h - 2 * ry, cx + rx, top + h], fill=fill)
    d.ellipse([cx - rx, top, cx + rx, top + 2 * ry], fill=fill)
    band = max(SCALE * 6, w // 28)
    for y in (top + h // 3, top + 2 * h // 3 - ry // 2):
        d.arc([cx - rx, y - ry, cx + rx, y + ry], 0, 180, fill=BLUE, width=band)
    d.arc([cx - rx, top, cx + rx, top + 2 * ry], 0, 180, fill=BLUE, width=band)


def main() -> None:
    s = SIZE * SCALE
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    margin = s // 16
    d.rounded_rectangle([margin, margin, s - margin, s - margin], radius=s // 5, fill=BLUE)

    w, h, top = s // 4, s * 38 // 100, s * 31 // 100
    cylinder(d, s * 29 // 100, top, w, h, PALE)
    cylinder(d, s * 71 // 100, top, w, h, WHITE)

    # Arrow from the old home to the new one.
    y = top + h // 2
    x0, tip = s * 435 // 1000, s * 57 // 100
    thick = s // 36
    head = 3 * thick
    d.rectangle([x0, y - thick, tip - head, y + thick], fill=WHITE)
    d.polygon([(tip - head, y - head), (tip, y), (tip - head, y + head)], fill=WHITE)

    out = Path(__file__).with_name("logo.png")
    img.resize((SIZE, SIZE), Image.LANCZOS).save(out)
    print(out)


if __name__ == "__main__":
    main()
