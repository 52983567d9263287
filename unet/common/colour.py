"""Colour images in a mode other than RGB, converted as a colour-managed viewer shows them."""

from __future__ import annotations

import io
import logging

from PIL import Image, ImageCms

log = logging.getLogger(__name__)

SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


def as_rgb(im: Image.Image) -> Image.Image:
    """`im` (CMYK, YCbCr, LAB, HSV, P, RGBA, ...) as RGB. A CMYK image with an embedded ICC
    profile (a press or scanner profile) goes through it to sRGB (littleCMS, the profile's
    perceptual intent): PIL's formula ignores the profile, and read a press file's 100 %
    cyan as (0, 255, 255) where viewers show about (0, 174, 239). RGB images keep their
    numbers whatever their profile (README: Images)."""
    icc = im.info.get("icc_profile")
    if im.mode != "CMYK" or not icc:
        return im.convert("RGB")
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        return ImageCms.profileToProfile(im, profile, SRGB, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError) as err:
        # A damaged profile: viewers fall back to the plain formula too
        log.warning("%s: its ICC profile cannot be read (%s); its CMYK colours are converted "
                    "without it", getattr(im, "filename", "") or "a CMYK image", err)
        return im.convert("RGB")
