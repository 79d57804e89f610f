"""Photos of a need or of its service: JPEG or PNG only, size-capped, re-encoded as JPEG.

Re-encoding from the decoded pixels drops every byte of the upload except the picture itself:
EXIF (with the phone's GPS position), comments, and anything hidden after the image data.
"""

from io import BytesIO

from PIL import Image, ImageOps, UnidentifiedImageError

from wenming.core.errors import InvalidInput

MAX_BYTES = 5 * 1024 * 1024
MAX_PHOTOS = 3
MAX_SIDE = 1600
MAX_PIXELS = 40_000_000  # a "decompression bomb" (a tiny file of a huge picture) is refused before decoding


def clean_photo(raw: bytes) -> tuple[bytes, int, int]:
    """The re-encoded JPEG and its size, or InvalidInput with a Chinese reason."""
    if not isinstance(raw, (bytes, bytearray)) or not raw:
        raise InvalidInput("照片为空，请重新选择。", code="photo_invalid")
    if len(raw) > MAX_BYTES:
        raise InvalidInput(f"照片不能超过{MAX_BYTES // 1024 // 1024}MB。", code="photo_too_large")
    try:
        with Image.open(BytesIO(raw)) as probe:
            if probe.format not in ("JPEG", "PNG"):
                raise InvalidInput("照片只支持 JPG 或 PNG 格式。", code="photo_format")
            if probe.width * probe.height > MAX_PIXELS:
                raise InvalidInput("照片尺寸过大，请压缩后再上传。", code="photo_too_large")
            probe.verify()
        with Image.open(BytesIO(raw)) as image:
            image = ImageOps.exif_transpose(image)  # keep it upright once the orientation tag is gone
            image.thumbnail((MAX_SIDE, MAX_SIDE))
            if image.mode not in ("RGB", "L"):
                image = image.convert("RGB")
            out = BytesIO()
            image.save(out, "JPEG", quality=82, optimize=True)
            return out.getvalue(), image.width, image.height
    except InvalidInput:
        raise
    except Image.DecompressionBombError:  # Pillow's own guard, for a size claimed beyond even our check
        raise InvalidInput("照片尺寸过大，请压缩后再上传。", code="photo_too_large")
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InvalidInput("无法识别的图片文件，请上传 JPG 或 PNG 照片。", code="photo_invalid")


def clean_photos(raws) -> list[tuple[bytes, int, int]]:
    raws = [r for r in (raws or []) if r]
    if len(raws) > MAX_PHOTOS:
        raise InvalidInput(f"最多上传{MAX_PHOTOS}张照片。", code="photo_too_many")
    return [clean_photo(r) for r in raws]


def save_photos(need, raws, *, kind: str) -> None:
    from .models import NeedPhoto

    for data, width, height in clean_photos(raws):
        NeedPhoto.objects.create(need=need, kind=kind, image=data, width=width, height=height)
